import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { Manifest, parseSpec, type ShardEntry } from '@synthline/spec';
import { JobView } from '@synthline/api';
import { freePort, startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { renderDataset } from '@synthline/pipeline';
import { verifyDataset } from '@synthline/shards';
import { CLI, ROOT, tempDir, tinySpec } from './helpers.ts';

// Faults with real processes: workers and the API run as `synthline worker` / `synthline serve`
// processes killed for real, Blender is killed for real, Redis (AOF on, as the docs say) is
// restarted, and the output volume is a tiny tmpfs that fills up.
const FAULTY_WORKER = join(ROOT, 'test/fixtures/faulty-worker.ts');
let redis: PrivateRedis;
let expected: ShardEntry[];
const procs: ResultPromise[] = [];
const spec = tinySpec({ name: 'faults', seed: 21, count: 24, render: { resolution: [64, 48], samples: 4 }, output: { shard_size: 10 } });
let n = 0;

before(async () => {
  redis = await startPrivateRedis({ appendonly: true });
  // The undisturbed run every faulty one must equal, byte for byte.
  expected = (await renderDataset({ spec: parseSpec(spec), outDir: await tempDir('synthline-ref-') })).manifest.shards;
});
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.allSettled(procs);
  await redis.dispose();
});

interface Stack {
  env: Record<string, string>;
  api: string;
  out: string;
  apiProc?: { proc: ResultPromise };
}

async function stack(extra: Record<string, string> = {}): Promise<Stack> {
  const out = extra.SYNTHLINE_OUTPUT ?? (await tempDir('synthline-faults-'));
  const env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `f${process.pid}x${n++}`,
    SYNTHLINE_OUTPUT: out,
    SYNTHLINE_BATCH_SIZE: '4',
    SYNTHLINE_BATCH_WINDOW: '3',
    LOCK_DURATION_MS: '4000',
    BLENDER_THREADS: '1',
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const port = String(await freePort());
  const s: Stack = { env: { ...env, PORT: port }, api: `http://127.0.0.1:${port}`, out };
  s.apiProc = await startApiProcess(s);
  return s;
}

/** Runs the CLI with `args`, or with `script` a TypeScript file of the tests' own. */
function spawn(args: string[], env: Record<string, string>, script?: string): ResultPromise {
  const p = execa('node', script ? ['--import', 'tsx', script, ...args] : [CLI, ...args], {
    env: { ...process.env, ...env },
    reject: false,
    all: true,
  });
  procs.push(p);
  return p;
}

/** Starts `synthline serve`; wrapped, since an async function would await a subprocess it returns. */
async function startApiProcess(s: Stack): Promise<{ proc: ResultPromise }> {
  const proc = spawn(['serve'], s.env);
  await until('the API to answer', async () => (await fetch(`${s.api}/healthz`).catch(() => undefined))?.ok);
  return { proc };
}

const worker = (s: Stack, extra: Record<string, string> = {}) => spawn(['worker'], { ...s.env, WORKER_ID: `w${n++}`, ...extra });
/** A worker process with faults injected (see fixtures/faulty-worker.ts), e.g. `--fail-batches`. */
const faultyWorker = (s: Stack, faults: string[], extra: Record<string, string> = {}) =>
  spawn(faults, { ...s.env, WORKER_ID: `w${n++}`, ...extra }, FAULTY_WORKER);

