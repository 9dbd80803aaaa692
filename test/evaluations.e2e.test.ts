// Evaluations over REST (issue 14, item 5): a real Redis, the API, a real worker with Debian's
// PyTorch and the Python runner, and a tiny real render to evaluate; a second deployment (its own
// prefix) whose only worker has a Python without torch, where an evaluation says no worker can run it.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import sharp from 'sharp';
import { EvaluationPage, EvaluationView, JobView, Problem, startApi, type RunningApi } from '@synthline/api';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { JobQueue, createRedis } from '@synthline/queue';
import { startWorker, type RunningWorker } from '@synthline/worker';
import type { Redis } from 'ioredis';
import { tempDir, tinySpec, until } from './helpers.ts';

let redis: PrivateRedis;
let api: RunningApi;
let worker: RunningWorker;
/** The deployment whose only worker has no PyTorch. */
let bare: { api: RunningApi; worker: RunningWorker; queue: JobQueue; redis: Redis };
let out: string;
let realRoot: string;

before(async () => {
  redis = await startPrivateRedis({ appendonly: false });
  out = await tempDir('synthline-evals-');
  realRoot = await tempDir('synthline-evals-real-');
  // A small real photo set: two classes of flat colours.
  for (const [cls, rgb] of [
    ['red', { r: 200, g: 30, b: 30 }],
    ['blue', { r: 30, g: 30, b: 200 }],
  ] as const) {
    await mkdir(join(realRoot, 'photos', cls), { recursive: true });
    for (let i = 0; i < 3; i++)
      await sharp({ create: { width: 24, height: 24, channels: 3, background: { ...rgb, g: rgb.g + 20 * i } } })
        .png()
        .toFile(join(realRoot, 'photos', cls, `p${i}.png`));
  }
  const env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `evals${process.pid}`,
    SYNTHLINE_OUTPUT: out,
    SYNTHLINE_REAL: realRoot,
    PORT: '0',
    LOG_LEVEL: 'silent',
    BLENDER_THREADS: '1',
    WORKER_HTTP_PORT: '0',
    HEARTBEAT_MS: '500',
    SYNTHLINE_BATCH_SIZE: '6',
  };
  // Debian's Python without its site packages: a real interpreter that cannot import torch.
  const noTorch = join(out, 'python-without-torch');
  await writeFile(noTorch, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  await chmod(noTorch, 0o755);
  const bareEnv = { ...env, SYNTHLINE_PREFIX: `evals-bare${process.pid}`, SYNTHLINE_PYTHON: noTorch };
  [api, worker, bare] = await Promise.all([
    startApi(loadApiEnv(env)),
    startWorker(loadWorkerEnv({ ...env, WORKER_ID: 'torch' })),
    (async () => {
      const [a, w] = await Promise.all([startApi(loadApiEnv(bareEnv)), startWorker(loadWorkerEnv({ ...bareEnv, WORKER_ID: 'no-torch' }))]);
      const r = createRedis(redis.url);
      return { api: a, worker: w, redis: r, queue: new JobQueue(r, bareEnv.SYNTHLINE_PREFIX) };
    })(),
  ]);
});

after(async () => {
  await Promise.allSettled([worker?.close(), bare?.worker.close()]);
  await Promise.allSettled([api?.close(), bare?.api.close()]);
  await bare?.queue.close();
  await bare?.redis.quit();
  await redis?.dispose();
});

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; type: string; json: unknown; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, json: type.includes('json') && text ? JSON.parse(text) : undefined };
}

/** A problem document with this status; returns it. */
function problem(r: { status: number; type: string; json: unknown; text: string }, status: number): Problem {
  assert.equal(r.status, status, r.text);
  assert.match(r.type, /application\/problem\+json/);
  const p = Problem.parse(r.json);
  for (const where of [out, realRoot, tmpdir()]) assert.ok(!r.text.includes(where), `no server path in ${r.text}`);
  return p;
}

/** The events of a stream until the server closes it. */
async function events(base: string, id: string): Promise<{ event: string; view: EvaluationView }[]> {
  const res = await fetch(`${base}/v1/evaluations/${id}/events`);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  return parseEvents(await res.text());
}

function parseEvents(text: string): { event: string; view: EvaluationView }[] {
  return text
    .split(/\n\n/)
    .map((block) => {
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return ev && data ? { event: ev, view: EvaluationView.parse(JSON.parse(data)) } : undefined;
    })
    .filter((x): x is { event: string; view: EvaluationView } => x !== undefined);
}

