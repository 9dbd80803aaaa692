import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { WorkerList } from '@synthline/jobs';
import { JobView } from '@synthline/api';
import { freePort, startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { hashToken, startApi, type RunningApi } from '@synthline/api';
import { loadApiEnv } from '@synthline/config';
import { verifyDataset } from '@synthline/shards';
import { CLI, cli, tempDir, tinySpec } from './helpers.ts';

// The fleet as an operator sees it: an API and two `synthline worker` processes on a private
// Redis, the worker registry (GET /v1/workers, `synthline workers`), Prometheus metrics on the
// API and on each worker, and a worker killed with SIGKILL turning `lost` while the other one
// finishes the job.

const TOKEN = 'sl_fleet-test-token';
const HEARTBEAT_MS = 400;
const LOST_AFTER = 3; // heartbeats
let redis: PrivateRedis;
let api: RunningApi;
const procs: ResultPromise[] = [];
const workers: { id: string; port: number; proc: ResultPromise }[] = [];
let env: Record<string, string>;

const spec = tinySpec({ name: 'fleet', seed: 5, count: 60, render: { resolution: [64, 48], samples: 4 }, output: { shard_size: 16 } });

async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 120_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };
const getWorkers = async () => {
  const res = await fetch(`${api.url}/v1/workers`, { headers: auth });
  assert.equal(res.status, 200, await res.clone().text());
  return WorkerList.parse(await res.json());
};
const getJob = async (id: string) => JobView.parse(await (await fetch(`${api.url}/v1/jobs/${id}`, { headers: auth })).json());
const text = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
};
/** The value of the one sample line starting with `series` (name and labels as written). */
const sample = (body: string, series: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

before(async () => {
  redis = await startPrivateRedis();
  const out = await tempDir('synthline-fleet-');
  env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `fleet${process.pid}`,
    SYNTHLINE_OUTPUT: out,
    SYNTHLINE_BATCH_SIZE: '3',
    SYNTHLINE_BATCH_WINDOW: '4',
    LOCK_DURATION_MS: '4000',
    BLENDER_THREADS: '1',
    HEARTBEAT_MS: String(HEARTBEAT_MS),
    LOG_LEVEL: 'warn',
  };
  api = await startApi(
    loadApiEnv({
      ...env,
      PORT: '0',
      LOG_LEVEL: 'silent',
      SYNTHLINE_API_KEYS: `fleet:${hashToken(TOKEN)}`,
      WORKER_LOST_AFTER_HEARTBEATS: String(LOST_AFTER),
    }),
  );
  for (const id of ['fleet-a', 'fleet-b']) {
    const port = await freePort();
    const proc = execa('node', [CLI, 'worker'], {
      env: { ...process.env, ...env, WORKER_ID: id, WORKER_HTTP_PORT: String(port) },
      reject: false,
      all: true,
    });
    procs.push(proc);
    workers.push({ id, port, proc });
  }
  await until(
    'both workers to answer /healthz',
    async () => {
      const ok = await Promise.all(
        workers.map(async (w) => (await fetch(`http://127.0.0.1:${w.port}/healthz`).catch(() => undefined))?.status === 200),
      );
      return ok.every(Boolean);
    },
    60_000,
  );
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await Promise.allSettled(procs);
  await api?.close();
  await redis?.dispose();
});

