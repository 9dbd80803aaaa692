// The REST API through real HTTP against a private Redis; no worker runs here (the service test
// covers rendering), so jobs stay queued unless a test cancels them or stands in for a worker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { loadApiEnv } from '@synthline/config';
import { CatalogView, JobPage, Problem, SubmittedJob, startApi, type RunningApi } from '@synthline/api';
import { JobQueue, createRedis } from '@synthline/queue';
import { JobView } from '@synthline/api';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { TarWriter, writeManifest } from '@synthline/shards';
import { FileStorage, commitFragmentInfo } from '@synthline/storage';
import { tempDir, tinySpec } from './helpers.ts';

let redis: PrivateRedis;
let api: RunningApi;
/** A second connection, as a worker would have: what the API did is seen from outside it. */
let observerRedis: Redis;
let queue: JobQueue;
let storage: FileStorage;

const prefix = `api-test-${process.pid}-${randomBytes(3).toString('hex')}`;

before(async () => {
  redis = await startPrivateRedis({ appendonly: false });
  const out = await tempDir('synthline-api-');
  storage = new FileStorage(out);
  api = await startApi(
    loadApiEnv({ REDIS_URL: redis.url, SYNTHLINE_PREFIX: prefix, SYNTHLINE_OUTPUT: out, PORT: '0', LOG_LEVEL: 'silent' }),
  );
  observerRedis = createRedis(redis.url);
  observerRedis.on('error', () => undefined); // reconnects while the outage test stops Redis
  queue = new JobQueue(observerRedis, prefix);
  for (const q of [queue.render, queue.finalize, queue.evaluate]) q.on('error', () => undefined);
});

after(async () => {
  await api?.close();
  await api?.close(); // twice is harmless
  await queue?.close();
  await observerRedis?.quit();
  await redis?.dispose();
});

