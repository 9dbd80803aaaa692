import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { parseSpec, Manifest } from '@synthline/spec';
import { JobView } from '@synthline/api';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { renderDataset } from '@synthline/pipeline';
import { readTar, verifyDataset } from '@synthline/shards';
import { startApi } from '@synthline/api';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { startWorker, type RunningWorker } from '@synthline/worker';
import { execa } from 'execa';
import { CLI, tempDir, tinySpec, until } from './helpers.ts';

let redis: PrivateRedis;
let api: { url: string; close(): Promise<void> };
let workers: RunningWorker[] = [];
let out: string;
let realRoot: string;
let completedJob = '';

const spec = tinySpec({ name: 'svc', count: 22, render: { resolution: [64, 48], samples: 4 }, output: { shard_size: 5 } });

before(async () => {
  redis = await startPrivateRedis();
  out = await tempDir('synthline-svc-');
  realRoot = await tempDir('synthline-real-');
  const env = {
    SYNTHLINE_REAL: realRoot,
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `t${process.pid}`,
    SYNTHLINE_OUTPUT: out,
    PORT: '0',
    SYNTHLINE_BATCH_SIZE: '3',
    SYNTHLINE_BATCH_WINDOW: '2',
    LOG_LEVEL: 'silent',
    BLENDER_THREADS: '1',
  };
  api = await startApi(loadApiEnv(env));
  workers = await Promise.all(['w1', 'w2'].map((id) => startWorker(loadWorkerEnv({ ...env, WORKER_ID: id }))));
});

after(async () => {
  await Promise.allSettled(workers.map((w) => w.close()));
  await api?.close();
  await redis?.dispose();
});

async function post(body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()) as { id: string };
}

async function getJob(id: string): Promise<JobView> {
  return JobView.parse(await (await fetch(`${api.url}/v1/jobs/${id}`)).json());
}

/** Reads the event stream until its `end` event. */
async function events(id: string): Promise<{ event: string; view: JobView }[]> {
  const res = await fetch(`${api.url}/v1/jobs/${id}/events`);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const text = await res.text(); // the server closes the stream after `end`
  return text
    .split(/\n\n/)
    .map((block) => {
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return ev && data ? { event: ev, view: JobView.parse(JSON.parse(data)) } : undefined;
    })
    .filter((x): x is { event: string; view: JobView } => x !== undefined);
}

test('a job submitted over REST is rendered by two workers into shards equal to a local render', async () => {
  const { id } = await post(spec);
  completedJob = id;
  const evs = await events(id);
  const last = evs.at(-1);
  assert.equal(last?.event, 'end');
  assert.equal(last?.view.status, 'completed', JSON.stringify(last?.view));
  assert.ok(
    evs.some((e) => e.event === 'progress'),
    'progress events were sent',
  );
  const statuses = evs.map((e) => e.view.status);
  assert.ok(statuses.includes('running') || statuses.includes('finalizing'));

  const view = await getJob(id);
  assert.equal(view.progress.frames_done, 22);
  assert.equal(view.progress.frames_failed, 0);
  assert.ok(view.output?.manifest);
  const dir = fileURLToPath(view.output?.uri ?? '');
  const report = await verifyDataset(dir);
  assert.ok(report.ok, report.problems.join('\n'));
  assert.equal(existsSync(join(dir, 'fragments')), false, 'fragments are removed after finalize');
  assert.ok(
    workers.every((w) => w.stats.batches > 0),
    `both workers rendered: ${workers.map((w) => w.stats.batches)}`,
  );

  const local = await tempDir('synthline-local-');
  const r = await renderDataset({ spec: parseSpec(spec), outDir: local });
  const served = Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));
  assert.deepEqual(served.shards, r.manifest.shards, 'the service and `synthline render` give the same bytes');

  // The sample endpoint serves a rendered frame's image.
  const res = await fetch(`${api.url}/v1/jobs/${id}/samples/7`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  const bytes = Buffer.from(await res.arrayBuffer());
  let fromShard: Buffer | undefined;
  for await (const s of readTar(join(dir, served.shards[1]?.name ?? ''))) if (s.key === '00000007') fromShard = s.members[0]?.data;
  assert.deepEqual(bytes, fromShard);
});

