/**
 * Benchmark, not a test: how long submitting a job takes and how much Redis memory it holds,
 * for jobs of 1,000 to 1,000,000 frames, against a private redis-server. Submission goes
 * through the REST API (real HTTP) as a client would.
 *   npm run bench:queue
 */
import { loadApiEnv } from '@synthline/config';
import { parseSpec } from '@synthline/spec';
import { createRedis } from '@synthline/queue';
import { startPrivateRedis } from '@synthline/cli/private-redis';
import { startApi } from '@synthline/api';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const redis = await startPrivateRedis();
const conn = createRedis(redis.url);
const api = await startApi(
  loadApiEnv({ REDIS_URL: redis.url, PORT: '0', SYNTHLINE_OUTPUT: join(tmpdir(), 'synthline-bench-queue'), LOG_LEVEL: 'silent' }),
);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1] ?? 0);

const rows: { frames: number; submit_ms: number[]; redis_bytes: number }[] = [];
for (const frames of [1_000, 10_000, 100_000, 1_000_000]) {
  const times: number[] = [];
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    await conn.flushdb();
    const before = await usedMemory();
    const t = performance.now();
    const res = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(parseSpec({ count: frames })),
    });
    times.push(performance.now() - t);
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
    bytes = (await usedMemory()) - before;
  }
  rows.push({ frames, submit_ms: times, redis_bytes: bytes });
}
await api.close();
conn.disconnect();
await redis.dispose();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log('frames       submit (median of 3)   Redis memory held by the job');
for (const r of rows)
  console.log(
    `${String(r.frames).padStart(9)}    ${median(r.submit_ms).toFixed(1).padStart(8)} ms          ${(r.redis_bytes / 1024).toFixed(1)} KiB`,
  );