interface Answer {
  status: number;
  type: string;
  headers: Headers;
  /** The parsed body (JSON), or its text. */
  json: unknown;
}

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {}),
    ...opts.headers,
  };
  const res = await fetch(`${api.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, headers: res.headers, json: type.includes('json') && text ? JSON.parse(text) : text };
}

const submit = (body: unknown, headers: Record<string, string> = {}) => call('POST', '/v1/jobs', { body, headers });

/** Submits a spec that must be accepted; returns the new job's id. */
async function newJob(body: unknown): Promise<string> {
  const r = await submit(body);
  assert.equal(r.status, 202, JSON.stringify(r.json));
  return SubmittedJob.parse(r.json).id;
}

const view = (r: Answer) => JobView.parse(r.json);
const page = (r: Answer) => JobPage.parse(r.json);
const ids = (views: JobView[]) => views.map((v) => v.id);

/** Waits until `check` holds, trying again every 50 ms, failing after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asserts an RFC 9457 problem with this status and instance; returns it. */
function problem(r: Answer, status: number, path: string): Problem {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.match(r.type, /^application\/problem\+json/);
  const p = Problem.parse(r.json);
  assert.equal(p.status, status);
  assert.equal(p.instance, path.split('?')[0]);
  assert.ok(p.type && p.title && p.detail);
  return p;
}

/** Asserts a problem and returns the field paths its `errors` name. */
const assertProblem = (r: Answer, status: number, path: string): string[] => (problem(r, status, path).errors ?? []).map((e) => e.path);

test('POST /v1/jobs answers 202 and the job is queued', async () => {
  const r = await submit(tinySpec());
  assert.equal(r.status, 202, JSON.stringify(r.json));
  const { id, status, links } = SubmittedJob.parse(r.json);
  assert.match(id, /^[A-Za-z0-9]{12}$/);
  assert.equal(status, 'queued');
  assert.deepEqual(links, { self: `/v1/jobs/${id}`, events: `/v1/jobs/${id}/events`, samples: `/v1/jobs/${id}/samples/{index}` });
  assert.equal(r.headers.get('location'), `/v1/jobs/${id}`);

  const g = await call('GET', `/v1/jobs/${id}`);
  assert.equal(g.status, 200);
  const v = view(g);
  assert.equal(v.status, 'queued');
  assert.deepEqual(v.progress, { frames_done: 0, frames_total: 30, frames_failed: 0 });
  assert.equal(v.output, null);
  const counts = await queue.render.getJobCounts('waiting');
  assert.ok((counts.waiting ?? 0) >= 2, 'its first batches wait for a worker');
});

test('Idempotency-Key: same body gives the same job, another body 409', async () => {
  const key = `k-${randomBytes(4).toString('hex')}`;
  const a = await submit({ name: 'idem', count: 5, seed: 1 }, { 'idempotency-key': key });
  assert.equal(a.status, 202);
  // The same JSON with its keys in another order is the same body.
  const b = await submit({ seed: 1, count: 5, name: 'idem' }, { 'idempotency-key': key });
  assert.equal(b.status, 200, 'a repeat answers 200');
  assert.equal(SubmittedJob.parse(b.json).id, SubmittedJob.parse(a.json).id);
  const c = problem(await submit({ name: 'idem', count: 6, seed: 1 }, { 'idempotency-key': key }), 409, '/v1/jobs');
  assert.match(c.detail, /different body/);
  // Without a key, the same body is a new job.
  assert.notEqual(await newJob({ name: 'idem', count: 5, seed: 1 }), SubmittedJob.parse(a.json).id);
});

test('GET /v1/jobs pages and filters by status', async () => {
  const made: string[] = [];
  for (let i = 0; i < 3; i++) made.push(await newJob({ name: `list-${i}`, count: 2 }));
  const cancelled = made[1] ?? '';
  assert.equal((await call('DELETE', `/v1/jobs/${cancelled}`)).status, 200);

  const all = page(await call('GET', '/v1/jobs?limit=100'));
  assert.equal(all.limit, 100);
  assert.equal(all.next_cursor, null, 'one page holds them all');
  assert.equal(all.items.length, all.total);
  assert.deepEqual(ids(all.items.slice(0, 3)), [...made].reverse(), 'newest first');

  const p1 = page(await call('GET', '/v1/jobs?limit=2'));
  assert.ok(p1.next_cursor, 'a first page of several has a cursor');
  const p2 = page(await call('GET', `/v1/jobs?limit=2&cursor=${p1.next_cursor}`));
  assert.equal(p1.items.length, 2);
  assert.equal(p1.total, all.total);
  assert.deepEqual(ids([...p1.items, ...p2.items]), ids(all.items.slice(0, 4)));
  assert.equal(page(await call('GET', '/v1/jobs')).limit, 20, 'default page size');

  const c = page(await call('GET', '/v1/jobs?status=cancelled'));
  assert.ok(ids(c.items).includes(cancelled));
  assert.ok(c.items.every((v) => v.status === 'cancelled'));
  const q = page(await call('GET', '/v1/jobs?status=queued&limit=100'));
  assert.ok(!ids(q.items).includes(cancelled));
  assert.equal(q.total + c.total, all.total);

  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs?status=bogus'), 400, '/v1/jobs'), ['status']);
  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs?limit=0'), 400, '/v1/jobs'), ['limit']);
  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs?limit=101'), 400, '/v1/jobs'), ['limit']);
  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs?cursor=bm90LWEtY3Vyc29y'), 400, '/v1/jobs'), ['cursor']);
  // Walking every page by cursor visits each job once, newest first.
  const walked: string[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const pg = page(await call('GET', `/v1/jobs?limit=1${cursor ? `&cursor=${cursor}` : ''}`));
    walked.push(...ids(pg.items));
    cursor = pg.next_cursor;
  }
  assert.deepEqual(walked, ids(all.items));
  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs?offset=-1'), 400, '/v1/jobs'), ['offset']);
});

test('DELETE /v1/jobs/:id cancels; again is harmless; unknown is 404', async () => {
  const id = await newJob({ name: 'to-cancel', count: 100, output: { shard_size: 10 } });
  const before = await queue.render.getJobCounts('waiting');
  const r = await call('DELETE', `/v1/jobs/${id}`);
  assert.equal(r.status, 200);
  const v = view(r);
  assert.equal(v.status, 'cancelled');
  assert.ok(v.finished_at);
  const afterCounts = await queue.render.getJobCounts('waiting');
  assert.ok((afterCounts.waiting ?? 0) < (before.waiting ?? 0), 'its waiting batches are removed');
  assert.equal(view(await call('DELETE', `/v1/jobs/${id}`)).status, 'cancelled');
  assert.equal(view(await call('GET', `/v1/jobs/${id}`)).status, 'cancelled');
  problem(await call('DELETE', '/v1/jobs/AAAAAAAAAAAA'), 404, '/v1/jobs/AAAAAAAAAAAA');
});

test('GET /v1/catalog lists models as specs name them, HDRIs and backgrounds', async () => {
  const r = await call('GET', '/v1/catalog');
  assert.equal(r.status, 200);
  const catalog = CatalogView.parse(r.json);
  assert.ok(catalog.models.some((m) => m.id === 'builtin:iphone-13'));
  assert.ok(catalog.models.every((m) => m.id.startsWith('builtin:') && m.colors.length > 0));
  assert.ok(catalog.hdris.includes('studio'));
  assert.deepEqual(catalog.backgrounds, ['belt']);
});

test('healthz is always ok; readyz needs Redis and a live worker', async () => {
  const h = await call('GET', '/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });

  const r1 = problem(await call('GET', '/readyz'), 503, '/readyz');
  assert.equal(r1.redis, true);
  assert.equal(r1.workers, 0);
  assert.match(r1.detail, /worker/);

  await queue.store.heartbeat('w1', {});
  const r2 = await call('GET', '/readyz');
  assert.equal(r2.status, 200, JSON.stringify(r2.json));
  assert.deepEqual(r2.json, { status: 'ready', redis: true, workers: 1 });
  await queue.store.removeWorker('w1');
});

test('the OpenAPI document comes from the same schemas; the UI is at /docs', async () => {
  const d = await call('GET', '/docs/json');
  assert.equal(d.status, 200);
  const doc = z
    .looseObject({
      openapi: z.string(),
      paths: z.record(z.string(), z.looseObject({ post: z.looseObject({ requestBody: z.unknown() }).optional() })),
      components: z.looseObject({
        schemas: z.record(z.string(), z.looseObject({ properties: z.record(z.string(), z.unknown()).optional() })),
      }),
    })
    .parse(d.json);
  assert.match(doc.openapi, /^3\./);
  for (const p of [
    '/v1/jobs',
    '/v1/jobs/{id}',
    '/v1/jobs/{id}/events',
    '/v1/jobs/{id}/samples/{index}',
    '/v1/catalog',
    '/healthz',
    '/readyz',
  ]) {
    assert.ok(doc.paths[p], `documents ${p}`);
  }
  assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/docs')), 'the docs do not document themselves');
  assert.match(JSON.stringify(doc.paths['/v1/jobs']?.post?.requestBody), /JobSpec/);
  const spec = doc.components.schemas.JobSpec;
  assert.ok(spec?.properties?.render && spec.properties.products, 'the JobSpec schema is in the document');
  const ui = await fetch(`${api.url}/docs`, { redirect: 'follow' });
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger/i);
});

test('bad requests are 4xx problems naming the field, and enqueue nothing', async () => {
  const countsBefore = [await queue.render.getJobCounts(), await queue.finalize.getJobCounts(), (await queue.store.list()).total];

  problem(await call('POST', '/v1/jobs', { raw: '{"count": ' }), 400, '/v1/jobs');
  problem(await call('POST', '/v1/jobs', { raw: '' }), 400, '/v1/jobs');
  problem(await call('POST', '/v1/jobs', { raw: '{"__proto__": {"x": 1}}' }), 400, '/v1/jobs');

  const unknown = assertProblem(await submit({ ...tinySpec(), camera: { zoom: 2 }, colour: 'red' }), 400, '/v1/jobs');
  assert.deepEqual(unknown.sort(), ['camera.zoom', 'colour']);

  const types = assertProblem(await submit({ count: 'many', render: { samples: 0, format: 'gif' }, seed: -1 }), 400, '/v1/jobs');
  assert.deepEqual(types.sort(), ['count', 'render.format', 'render.samples', 'seed']);

  const model = problem(await submit({ products: [{ asset: 'builtin:nokia-3310' }] }), 400, '/v1/jobs');
  assert.deepEqual(
    model.errors?.map((e) => e.path),
    ['products[0].asset'],
  );
  assert.match(model.errors?.[0]?.message ?? '', /unknown model "nokia-3310"/);
  assert.deepEqual(assertProblem(await submit({ products: [{ asset: 'builtin:iphone-13', colors: ['Plaid'] }] }), 400, '/v1/jobs'), [
    'products[0].colors[0]',
  ]);
  assert.deepEqual(assertProblem(await submit([1, 2]), 400, '/v1/jobs'), ['(spec)']);

  problem(await call('POST', '/v1/jobs', { raw: JSON.stringify(tinySpec()), type: 'text/plain' }), 415, '/v1/jobs');
  problem(await call('POST', '/v1/jobs', { raw: '<spec/>', type: 'application/xml' }), 415, '/v1/jobs');

  const huge = JSON.stringify({ ...tinySpec(), padding: 'x'.repeat(1024 * 1024 + 10) });
  problem(await call('POST', '/v1/jobs', { raw: huge }), 413, '/v1/jobs');

  problem(await call('GET', '/v1/nothing-here'), 404, '/v1/nothing-here');
  problem(await call('PUT', '/v1/jobs'), 404, '/v1/jobs');
  assert.deepEqual(assertProblem(await call('GET', '/v1/jobs/not-an-id!'), 400, '/v1/jobs/not-an-id!'), ['id']);
  assert.deepEqual(assertProblem(await call('DELETE', '/v1/jobs/short'), 400, '/v1/jobs/short'), ['id']);
  problem(await call('GET', '/v1/jobs/AAAAAAAAAAAA'), 404, '/v1/jobs/AAAAAAAAAAAA');
  problem(await call('GET', '/v1/jobs/AAAAAAAAAAAA/events'), 404, '/v1/jobs/AAAAAAAAAAAA/events');

  // A key sent with a bad body is not claimed: the corrected body may use it.
  const key = `bad-${randomBytes(4).toString('hex')}`;
  problem(await submit({ count: 0 }, { 'idempotency-key': key }), 400, '/v1/jobs');

  const countsAfter = [await queue.render.getJobCounts(), await queue.finalize.getJobCounts(), (await queue.store.list()).total];
  assert.deepEqual(countsAfter, countsBefore, 'no job was stored or enqueued');

  assert.equal((await submit({ count: 1 }, { 'idempotency-key': key })).status, 202);
});

test('GET samples: 400 for a bad index, 404 until rendered, then the image from a fragment or the dataset', async () => {
  const id = await newJob({ name: 'samples', count: 30 });
  const base = `/v1/jobs/${id}/samples`;
  assert.deepEqual(assertProblem(await call('GET', `${base}/abc`), 400, `${base}/abc`), ['index']);
  assert.deepEqual(assertProblem(await call('GET', `${base}/1.5`), 400, `${base}/1.5`), ['index']);
  assert.deepEqual(assertProblem(await call('GET', `${base}/30`), 400, `${base}/30`), ['index']);
  assertProblem(await call('GET', `${base}/3`), 404, `${base}/3`);
  assertProblem(await call('GET', '/v1/jobs/AAAAAAAAAAAA/samples/0'), 404, '/v1/jobs/AAAAAAAAAAAA/samples/0');

  // Stand in for a worker: batch 1 (frames 24..29 with the default batch size) as a fragment.
  const record = await queue.store.get(id);
  assert.equal(record?.batch_size, 24);
  const image = (i: number) => Buffer.from(`not really a png: frame ${i}`);
  const tar = 'fragments/000001-0a0b0c0d.tar';
  const frag = new TarWriter(await storage.prepare(id, tar));
  for (const i of [24, 25, 27]) {
    const key = String(i).padStart(8, '0');
    await frag.add({
      key,
      members: [
        { ext: 'png', data: image(i) },
        { ext: 'json', data: Buffer.from('{}') },
        { ext: 'cls', data: Buffer.from('0') },
      ],
    });
  }
  await frag.finish();
  // Not served before the batch's info commits it.
  assertProblem(await call('GET', `${base}/25`), 404, `${base}/25`);
  const info = { batch: 1, tar, frames: [24, 30] as [number, number], ok: 3, failures: [], timings: {} };
  assert.deepEqual(await commitFragmentInfo(storage, id, info), info);
  // A second run's info is refused: the first one's stands.
  assert.equal((await commitFragmentInfo(storage, id, { ...info, tar: 'fragments/000001-ffffffff.tar' })).tar, tar);
  const res = await fetch(`${api.url}${base}/25`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), image(25));
  assertProblem(await call('GET', `${base}/26`), 404, `${base}/26`);
  assertProblem(await call('GET', `${base}/3`), 404, `${base}/3`);

  // A finished dataset of a JPEG job is read through its manifest.
  const jpg = await newJob({ name: 'jpegs', count: 4, render: { format: 'jpeg' } });
  const dir = storage.localPath(jpg, '');
  await mkdir(dir, { recursive: true });
  const shards = [];
  for (const [n, keys] of [
    [0, [0, 1]],
    [1, [2, 3]],
  ] as const) {
    const w = new TarWriter(join(dir, `jpegs-00000${n}.tar`));
    for (const i of keys) await w.add({ key: String(i).padStart(8, '0'), members: [{ ext: 'jpg', data: image(i) }] });
    const info = await w.finish();
    shards.push({
      name: `jpegs-00000${n}.tar`,
      samples: info.samples,
      bytes: info.bytes,
      sha256: info.sha256,
      first_key: info.firstKey,
      last_key: info.lastKey,
    });
  }
  await writeManifest(dir, {
    format: 'synthline.dataset/1',
    name: 'jpegs',
    created_by: 'api test',
    spec: {},
    frames: { requested: [0, 4], rendered: 4, failed: [] },
    image_format: 'jpeg',
    classes: [],
    counts: { samples: 4, per_class: {} },
    shards,
    contact_sheet: null,
  });
  for (const i of [0, 3]) {
    const r = await fetch(`${api.url}/v1/jobs/${jpg}/samples/${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), image(i));
  }
});