test('POST /v1/mixes mixes a completed job with a real photo set at the ratio, per class', async () => {
  assert.ok(completedJob, 'the first test completed a job');
  const view = await getJob(completedJob);
  const manifest = Manifest.parse(JSON.parse(await readFile(join(fileURLToPath(view.output?.uri ?? ''), 'dataset.json'), 'utf8')));
  // One real photo per two synthetic samples of each class that has at least two.
  const { default: sharp } = await import('sharp');
  const want: Record<string, number> = {};
  for (const [cls, n] of Object.entries(manifest.counts.per_class)) {
    const r = Math.floor(n / 2);
    if (r === 0) continue;
    want[cls] = r;
    await mkdir(join(realRoot, 'belt-photos', cls), { recursive: true });
    for (let i = 0; i < r; i++) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 40 * i, g: 90, b: 140 } } })
        .jpeg()
        .toFile(join(realRoot, 'belt-photos', cls, `photo${i}.jpg`));
    }
  }
  assert.ok(Object.keys(want).length >= 2);
  const mix = (body: unknown) =>
    fetch(`${api.url}/v1/mixes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const res = await mix({ synthetic_job: completedJob, real: 'belt-photos', ratio: '1:2', seed: 3 });
  assert.equal(res.status, 201, await res.clone().text());
  const body = (await res.json()) as { id: string; output: { uri: string } };
  const mixed = JSON.parse(await readFile(join(fileURLToPath(body.output.uri), 'dataset.json'), 'utf8')) as {
    counts: { per_class: Record<string, Record<string, number>> };
  };
  for (const [cls, r] of Object.entries(want)) {
    assert.deepEqual(mixed.counts.per_class[cls], { real: r, synthetic: 2 * r }, `class ${cls}`);
  }
  assert.equal((await fetch(`${api.url}/v1/mixes/${body.id}`)).status, 200);

  await mkdir(join(realRoot, 'belt-photos', 'no-such-class'), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toFile(join(realRoot, 'belt-photos', 'no-such-class', 'x.png'));
  const unknown = await mix({ synthetic_job: completedJob, real: 'belt-photos', ratio: '1:2' });
  assert.equal(unknown.status, 422);
  assert.match(await unknown.text(), /no-such-class/);
  assert.equal((await mix({ synthetic_job: 'nope', real: 'belt-photos', ratio: '1:2' })).status, 404);
  assert.equal((await mix({ synthetic_job: completedJob, real: '../etc', ratio: '1:2' })).status, 400);
});

test('a cancelled job stops, drops its pending batches and leaves no output', async () => {
  const { id } = await post({ ...spec, name: 'cancelme', count: 400 });
  await until('the job to run', async () => (await getJob(id)).progress.frames_done > 0);
  const res = await fetch(`${api.url}/v1/jobs/${id}`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  assert.equal(JobView.parse(await res.json()).status, 'cancelled');
  await until('partial output to be removed', async () => !existsSync(join(out, id)));
  const view = await getJob(id);
  assert.equal(view.status, 'cancelled');
  assert.ok(view.progress.frames_done < 400);
  assert.equal(view.output, null);
});

test('SIGTERM: a worker process hands its batch back and exits; another worker finishes the job, same bytes', async () => {
  // Stop the in-process workers so the job goes to the worker process first.
  await Promise.all(workers.map((w) => w.close()));
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `t${process.pid}`,
    SYNTHLINE_OUTPUT: out,
    WORKER_ID: 'proc',
    SHUTDOWN_DEADLINE_MS: '20000',
    LOG_LEVEL: 'info',
  };
  const child = execa('node', [CLI, 'worker'], { env, reject: false, all: true });
  const { id } = await post({ ...spec, name: 'handback', count: 12, output: { shard_size: 5 } });
  await until('the worker process to render frames', async () => (await getJob(id)).progress.frames_done > 0);
  const t0 = Date.now();
  child.kill('SIGTERM');
  const r = await child;
  const took = Date.now() - t0;
  assert.equal(r.exitCode, 0, r.all);
  assert.ok(took < 20_000, `exited within its deadline (${took} ms)`);
  assert.match(String(r.all), /handed back/);
  assert.notEqual((await getJob(id)).status, 'completed');

  workers = [
    await startWorker(
      loadWorkerEnv({
        REDIS_URL: redis.url,
        SYNTHLINE_PREFIX: `t${process.pid}`,
        SYNTHLINE_OUTPUT: out,
        WORKER_ID: 'w3',
        LOG_LEVEL: 'silent',
        BLENDER_THREADS: '1',
      }),
    ),
  ];
  const view = await until('the job to complete', async () => {
    const v = await getJob(id);
    return v.status === 'completed' ? v : undefined;
  });
  assert.equal(view.progress.frames_done, 12);
  const local = await tempDir('synthline-local-');
  const expected = await renderDataset({
    spec: parseSpec({ ...spec, name: 'handback', count: 12, output: { shard_size: 5 } }),
    outDir: local,
  });
  const served = Manifest.parse(JSON.parse(await readFile(join(fileURLToPath(view.output?.uri ?? ''), 'dataset.json'), 'utf8')));
  assert.deepEqual(served.shards, expected.manifest.shards);
});
