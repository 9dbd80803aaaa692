/**
 * Benchmark, not a test: renders the same frames three ways at 128x128 / 16 samples and prints
 * frames/s for each, measured side by side in one run, alternating order over several rounds:
 *   synthline        `renderDataset`: one warm Blender, plans over the pipe, sensor effects,
 *                    encoding, labels and shards, all included;
 *   plain loop       blender-scripts/bench_loop.py: the same scene code in one Blender, plans
 *                    read from a file, images written, nothing else;
 *   one per frame    a new Blender for every frame (same script, one plan per process);
 *   service          the same job submitted over REST to the API, rendered by one worker
 *                    (private Redis, API and worker in this process), until `completed`
 *                    (batches, fragments and finalize included).
 * Wall time of each includes starting Blender. Usage:
 *   npm run bench -- [--frames 48] [--rounds 3] [--per-frame 6]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { parseSpec } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { findBlender } from '@synthline/blender';
import { renderDataset } from '@synthline/pipeline';
import { startPrivateRedis } from '@synthline/cli/private-redis';
import { startApi } from '@synthline/api';
import { startWorker } from '@synthline/worker';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '48' },
    rounds: { type: 'string', default: '3' },
    'per-frame': { type: 'string', default: '6' },
    out: { type: 'string' },
  },
});
const frames = Number(values.frames);
const rounds = Number(values.rounds);
const perFrame = Number(values['per-frame']);
const LOOP = fileURLToPath(new URL('../blender-scripts/bench_loop.py', import.meta.url));
const blender = findBlender();
const spec = parseSpec({
  name: 'bench',
  seed: 5,
  count: frames,
  render: { resolution: [128, 128], samples: 16 },
  output: { shard_size: 1000 },
});
const root = join(tmpdir(), `synthline-bench-${process.pid}`);

async function writePlans(file: string, indices: number[], outDir: string) {
  const lines = indices.map((i) => {
    const p = plan(spec, i);
    return JSON.stringify({ ...p, outputs: { image: join(outDir, `${p.key}.png`), mask: null } });
  });
  await writeFile(file, `${lines.join('\n')}\n`);
}

async function blenderLoop(plansFile: string, outDir: string) {
  await execa(blender, [
    '-b',
    '--factory-startup',
    '-Y',
    '--python-exit-code',
    '3',
    '--python',
    LOOP,
    '--',
    '--plans',
    plansFile,
    '--out',
    outDir,
  ]);
}

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const all = Array.from({ length: frames }, (_, i) => i);
const results: Record<string, number[]> = { service: [], synthline: [], plain_loop: [], one_per_frame: [] };
/** The service end to end: a private Redis, the API and one worker in this process, the job submitted over HTTP. */
async function service(dir: string): Promise<number> {
  const redis = await startPrivateRedis({ appendonly: true });
  const env = { REDIS_URL: redis.url, SYNTHLINE_OUTPUT: dir, PORT: '0', LOG_LEVEL: 'silent', WORKER_SLOTS: '1' };
  const api = await startApi(loadApiEnv(env));
  const worker = await startWorker(loadWorkerEnv(env));
  try {
    const seconds = await timeIt(async () => {
      const res = await fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      const { id } = (await res.json()) as { id: string };
      // Wait as a client does (`synthline watch`): on the job's event stream, until `end`.
      const events = await fetch(`${api.url}/v1/jobs/${id}/events`);
      const text = await events.text();
      const last = text.trim().split('\n\n').pop() ?? '';
      if (!/^event: end$/m.test(last) || !/"status":"completed"/.test(last)) throw new Error(`job did not complete: ${last.slice(0, 200)}`);
    });
    return frames / seconds;
  } finally {
    await worker.close();
    await api.close();
    await redis.dispose();
  }
}

const ways: Record<string, (dir: string) => Promise<number>> = {
  service,
  synthline: async (dir) => frames / (await timeIt(async () => void (await renderDataset({ spec, outDir: dir, overwrite: true })))),
  plain_loop: async (dir) => {
    const file = join(dir, 'plans.jsonl');
    await mkdir(dir, { recursive: true });
    await writePlans(file, all, dir);
    return frames / (await timeIt(() => blenderLoop(file, dir)));
  },
  one_per_frame: async (dir) => {
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const i of all.slice(0, perFrame)) {
      const f = join(dir, `plan-${i}.jsonl`);
      await writePlans(f, [i], dir);
      files.push(f);
    }
    return (
      perFrame /
      (await timeIt(async () => {
        for (const f of files) await blenderLoop(f, dir);
      }))
    );
  },
};

for (let round = 0; round < rounds; round++) {
  const order = Object.keys(ways);
  if (round % 2 === 1) order.reverse();
  for (const name of order) {
    const dir = join(root, `${name}-${round}`);
    const way = ways[name];
    if (!way) continue;
    const fps = await way(dir);
    (results[name] ??= []).push(fps);
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${fps.toFixed(2)} frames/s\n`);
  }
}
await rm(root, { recursive: true, force: true });

const med = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const report = {
  date: new Date().toISOString(),
  setup: {
    frames,
    rounds,
    per_frame_frames: perFrame,
    resolution: [128, 128],
    samples: 16,
    cores: (await import('node:os')).cpus().length,
  },
  frames_per_s: results,
  median_frames_per_s: med,
  service_vs_plain_loop: (med.service ?? 0) / (med.plain_loop ?? 1),
  synthline_vs_plain_loop: (med.synthline ?? 0) / (med.plain_loop ?? 1),
  synthline_vs_one_per_frame: (med.synthline ?? 0) / (med.one_per_frame ?? 1),
};
console.log(`\nframes/s at 128x128, 16 samples (median of ${rounds} rounds)`);
console.log(`  service (REST)   ${med.service?.toFixed(2)}`);
console.log(`  synthline        ${med.synthline?.toFixed(2)}`);
console.log(`  plain loop       ${med.plain_loop?.toFixed(2)}`);
console.log(`  one per frame    ${med.one_per_frame?.toFixed(2)}`);
console.log(`  service / plain loop        ${report.service_vs_plain_loop.toFixed(3)}`);
console.log(`  synthline / plain loop      ${report.synthline_vs_plain_loop.toFixed(3)}`);
console.log(`  synthline / one per frame   ${report.synthline_vs_one_per_frame.toFixed(2)}`);
if (values.out) await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