test('a rendered job evaluated over REST by the worker with the Python runner: events, report.json, report.html', async () => {
  assert.ok(await worker.evaluationRunner, 'the worker found the runner');
  const workers = z
    .object({ items: z.array(z.object({ id: z.string(), evaluation_runner: z.object({ torch: z.string() }).nullable() })) })
    .parse((await call(api.url, 'GET', '/v1/workers')).json);
  assert.match(workers.items.find((w) => w.id === 'torch')?.evaluation_runner?.torch ?? '', /^\d/, 'GET /v1/workers shows the runner');

  const spec = tinySpec({ name: 'evals', count: 12, render: { resolution: [48, 48], samples: 2 }, output: { shard_size: 6 } });
  const submitted = await call(api.url, 'POST', '/v1/jobs', spec);
  assert.equal(submitted.status, 202, submitted.text);
  const jobId = z.object({ id: z.string() }).parse(submitted.json).id;
  const job = await until(
    'the job to complete',
    async () => {
      const v = JobView.parse((await call(api.url, 'GET', `/v1/jobs/${jobId}`)).json);
      assert.ok(!['failed', 'cancelled'].includes(v.status), JSON.stringify(v));
      return v.status === 'completed' && v;
    },
    60_000,
  );
  assert.equal(job.progress.frames_done, 12);

  const posted = await call(api.url, 'POST', '/v1/evaluations', {
    train: { job: jobId },
    test: { job: jobId },
    target: 'model',
    size: 32,
    epochs: 2,
    seed: 1,
  });
  assert.equal(posted.status, 202, posted.text);
  const created = EvaluationView.parse(posted.json);
  assert.equal(created.request.size, 32);
  const evs = await events(api.url, created.id);
  const last = evs.at(-1);
  assert.equal(last?.event, 'end', JSON.stringify(evs));
  assert.equal(last?.view.status, 'completed', JSON.stringify(last?.view));
  assert.ok(
    evs.some((e) => e.event === 'progress' && e.view.progress.epoch !== null),
    'an epoch came as a progress event',
  );
  assert.equal(last?.view.progress.epoch?.epochs, 2);
  assert.equal(typeof last?.view.accuracy, 'number');

  const json = await call(api.url, 'GET', `/v1/evaluations/${created.id}/report.json`);
  assert.equal(json.status, 200, json.text);
  const report = z
    .object({
      format: z.literal('synthline.evaluation/1'),
      classes: z.array(z.string()),
      accuracy: z.object({ accuracy: z.number(), n: z.number() }),
      confusion: z.array(z.array(z.number())),
      inputs: z.object({ train: z.object({ path: z.string() }) }),
    })
    .parse(json.json);
  assert.equal(report.accuracy.n, 12);
  assert.ok(report.classes.length >= 2);
  assert.equal(report.confusion.length, report.classes.length);
  assert.equal(
    report.confusion.flat().reduce((a, b) => a + b, 0),
    12,
    'the confusion matrix counts every test sample',
  );
  assert.equal(report.inputs.train.path, `job:${jobId}`, 'the report names the set, not a server folder');
  const html = await call(api.url, 'GET', `/v1/evaluations/${created.id}/report.html`);
  assert.equal(html.status, 200);
  assert.match(html.type, /text\/html/);
  assert.match(html.text, /<html/);
  for (const r of [json, html]) for (const where of [out, tmpdir()]) assert.ok(!r.text.includes(where), 'no server path in the report');

  // After the end: GET gives the same; a second stream sends status and end at once.
  assert.equal(EvaluationView.parse((await call(api.url, 'GET', `/v1/evaluations/${created.id}`)).json).status, 'completed');
  assert.deepEqual(
    (await events(api.url, created.id)).map((e) => e.event),
    ['status', 'end'],
  );
});

