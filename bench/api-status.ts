/**
 * Benchmark, not a test: status requests per second. The API runs in its own process
 * (`synthline serve`) against a private redis-server holding one job; a client process fires
 * `GET /v1/jobs/:id` with 32 requests in flight for 10 s over loopback.
 *   npm run bench:api
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { freePort, startPrivateRedis } from '@synthline/cli/private-redis';

const CLI = fileURLToPath(new URL('../apps/cli/bin/synthline.js', import.meta.url));
const redis = await startPrivateRedis({ appendonly: false });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const api = execa('node', [CLI, 'serve'], {
  all: true,
  env: { ...process.env, REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MIN: '1000000' },
  reject: false,
});
for (;;) {
  if ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok) break;
  if (api.exitCode !== null) throw new Error(`the API did not start: ${String((await api).all)}`);
  await new Promise((r) => setTimeout(r, 100));
}
const { id } = (await (
  await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"count": 1000}' })
).json()) as { id: string };
const latencies: number[] = [];
const end = performance.now() + 10_000;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const res = await fetch(`${base}/v1/jobs/${id}`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(performance.now() - t);
    }
  }),
);
latencies.sort((a, b) => a - b);
console.log(
  `GET /v1/jobs/:id, 32 in flight, 10 s: ${(latencies.length / 10).toFixed(0)} requests/s, latency p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(1)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1)} ms`,
);
api.kill('SIGTERM');
await api;
await redis.dispose();
