import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerList } from '@synthline/jobs';
import { ApiMetrics } from './routes/metrics.ts';

test('ApiMetrics: queue depth, jobs, per-worker series from the registry; a lost worker is up 0; Redis away drops them', async () => {
  const now = Date.now();
  const m = new ApiMetrics();
  const slots = [
    { index: 0, device: 'CPU', blender_version: '3.4.1', state: 'busy', batch: { job: 'j', batch: 0, frames_done: 1, frames_total: 3 } },
    { index: 1, device: 'CPU', blender_version: '3.4.1', state: 'idle', batch: null },
  ];
  m.update({
    depth: { render: { waiting: 5, active: 2, delayed: 1 }, finalize: { 'waiting-children': 1 } },
    jobs: { queued: 0, running: 1, completed: 3 },
    workers: workerList(
      [
        { id: 'a', lastSeenMs: now, info: { host: 'h1', slots, frames_rendered: 40, frames_per_s: 2.5, heartbeat_ms: 1000 } },
        { id: 'b', lastSeenMs: now - 10_000, info: { host: 'h2', slots: [], frames_rendered: 7, heartbeat_ms: 1000 } },
      ],
      undefined,
      now,
    ),
  });
  const text = await m.text();
  for (const line of [
    'synthline_redis_up 1',
    'synthline_queue_depth{queue="render",state="waiting"} 5',
    'synthline_queue_depth{queue="finalize",state="waiting-children"} 1',
    'synthline_jobs{status="running"} 1',
    'synthline_workers{status="live"} 1',
    'synthline_workers{status="lost"} 1',
    'synthline_worker_up{worker="a",host="h1"} 1',
    'synthline_worker_up{worker="b",host="h2"} 0',
    'synthline_worker_slots{worker="a"} 2',
    'synthline_worker_slots_busy{worker="a"} 1',
    'synthline_worker_frames_total{worker="a"} 40',
    'synthline_worker_frames_total{worker="b"} 7',
    'synthline_worker_frames_per_second{worker="a"} 2.5',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}`);
  }
  assert.match(text, /^process_cpu_seconds_total /m);

  // The next scrape replaces, never adds: counters mirror what the workers report.
  m.update({
    depth: { render: {}, finalize: {} },
    jobs: {},
    workers: workerList([{ id: 'a', lastSeenMs: now, info: { frames_rendered: 41 } }], undefined, now),
  });
  const again = await m.text();
  assert.ok(again.includes('synthline_worker_frames_total{worker="a"} 41'));
  assert.ok(!again.includes('worker="b"'), 'a worker gone from the registry is gone from the metrics');

  m.update(null);
  const away = await m.text();
  assert.ok(away.includes('synthline_redis_up 0'));
  assert.ok(!away.includes('synthline_worker_up{'));
});