async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(s: Stack, body: unknown = spec): Promise<string> {
  const res = await fetch(`${s.api}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

const view = async (s: Stack, id: string) => JobView.parse(await (await fetch(`${s.api}/v1/jobs/${id}`)).json());
const finished = (s: Stack, id: string) =>
  until(`job ${id} to finish`, async () => {
    const v = await view(s, id);
    return ['completed', 'failed', 'cancelled'].includes(v.status) ? v : undefined;
  });

async function shardsOf(v: JobView): Promise<ShardEntry[]> {
  const dir = fileURLToPath(v.output?.uri ?? '');
  const report = await verifyDataset(dir);
  assert.ok(report.ok, report.problems.join('\n'));
  return Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'))).shards;
}

test('a worker killed with SIGKILL mid-batch: the job completes with the same bytes as an undisturbed run', async () => {
  const s = await stack();
  const a = worker(s);
  const id = await submit(s);
  await until('frames to render', async () => (await view(s, id)).progress.frames_done > 0);
  a.kill('SIGKILL');
  assert.equal((await a).signal, 'SIGKILL');
  worker(s); // its stalled-job check takes the dead worker's batch once its lock expires
  const v = await finished(s, id);
  assert.equal(v.status, 'completed', JSON.stringify(v.error));
  assert.deepEqual(await shardsOf(v), expected);
});

test('Blender killed mid-frame: the slot restarts it and the job completes, nothing lost', async () => {
  const s = await stack();
  const w = worker(s);
  const id = await submit(s);
  const blender = await until('a Blender under the worker', async () => {
    await view(s, id);
    const out = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.includes('render_server.py') && l.trim().split(/\s+/)[1] === String(w.pid));
    return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
  });
  await until('frames to render', async () => (await view(s, id)).progress.frames_done > 0);
  process.kill(blender, 'SIGKILL');
  const v = await finished(s, id);
  assert.equal(v.status, 'completed');
  assert.equal(v.progress.frames_failed, 0);
  assert.deepEqual(await shardsOf(v), expected);
});

test('a frame that crashes Blender every time is counted failed with the error; the rest completes', async () => {
  const s = await stack();
  faultyWorker(s, ['--crash-frames', '5']);
  const id = await submit(s, { ...spec, output: { ...spec.output, max_failed_fraction: 0.1 } });
  const v = await finished(s, id);
  assert.equal(v.status, 'completed', JSON.stringify(v.error));
  assert.equal(v.progress.frames_failed, 1);
  assert.equal(v.progress.frames_done, 23);
  assert.equal(v.failures[0]?.index, 5);
  assert.match(v.failures[0]?.error ?? '', /Blender (killed by SIGABRT|exited)/);
  const m = Manifest.parse(JSON.parse(await readFile(join(fileURLToPath(v.output?.uri ?? ''), 'dataset.json'), 'utf8')));
  assert.deepEqual(
    m.frames.failed.map((f) => f.index),
    [5],
  );
  assert.ok((await verifyDataset(fileURLToPath(v.output?.uri ?? ''))).ok);
});

test('Redis restarted mid-job (AOF on): workers and API reconnect and the job completes', async () => {
  const s = await stack();
  worker(s);
  const id = await submit(s);
  await until('frames to render', async () => (await view(s, id)).progress.frames_done > 0);
  await redis.restart();
  const v = await finished(s, id);
  assert.equal(v.status, 'completed', JSON.stringify(v.error));
  assert.deepEqual(await shardsOf(v), expected);
});

test('the API restarted mid-job: nothing is lost and its status is right afterwards', async () => {
  const s = await stack();
  worker(s);
  const id = await submit(s);
  await until('frames to render', async () => (await view(s, id)).progress.frames_done > 0);
  s.apiProc?.proc.kill('SIGTERM');
  assert.equal((await s.apiProc?.proc)?.exitCode, 0, 'the API shuts down gracefully');
  await assert.rejects(fetch(`${s.api}/healthz`), 'it is gone');
  s.apiProc = await startApiProcess(s);
  const v = await finished(s, id);
  assert.equal(v.status, 'completed');
  assert.equal(v.progress.frames_done, 24);
  assert.deepEqual(await shardsOf(v), expected);
});

test('a worker that keeps failing a job stops taking its batches after 3 failures; another finishes it', async () => {
  const s = await stack();
  faultyWorker(s, ['--fail-batches'], { WORKER_ID: 'broken-gpu' });
  const id = await submit(s);
  const noted = await until('the broken worker to give up on the job', async () =>
    (await view(s, id)).notes.find((x) => x.includes('broken-gpu')),
  );
  assert.match(noted, /worker broken-gpu stopped taking this job's batches after 3 failures; last: simulated GPU failure/);
  worker(s, { WORKER_ID: 'healthy' });
  const v = await finished(s, id);
  assert.equal(v.status, 'completed', JSON.stringify(v.error));
  assert.ok(
    v.notes.some((x) => x.includes('broken-gpu')),
    'the job records why',
  );
  assert.deepEqual(await shardsOf(v), expected);
});

test('the output volume full: the job fails with a clear error, and no shard or manifest is left', async () => {
  const mnt = await tempDir('synthline-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', mnt]);
  try {
    const out = join(mnt, 'jobs');
    await mkdir(out);
    const s = await stack({ SYNTHLINE_OUTPUT: out });
    worker(s);
    const id = await submit(s, {
      ...spec,
      name: 'full',
      count: 60,
      render: { resolution: [256, 256], samples: 2 },
      sensor: { noise_sigma: 0.05 },
    });
    const v = await finished(s, id);
    assert.equal(v.status, 'failed');
    assert.equal(v.error?.code, 'OUTPUT_FULL');
    assert.match(v.error?.message ?? '', /output volume is full \(ENOSPC\)/);
    const left = existsSync(join(out, id)) ? await readdir(join(out, id), { recursive: true }) : [];
    assert.deepEqual(
      left.filter((f) => String(f).endsWith('.tar') || String(f).endsWith('dataset.json')),
      [],
      `left behind: ${left.join(', ')}`,
    );
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await Promise.allSettled(procs);
    execFileSync('umount', ['-l', mnt]);
  }
});
