import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SlotEvent } from '@synthline/blender';
import { FrameRate, RestartCounter, WorkerMetrics } from './metrics.ts';
import { buildHeartbeat, slotStates } from './heartbeat.ts';

test('FrameRate: since start while younger than the window, then over the last minute', () => {
  const t0 = 1_000_000;
  const r = new FrameRate(t0, 60_000);
  assert.equal(r.perSecond(t0), 0);
  // One frame right after start: at least a second of span, not a rate of thousands.
  r.add(1, t0 + 10);
  assert.equal(r.perSecond(t0 + 10), 1);
  // 20 more frames over 10 s: 21 frames in 10 s.
  for (let i = 1; i <= 20; i++) r.add(1, t0 + i * 500);
  assert.equal(r.perSecond(t0 + 10_000), 2.1);
  // Two minutes in, 120 frames in the last minute (2 per second), the early ones forgotten.
  for (let s = 60; s < 120; s++) r.add(2, t0 + s * 1000 + 1);
  assert.equal(r.perSecond(t0 + 120_000), 2);
  // Idle for a minute: the rate falls to 0.
  assert.equal(r.perSecond(t0 + 181_000), 0);
});

test('RestartCounter: a start beyond the first of each slot is a restart, whichever slot it is', () => {
  const slots = [{ starts: 0 }, { starts: 0 }];
  const c = new RestartCounter();
  const start = (i: number) => {
    (slots[i] as { starts: number }).starts++;
    return c.onStarted(slots);
  };
  assert.equal(start(0), 0, 'first start of slot 0');
  assert.equal(start(0), 1, 'slot 0 again (after a crash)');
  assert.equal(start(1), 0, 'first start of slot 1');
  assert.equal(start(1), 1);
  assert.equal(start(0), 1);
});

test('WorkerMetrics: frames, the render-seconds histogram, Blender events and batches in its own registry', async () => {
  const slots = [{ starts: 0, blenderVersion: '' }];
  const m = new WorkerMetrics({
    worker: 'wx',
    slots: () => slots as never,
    busySlots: () => 1,
    queueDepth: async () => ({ waiting: 4, active: 1 }),
    processMetrics: false,
  });
  m.frameOk(0.12);
  m.frameOk(0.3);
  m.frameFailed();
  slots[0]!.starts = 1;
  // Written as a cast: the event grows fields (the slot's device) that this test does not need.
  m.slotEvent({ type: 'started', pid: 1, blenderVersion: '3.4.1', device: 'CPU' } as SlotEvent, slots as never);
  slots[0]!.starts = 2;
  m.slotEvent({ type: 'started', pid: 2, blenderVersion: '3.4.1', device: 'CPU' } as SlotEvent, slots as never);
  m.slotEvent({ type: 'recycled', reason: 'memory', frames: 5, rssBytes: 1 }, slots as never);
  m.batches.inc({ outcome: 'rendered' });
  const { body, contentType } = await m.text();
  assert.match(contentType, /text\/plain/);
  assert.match(body, /synthline_worker_frames_rendered_total\{result="ok",worker="wx"\} 2/);
  assert.match(body, /synthline_worker_frames_rendered_total\{result="failed",worker="wx"\} 1/);
  assert.match(body, /synthline_worker_frame_render_seconds_count\{worker="wx"\} 2/);
  assert.match(body, /synthline_worker_frame_render_seconds_bucket\{le="0.25",worker="wx"\} 1/);
  assert.match(body, /synthline_worker_blender_restarts_total\{worker="wx"\} 1/);
  assert.match(body, /synthline_worker_blender_recycles_total\{reason="memory",worker="wx"\} 1/);
  assert.match(body, /synthline_worker_batches_total\{outcome="rendered",worker="wx"\} 1/);
  assert.match(body, /synthline_queue_depth\{queue="render",state="waiting",worker="wx"\} 4/);
  assert.match(body, /synthline_worker_slots_busy\{worker="wx"\} 1/);
  assert.doesNotMatch(body, /process_cpu/, 'no process metrics when asked not to');
  assert.deepEqual(m.totals, { framesOk: 2, framesFailed: 1, batchesFailed: 0 });
});

test('slotStates: busy slots carry their batch, idle ones null; device when the slot has one', () => {
  const slots = [{ blenderVersion: '3.4.1', device: 'CPU' }, { blenderVersion: '' }];
  const running = new Map([['j:2', { jobId: 'j', batch: 2, frames: 3, total: 8, slot: 0 }]]);
  assert.deepEqual(slotStates(slots, running), [
    { index: 0, device: 'CPU', blender_version: '3.4.1', state: 'busy', batch: { job: 'j', batch: 2, frames_done: 3, frames_total: 8 } },
    { index: 1, device: '', blender_version: null, state: 'idle', batch: null },
  ]);
});

test("heartbeat: slots not started yet show the pool's device label; the worker says which kinds it serves", () => {
  const slots = [{ blenderVersion: '' }, { blenderVersion: '4.2.0', device: 'cuda:1 NVIDIA A10' }];
  assert.deepEqual(
    slotStates(slots, new Map(), ['cuda:0 NVIDIA A10', 'cuda:1 NVIDIA A10']).map((s) => s.device),
    ['cuda:0 NVIDIA A10', 'cuda:1 NVIDIA A10'],
  );
  const metrics = new WorkerMetrics({ worker: 'hb', slots: () => [], busySlots: () => 0, processMetrics: false });
  const hb = buildHeartbeat({
    slots,
    running: new Map(),
    metrics,
    batchesRendered: 0,
    heartbeatMs: 1000,
    deviceLabels: ['cuda:0 NVIDIA A10', 'cuda:1 NVIDIA A10'],
    deviceKinds: ['cuda', 'cuda'],
    deviceRequested: 'cuda',
    cpuFallback: false,
  });
  assert.deepEqual([hb.device_kinds, hb.device_requested, hb.cpu_fallback], [['cuda'], 'cuda', false]);
  const fb = buildHeartbeat({
    slots: [{ blenderVersion: '' }],
    running: new Map(),
    metrics,
    batchesRendered: 0,
    heartbeatMs: 1000,
    deviceLabels: ['cpu'],
    deviceKinds: ['cpu'],
    deviceRequested: 'optix',
    cpuFallback: true,
  });
  assert.deepEqual([fb.device_kinds, fb.device_requested, fb.cpu_fallback], [['cpu'], 'optix', true]);
});