test('two worker processes: registry, metrics on the API and each worker, a SIGKILLed worker turns lost, the job completes', async () => {
  const [a, b] = workers as [(typeof workers)[0], (typeof workers)[0]];

  // Same auth as the rest of /v1; with keys, /metrics and the docs need one too (unless opened).
  assert.equal((await fetch(`${api.url}/v1/workers`)).status, 401);
  assert.equal((await fetch(`${api.url}/metrics`)).status, 401);
  const doc = (await (await fetch(`${api.url}/docs/json`, { headers: auth })).json()) as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/v1/workers'], 'GET /v1/workers is in the OpenAPI document');
  assert.ok(doc.paths['/metrics'], 'GET /metrics is in the OpenAPI document');

  const submitted = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify(spec),
  });
  assert.equal(submitted.status, 202, await submitted.clone().text());
  const { id } = (await submitted.json()) as { id: string };

  // While the job runs: both workers live in the registry, each with its slot and device, and both rendering.
  const during = await until('both workers to render frames of the job', async () => {
    const list = await getWorkers();
    const ours = list.items.filter((w) => w.id === a.id || w.id === b.id);
    return ours.length === 2 && ours.every((w) => w.frames_rendered > 0 && w.status === 'live') ? list : undefined;
  });
  const jobNow = await getJob(id);
  assert.equal(jobNow.status, 'running', 'the job is still running while we look');
  assert.equal(during.live, 2);
  for (const w of during.items) {
    assert.equal(w.status, 'live');
    assert.ok(w.host.length > 0);
    assert.ok(w.pid > 0);
    assert.equal(w.slots.length, 1);
    const slot = w.slots[0];
    assert.equal(slot?.index, 0);
    assert.equal(typeof slot?.device, 'string', 'each slot reports its device (empty while the slot has none)');
    assert.match(slot?.blender_version ?? '', /^\d+\.\d+/);
    assert.ok(w.frames_per_s > 0, `${w.id} reports a frame rate`);
    assert.equal(w.lost_after_s, (LOST_AFTER * HEARTBEAT_MS) / 1000);
    assert.ok(w.started_at);
  }
  const busy = await until('a slot to show the batch it renders', async () => {
    const list = await getWorkers();
    return list.items.flatMap((w) => w.slots).find((s) => s.state === 'busy');
  });
  assert.equal(busy.batch?.job, id);
  assert.ok((busy.batch?.frames_total ?? 0) > 0);

  // The API's /metrics: both workers, the queue depth, jobs by status, process metrics.
  const apiMetrics = await text(`${api.url}/metrics`, auth);
  assert.equal(apiMetrics.status, 200);
  assert.match(apiMetrics.type, /^text\/plain/);
  for (const w of [a, b]) {
    assert.match(apiMetrics.body, new RegExp(`^synthline_worker_up\\{worker="${w.id}",host="[^"]+"\\} 1$`, 'm'));
    assert.equal(sample(apiMetrics.body, `synthline_worker_slots{worker="${w.id}"}`), 1);
    assert.ok((sample(apiMetrics.body, `synthline_worker_frames_total{worker="${w.id}"}`) ?? 0) > 0);
    assert.ok(sample(apiMetrics.body, `synthline_worker_frames_per_second{worker="${w.id}"}`) !== undefined);
  }
  for (const state of ['waiting', 'active', 'delayed']) {
    assert.ok(sample(apiMetrics.body, `synthline_queue_depth{queue="render",state="${state}"}`) !== undefined, `render queue ${state}`);
  }
  assert.ok(
    (sample(apiMetrics.body, 'synthline_queue_depth{queue="render",state="active"}') ?? 0) +
      (sample(apiMetrics.body, 'synthline_queue_depth{queue="render",state="waiting"}') ?? 0) >
      0,
    'batches are queued or running',
  );
  assert.equal(sample(apiMetrics.body, 'synthline_jobs{status="running"}'), 1);
  assert.equal(sample(apiMetrics.body, 'synthline_workers{status="live"}'), 2);
  assert.equal(sample(apiMetrics.body, 'synthline_redis_up'), 1);
  assert.match(apiMetrics.body, /^process_cpu_seconds_total /m);

  // Each worker's own /metrics: frames rendered and the render-seconds histogram.
  for (const w of [a, b]) {
    const m = await text(`http://127.0.0.1:${w.port}/metrics`);
    assert.equal(m.status, 200);
    assert.ok((sample(m.body, `synthline_worker_frames_rendered_total{result="ok",worker="${w.id}"}`) ?? 0) > 0, m.body.slice(0, 2000));
    assert.equal(sample(m.body, `synthline_worker_frames_rendered_total{result="failed",worker="${w.id}"}`), 0);
    const count = sample(m.body, `synthline_worker_frame_render_seconds_count{worker="${w.id}"}`) ?? 0;
    assert.ok(count > 0);
    assert.equal(sample(m.body, `synthline_worker_frame_render_seconds_bucket{le="+Inf",worker="${w.id}"}`), count);
    assert.ok((sample(m.body, `synthline_worker_frame_render_seconds_sum{worker="${w.id}"}`) ?? 0) > 0);
    assert.equal(sample(m.body, `synthline_worker_slots{worker="${w.id}"}`), 1);
    assert.ok(sample(m.body, `synthline_queue_depth{queue="render",state="waiting",worker="${w.id}"}`) !== undefined);
    assert.equal(sample(m.body, `synthline_worker_blender_restarts_total{worker="${w.id}"}`), 0);
    assert.match(m.body, /^process_resident_memory_bytes \d+$/m);
    const h = await text(`http://127.0.0.1:${w.port}/healthz`);
    assert.equal(h.status, 200);
    assert.equal((await text(`http://127.0.0.1:${w.port}/nope`)).status, 404);
  }

  // SIGKILL worker a: no goodbye, so the registry notices by its silence.
  const bFramesAtKill = (await getWorkers()).items.find((w) => w.id === b.id)?.frames_rendered ?? 0;
  a.proc.kill('SIGKILL');
  const killedAt = Date.now();
  assert.equal((await a.proc).signal, 'SIGKILL');
  const atKill = await getJob(id);
  assert.ok(
    atKill.status === 'running' && atKill.progress.frames_done < spec.count,
    `the job still has frames to render (${atKill.progress.frames_done}/${spec.count})`,
  );
  const lost = await until(
    'worker a to be marked lost',
    async () => {
      const list = await getWorkers();
      const w = list.items.find((x) => x.id === a.id);
      return w?.status === 'lost' ? list : undefined;
    },
    20_000,
    50,
  );
  const tookMs = Date.now() - killedAt;
  process.stderr.write(`# worker a marked lost ${tookMs} ms after SIGKILL (threshold ${LOST_AFTER * HEARTBEAT_MS} ms)\n`);
  assert.ok(tookMs >= LOST_AFTER * HEARTBEAT_MS - HEARTBEAT_MS, `not lost before the threshold (${tookMs} ms)`);
  assert.ok(tookMs < LOST_AFTER * HEARTBEAT_MS + 5000, `lost soon after the threshold (${tookMs} ms)`);
  assert.equal(lost.items.find((x) => x.id === b.id)?.status, 'live', 'the other worker stays live');
  assert.deepEqual(
    lost.items.map((w) => w.id),
    [b.id, a.id],
    'live first, then lost; the lost one stays listed',
  );
  const lostOnly = (await (await fetch(`${api.url}/v1/workers?status=lost`, { headers: auth })).json()) as WorkerList;
  assert.deepEqual(
    lostOnly.items.map((w) => w.id),
    [a.id],
  );
  const afterKill = await text(`${api.url}/metrics`, auth);
  assert.match(afterKill.body, new RegExp(`^synthline_worker_up\\{worker="${a.id}",host="[^"]+"\\} 0$`, 'm'));
  assert.equal(sample(afterKill.body, 'synthline_workers{status="lost"}'), 1);
  assert.equal(
    await fetch(`http://127.0.0.1:${a.port}/healthz`).then(
      () => 'answered',
      () => 'gone',
    ),
    'gone',
  );

  // `synthline workers` prints both, a table and JSON.
  const table = await cli(['workers', '--api', api.url, '--api-key', TOKEN]);
  assert.equal(table.code, 0, table.all);
  assert.match(table.stdout, /^WORKER\s+STATUS\s+HOST/m);
  assert.match(table.stdout, new RegExp(`^${b.id}\\s+live\\s`, 'm'));
  assert.match(table.stdout, new RegExp(`^${a.id}\\s+lost\\s`, 'm'));
  assert.match(table.stdout, /^ {2}slot 0 /m);
  assert.match(table.stdout, /1 live, 1 lost/);
  const json = await cli(['workers', '--json', '--api', api.url], { SYNTHLINE_API_KEY: TOKEN });
  assert.equal(json.code, 0, json.all);
  assert.deepEqual(
    WorkerList.parse(JSON.parse(json.stdout)).items.map((w) => [w.id, w.status]),
    [
      [b.id, 'live'],
      [a.id, 'lost'],
    ],
  );
  assert.equal((await cli(['workers', '--api', api.url])).code, 2, 'without the key: 401, a usage error');

  // The job still completes, on worker b.
  const done = await until(
    'the job to finish',
    async () => {
      const v = await getJob(id);
      return ['completed', 'failed', 'cancelled'].includes(v.status) ? v : undefined;
    },
    180_000,
  );
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.progress.frames_done, spec.count);
  assert.equal(done.progress.frames_failed, 0);
  const report = await verifyDataset(fileURLToPath(done.output?.uri ?? ''));
  assert.ok(report.ok, report.problems.join('\n'));
  const bAfter = (await getWorkers()).items.find((w) => w.id === b.id);
  assert.ok((bAfter?.batches_rendered ?? 0) > 0);
  assert.ok((bAfter?.frames_rendered ?? 0) > bFramesAtKill, 'worker b rendered the rest');

  // A worker that stops cleanly leaves the registry at once.
  b.proc.kill('SIGTERM');
  assert.equal((await b.proc).exitCode, 0);
  const final = await getWorkers();
  assert.deepEqual(
    final.items.map((w) => [w.id, w.status]),
    [[a.id, 'lost']],
  );
});