test('a server fault is a 500 problem that shows no internals', async () => {
  const id = await newJob({ name: 'broken', count: 2 });
  await writeFile(await storage.prepare(id, 'dataset.json'), '{"format": "synthline.dataset/1", "shards": [tru');
  const p = problem(await call('GET', `/v1/jobs/${id}/samples/0`), 500, `/v1/jobs/${id}/samples/0`);
  assert.equal(p.type, 'urn:synthline:problem:internal');
  assert.doesNotMatch(JSON.stringify(p), /JSON|dataset\.json|Syntax|at \//);
});

/** Reads server-sent events from a response as they arrive. */
async function* sse(res: Response): AsyncGenerator<{ event: string; data: string }> {
  assert.ok(res.body);
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) yield { event, data: data.join('\n') };
    }
  }
}

test('events: status on connect, then status and end once the job is cancelled', async () => {
  const id = await newJob({ name: 'events', count: 3 });
  const res = await fetch(`${api.url}/v1/jobs/${id}/events`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = sse(res);

  const first = await events.next();
  assert.equal(first.done, false);
  assert.equal(first.value?.event, 'status');
  assert.equal(JobView.parse(JSON.parse(first.value?.data ?? '')).status, 'queued');

  assert.equal((await call('DELETE', `/v1/jobs/${id}`)).status, 200);
  const rest: { event: string; status: string }[] = [];
  for await (const e of events) rest.push({ event: e.event, status: JobView.parse(JSON.parse(e.data)).status });
  // The stream ended by itself after `end`.
  assert.deepEqual(rest, [
    { event: 'status', status: 'cancelled' },
    { event: 'end', status: 'cancelled' },
  ]);

  // A job that is already over: its status, then end, at once.
  const again = await fetch(`${api.url}/v1/jobs/${id}/events`);
  const all = [];
  for await (const e of sse(again)) all.push(e.event);
  assert.deepEqual(all, ['status', 'end']);
});

test('progress events follow the job store', async () => {
  const id = await newJob({ name: 'progress', count: 30 });
  const res = await fetch(`${api.url}/v1/jobs/${id}/events`);
  const events = sse(res);
  assert.equal((await events.next()).value?.event, 'status');
  // Stand in for a worker: the job starts, a batch reports frames, then it is cancelled.
  await queue.store.start(id);
  const seen: string[] = [];
  for await (const e of events) {
    const v = JobView.parse(JSON.parse(e.data));
    seen.push(`${e.event}:${v.status}:${v.progress.frames_done}`);
    if (e.event === 'status' && v.status === 'running') await queue.store.setInflight(id, 0, 5);
    if (e.event === 'progress' && v.progress.frames_done === 5) await queue.cancel(id);
  }
  assert.deepEqual(seen, ['status:running:0', 'progress:running:5', 'status:cancelled:5', 'end:cancelled:5']);
});

test('the server closes with event streams open', async () => {
  const id = await newJob({ name: 'open-stream', count: 3 });
  const other = await startApi(
    loadApiEnv({ REDIS_URL: redis.url, SYNTHLINE_PREFIX: prefix, SYNTHLINE_OUTPUT: storage.root, PORT: '0', LOG_LEVEL: 'silent' }),
  );
  const res = await fetch(`${other.url}/v1/jobs/${id}/events`);
  const events = sse(res);
  assert.equal((await events.next()).value?.event, 'status');
  await other.close();
  const rest = [];
  for await (const e of events) rest.push(e);
  assert.deepEqual(rest, [], 'the stream ended without a final event');
});

test('while Redis is away, requests answer 503 problems and readyz names the check', async () => {
  const id = await newJob({ name: 'outage', count: 2 });
  await redis.stop();
  try {
    const t0 = Date.now();
    const r = problem(await call('GET', `/v1/jobs/${id}`), 503, `/v1/jobs/${id}`);
    assert.doesNotMatch(r.detail, /ECONNREFUSED|ioredis|maxRetries/i, 'no internals');
    assert.ok(Date.now() - t0 < 10_000, 'the request did not hang');
    const ready = problem(await call('GET', '/readyz'), 503, '/readyz');
    assert.equal(ready.redis, false);
    assert.match(ready.detail, /Redis/);
    assert.equal((await call('GET', '/healthz')).status, 200, 'the process is still alive');
  } finally {
    await redis.restart();
  }
  // The data went with the old server (no persistence here); the API reconnects by itself.
  await until('the API reaches Redis again', async () => (await call('GET', `/v1/jobs/${id}`)).status === 404);
});