test('bad evaluation requests: 400 naming the field, 404 for an unknown set, 409 for a job not completed; OpenAPI documents the routes', async () => {
  const base = api.url;
  const post = (body: unknown) => call(base, 'POST', '/v1/evaluations', body);
  const paths = (p: Problem) => (p.errors ?? []).map((e) => e.path).sort();

  assert.deepEqual(paths(problem(await post({ train: { job: 'x' }, test: { job: 'x' } }), 400)), ['target']);
  assert.deepEqual(
    paths(problem(await post({ train: { job: 'AAAAAAAAAAAA' }, test: { real: 'photos' }, target: 'model', epochs: 0 }), 400)),
    ['epochs'],
  );
  const raw = problem(await post({ train: { path: '/etc' }, test: { real: '../..' }, target: 'class' }), 400);
  assert.ok(paths(raw).some((p) => p.startsWith('train')) && paths(raw).some((p) => p.startsWith('test')), JSON.stringify(raw));
  assert.deepEqual(paths(problem(await post({ train: { real: 'photos' }, test: { real: 'photos' }, target: 'class', size: 1000 }), 400)), [
    'size',
  ]);
  assert.deepEqual(paths(problem(await post({ train: { real: 'photos' }, test: { real: 'photos' }, target: 'class', extra: 1 }), 400)), [
    'extra',
  ]);
  assert.deepEqual(paths(problem(await post({ train: { real: 'photos' }, test: { real: 'photos' }, target: 'class; rm -rf' }), 400)), [
    'target',
  ]);
  problem(await call(base, 'POST', '/v1/evaluations', undefined), 400);
  const big = await fetch(`${base}/v1/evaluations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ train: { real: 'photos' }, test: { real: 'photos' }, target: 'class', pad: 'x'.repeat(8000) }),
  });
  assert.equal(big.status, 413);

  assert.deepEqual(paths(problem(await post({ train: { job: 'AAAAAAAAAAAA' }, test: { real: 'photos' }, target: 'model' }), 404)), [
    'train.job',
  ]);
  assert.deepEqual(paths(problem(await post({ train: { real: 'photos' }, test: { real: 'nowhere' }, target: 'class' }), 404)), [
    'test.real',
  ]);
  assert.deepEqual(paths(problem(await post({ train: { mix: 'nosuchmix' }, test: { real: 'photos' }, target: 'class' }), 404)), [
    'train.mix',
  ]);
  problem(await call(base, 'GET', '/v1/evaluations/AAAAAAAAAAAA'), 404);
  problem(await call(base, 'GET', '/v1/evaluations/AAAAAAAAAAAA/events'), 404);
  problem(await call(base, 'GET', '/v1/evaluations/AAAAAAAAAAAA/report.json'), 404);
  problem(await call(base, 'GET', '/v1/evaluations/not-an-id!'), 400);

  // A job not completed: stored queued in the deployment without a render worker that would take it... here, one never enqueued.
  const queued = 'QQQQQQQQQQQQ';
  await bare.queue.store.create({
    id: queued,
    name: 'queued',
    spec: tinySpec(),
    frames_total: 30,
    batch_size: 30,
    batches_total: 1,
    window: 1,
    max_failed_frames: 0,
    output_uri: `file://${out}/${queued}`,
  });
  const conflict = problem(
    await call(bare.api.url, 'POST', '/v1/evaluations', { train: { job: queued }, test: { job: queued }, target: 'model' }),
    409,
  );
  assert.deepEqual(paths(conflict), ['train.job']);
  assert.match(conflict.detail, /is queued/);

  const doc = z
    .object({ paths: z.record(z.string(), z.unknown()), components: z.object({ schemas: z.record(z.string(), z.unknown()) }) })
    .parse((await call(base, 'GET', '/docs/json')).json);
  for (const p of [
    '/v1/evaluations',
    '/v1/evaluations/{id}',
    '/v1/evaluations/{id}/events',
    '/v1/evaluations/{id}/report.json',
    '/v1/evaluations/{id}/report.html',
  ])
    assert.ok(doc.paths[p], `documents ${p}`);
  for (const s of ['EvaluationRequest', 'Evaluation', 'EvaluationSet', 'EvaluationReport'])
    assert.ok(doc.components.schemas[s], `schema ${s}`);
  assert.ok(!Object.keys(doc.components.schemas).some((s) => s.endsWith('Input')), 'each schema once');
});

