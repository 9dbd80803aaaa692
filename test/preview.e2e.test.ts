// POST /v1/previews (issue 15, item 3): a spec's first frames, small, rendered ahead of the
// batches already waiting, bounded like a job; a bad spec is refused naming the field.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JobView, startApi } from '@synthline/api';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { plan } from '@synthline/planner';
import { parseSpec } from '@synthline/spec';
import { startWorker, type RunningWorker } from '@synthline/worker';
import sharp from 'sharp';
import { tempDir, tinySpec, until } from './helpers.ts';

let redis: PrivateRedis;
let api: { url: string; close(): Promise<void> };
let worker: RunningWorker;

before(async () => {
  redis = await startPrivateRedis();
  const env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `p${process.pid}`,
    SYNTHLINE_OUTPUT: await tempDir('synthline-preview-'),
    PORT: '0',
    SYNTHLINE_BATCH_SIZE: '2',
    SYNTHLINE_BATCH_WINDOW: '2',
    LOG_LEVEL: 'silent',
    BLENDER_THREADS: '1',
  };
  api = await startApi(loadApiEnv(env));
  // One worker with one slot: one batch at a time, in queue order.
  worker = await startWorker(loadWorkerEnv({ ...env, WORKER_ID: 'one' }));
});

after(async () => {
  await worker?.close();
  await api?.close();
  await redis?.dispose();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function view(id: string): Promise<JobView> {
  return JobView.parse(await (await fetch(`${api.url}/v1/jobs/${id}`)).json());
}

test('a preview renders the first frames of a spec, small, ahead of the batches already waiting', async () => {
  const busy = tinySpec({ name: 'busy', count: 40, render: { resolution: [64, 48], samples: 2 } });
  const ids: string[] = [];
  for (const name of ['busy-a', 'busy-b']) {
    const res = await post('/v1/jobs', { ...busy, name });
    assert.equal(res.status, 202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // Two jobs' batches wait behind the one the slot renders.
  await until('the first job to start', async () => (await view(ids[0] ?? '')).status === 'running');

  const spec = { name: 'look', seed: 11, count: 500, render: { resolution: [640, 480], samples: 64 } };
  const res = await post('/v1/previews', spec);
  assert.equal(res.status, 202, await res.clone().text());
  const preview = (await res.json()) as {
    id: string;
    links: { self: string };
    preview: { frames: number; resolution: number[]; samples: number };
  };
  assert.deepEqual(preview.preview, { frames: 4, resolution: [160, 120], samples: 16 });
  assert.equal(res.headers.get('location'), preview.links.self);

  const done = await until('the preview to complete', async () => {
    const v = await view(preview.id);
    assert.notEqual(v.status, 'failed', JSON.stringify(v.error));
    return v.status === 'completed' ? v : undefined;
  });
  assert.equal(done.progress.frames_done, 4);
  // Served ahead: when it completed, the jobs queued before it had rendered little more than the
  // batch in hand when it came (in queue order they would have rendered at least 3 batches more).
  const before = await Promise.all(ids.map(async (id) => (await view(id)).progress.frames_done));
  assert.ok(
    before[0] !== undefined && before[1] !== undefined && before[0] + before[1] <= 6,
    `frames of the queued jobs done first: ${before}`,
  );

  // Its frames are the spec's first frames (the same plans), at the preview's size.
  const want = parseSpec(spec);
  for (let i = 0; i < 4; i++) {
    const label = (await (await fetch(`${api.url}/v1/jobs/${preview.id}/samples/${i}/label`)).json()) as {
      camera: { plan: unknown };
      class: string;
      image: { width: number; height: number };
    };
    const p = plan(want, i);
    assert.deepEqual(label.camera.plan, p.camera, `frame ${i}: the spec's own camera`);
    assert.deepEqual([label.image.width, label.image.height], [160, 120]);
    const png = Buffer.from(await (await fetch(`${api.url}/v1/jobs/${preview.id}/samples/${i}`)).arrayBuffer());
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [160, 120]);
  }
  for (const id of ids) await fetch(`${api.url}/v1/jobs/${id}`, { method: 'DELETE' });
});

test('a bad spec is refused by the preview as by a job, naming the field; nothing is queued', async () => {
  const res = await post('/v1/previews', { count: 5, camera: { distance_m: [0.5, 0.1] }, render: { samples: -1 } });
  assert.equal(res.status, 400);
  const problem = (await res.json()) as { detail: string; errors?: { path: string }[] };
  const text = JSON.stringify(problem);
  assert.match(text, /render\.samples|render\/samples|samples/);
  const list = (await (await fetch(`${api.url}/v1/jobs?limit=100`)).json()) as { items: { name: string }[] };
  assert.equal(list.items.filter((j) => j.name.endsWith('-preview')).length, 1, 'only the first test made a preview');
});