test('a worker whose Python has no torch does not advertise the runner, and an evaluation says no worker can run it', async () => {
  assert.equal(await bare.worker.evaluationRunner, null, 'no runner without torch');
  const workers = z
    .object({ live: z.number(), items: z.array(z.object({ id: z.string(), evaluation_runner: z.unknown() })) })
    .parse((await call(bare.api.url, 'GET', '/v1/workers')).json);
  assert.equal(workers.live, 1);
  assert.equal(workers.items[0]?.evaluation_runner, null);

  const posted = await call(bare.api.url, 'POST', '/v1/evaluations', {
    train: { real: 'photos' },
    test: { real: 'photos' },
    target: 'class',
    size: 16,
    epochs: 1,
  });
  assert.equal(posted.status, 202, posted.text);
  const v = EvaluationView.parse(posted.json);
  assert.equal(v.status, 'queued');
  assert.equal(v.waiting?.code, 'NO_EVALUATION_WORKER');
  assert.match(v.waiting?.message ?? '', /no live worker has the evaluation runner \(1 live worker, none with a Python that has PyTorch\)/);

  // The stream says so on connect; the worker never takes it.
  const ac = new AbortController();
  const res = await fetch(`${bare.api.url}/v1/evaluations/${v.id}/events`, { signal: ac.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  await reader.cancel().catch(() => undefined);
  const [status] = parseEvents(first);
  assert.equal(status?.event, 'status');
  assert.equal(status?.view.waiting?.code, 'NO_EVALUATION_WORKER');
  await new Promise((r) => setTimeout(r, 1500)); // a few heartbeats of the worker
  const again = EvaluationView.parse((await call(bare.api.url, 'GET', `/v1/evaluations/${v.id}`)).json);
  assert.equal(again.status, 'queued');
  assert.equal(again.started_at, null);
  assert.equal((await bare.queue.evaluate.getJobCounts('waiting')).waiting, 1, 'still waiting in the evaluations queue');
});

test('GET /v1/evaluations pages newest first with the jobs cursor, drops expired ones, and refuses a bad cursor', async () => {
  const base = bare.api.url;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await call(base, 'POST', '/v1/evaluations', {
      train: { real: 'photos' },
      test: { real: 'photos' },
      target: 'class',
      seed: i,
    });
    assert.equal(r.status, 202, r.text);
    ids.push(EvaluationView.parse(r.json).id);
  }
  const list = async (q: string) => {
    const r = await call(base, 'GET', `/v1/evaluations${q}`);
    assert.equal(r.status, 200, r.text);
    return EvaluationPage.parse(r.json);
  };
  const all = await list('');
  assert.equal(all.total, all.items.length);
  assert.ok(all.total >= 4, 'the three above and the one of the test before');
  assert.deepEqual(
    all.items.map((e) => e.created_at),
    all.items.map((e) => e.created_at).sort((a, b) => b.localeCompare(a)),
    'newest first',
  );
  assert.deepEqual(
    all.items
      .slice(0, 3)
      .map((e) => e.id)
      .sort(),
    [...ids].sort(),
    'the newest three are those just made',
  );
  assert.equal(all.items[0]?.waiting?.code, 'NO_EVALUATION_WORKER', 'each item is the full view');
  // Page by two: every evaluation once, in the same order.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const p: EvaluationPage = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(p.items.length <= 2);
    seen.push(...p.items.map((e) => e.id));
    cursor = p.next_cursor;
  } while (cursor);
  assert.deepEqual(
    seen,
    all.items.map((e) => e.id),
  );
  // One whose record expired (retention) is left out, and out of the total.
  const gone = ids[1] as string;
  await bare.redis.del(bare.queue.evaluations.key(gone));
  const after = await list('');
  assert.ok(!after.items.some((e) => e.id === gone));
  assert.equal(after.total, all.total - 1);

  assert.deepEqual(
    (problem(await call(base, 'GET', '/v1/evaluations?cursor=bm90LWEtY3Vyc29y'), 400).errors ?? []).map((e) => e.path),
    ['cursor'],
  );
  problem(await call(base, 'GET', '/v1/evaluations?cursor=no!'), 400);
  problem(await call(base, 'GET', '/v1/evaluations?limit=0'), 400);
  problem(await call(base, 'GET', '/v1/evaluations?status=queued'), 400);
  const doc = z
    .object({
      paths: z.record(z.string(), z.record(z.string(), z.unknown())),
      components: z.object({ schemas: z.record(z.string(), z.unknown()) }),
    })
    .parse((await call(base, 'GET', '/docs/json')).json);
  assert.ok(doc.paths['/v1/evaluations']?.get, 'documents GET /v1/evaluations');
  assert.ok(doc.components.schemas.EvaluationPage, 'schema EvaluationPage');
  assert.ok(!Object.keys(doc.components.schemas).some((s) => s.endsWith('Input')), 'each schema once');
});
