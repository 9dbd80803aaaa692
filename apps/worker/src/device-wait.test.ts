import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerList } from '@synthline/jobs';
import {
  servability,
  servesDevice,
  unservableError,
  waitVerdict,
  waitingNote,
  workerInstance,
  workerKinds,
  type WorkerCapability,
} from './device-wait.ts';

const w = (id: string, kinds: string[], status: 'live' | 'lost' = 'live', startedAt = '2026-01-01T00:00:00.000Z'): WorkerCapability => ({
  id,
  status,
  started_at: startedAt,
  slots: [],
  device_kinds: kinds,
});

test('workerKinds: what the heartbeat says, deduplicated; empty (serves any kind) when it says nothing', () => {
  assert.deepEqual(workerKinds({ device_kinds: ['cuda', 'cuda', ''] }), ['cuda']);
  assert.deepEqual(workerKinds({ device_kinds: [] }), []);
  assert.deepEqual(workerKinds({}), []);
});

test('servesDevice mirrors the slot pool: auto anywhere, a kind on its kind, the CPU with fallback, unknown serves', () => {
  assert.equal(servesDevice(['cpu'], 'auto', false), true);
  assert.equal(servesDevice(['cpu'], 'cpu', false), true);
  assert.equal(servesDevice(['cpu'], 'optix', false), false);
  assert.equal(servesDevice(['cpu'], 'optix', true), true);
  assert.equal(servesDevice(['cuda'], 'optix', true), false);
  assert.equal(servesDevice(['cuda'], 'cuda', false), true);
  assert.equal(servesDevice(['cuda'], 'cpu', false), false);
  assert.equal(servesDevice([], 'metal', false), true, 'a worker that does not say is not ruled out');
});

test('servability: DEVICE_UNAVAILABLE when no live worker renders on the kind; lost workers do not count', () => {
  const workers = [w('cpu-1', ['cpu']), w('cpu-2', ['cpu']), w('gpu-gone', ['optix'], 'lost')];
  const s = servability({ workers, device: 'optix', allowCpuFallback: false });
  assert.equal(s.servable, false);
  assert.ok(!s.servable);
  assert.equal(s.code, 'DEVICE_UNAVAILABLE');
  assert.equal(s.live, 2);
  assert.deepEqual(s.liveKinds, ['cpu']);
  assert.deepEqual(servability({ workers, device: 'optix', allowCpuFallback: true }), { servable: true, by: ['cpu-1', 'cpu-2'] });
  assert.deepEqual(servability({ workers: [...workers, w('gpu', ['optix'])], device: 'optix', allowCpuFallback: false }), {
    servable: true,
    by: ['gpu'],
  });
  assert.deepEqual(servability({ workers, device: 'auto', allowCpuFallback: false }).servable, true);
  // No live worker at all: nothing to judge by; the job waits for workers as any job does.
  assert.deepEqual(servability({ workers: [w('gpu-gone', ['optix'], 'lost')], device: 'optix', allowCpuFallback: false }), {
    servable: true,
    by: [],
  });
});

test('servability: NO_WORKER_CAN_RENDER once every capable live worker gave up; a restarted worker has not', () => {
  const a = w('a', ['cuda']);
  const b = w('b', ['cuda']);
  const c = w('c', ['cpu']);
  const gaveUp = [workerInstance('a', a.started_at)];
  assert.deepEqual(servability({ workers: [a, b, c], device: 'cuda', allowCpuFallback: false, gaveUp }), { servable: true, by: ['b'] });
  gaveUp.push(workerInstance('b', b.started_at));
  const s = servability({ workers: [a, b, c], device: 'cuda', allowCpuFallback: false, gaveUp });
  assert.ok(!s.servable);
  assert.equal(s.code, 'NO_WORKER_CAN_RENDER');
  assert.deepEqual(s.gaveUp, ['a', 'b']);
  // With CPU fallback the CPU worker can still take it.
  assert.deepEqual(servability({ workers: [a, b, c], device: 'cuda', allowCpuFallback: true, gaveUp }), { servable: true, by: ['c'] });
  // `a` restarted under the same id: its new process has not given up.
  const a2 = w('a', ['cuda'], 'live', '2026-01-02T00:00:00.000Z');
  assert.deepEqual(servability({ workers: [a2, b], device: 'cuda', allowCpuFallback: false, gaveUp }), { servable: true, by: ['a'] });
});

test('servability reads the registry views workerList makes, old heartbeats included', () => {
  const now = 1_000_000;
  const list = workerList(
    [
      { id: 'new', lastSeenMs: now, info: { heartbeat_ms: 1000, device_kinds: ['cpu'], device_requested: 'auto', cpu_fallback: false } },
      { id: 'old', lastSeenMs: now - 60_000, info: { heartbeat_ms: 1000 } }, // lost, says nothing
    ],
    undefined,
    now,
  );
  assert.deepEqual(
    list.items.map((x) => [x.id, x.status, x.device_kinds, x.device_requested, x.cpu_fallback]),
    [
      ['new', 'live', ['cpu'], 'auto', false],
      ['old', 'lost', [], null, false],
    ],
  );
  const s = servability({ workers: list.items, device: 'hip', allowCpuFallback: false });
  assert.equal(s.servable, false);
  const older = workerList([{ id: 'old', lastSeenMs: now, info: { heartbeat_ms: 1000 } }], undefined, now);
  assert.equal(
    servability({ workers: older.items, device: 'hip', allowCpuFallback: false }).servable,
    true,
    'a live worker that does not say may serve it',
  );
});

test('waitVerdict: expired only once the wait is longer than the bound', () => {
  assert.deepEqual(waitVerdict(1000, 1000, 2000), { expired: false, waitedMs: 0, leftMs: 2000 });
  assert.deepEqual(waitVerdict(1000, 3000, 2000), { expired: false, waitedMs: 2000, leftMs: 0 });
  assert.deepEqual(waitVerdict(1000, 3001, 2000), { expired: true, waitedMs: 2001, leftMs: 0 });
  assert.deepEqual(waitVerdict(5000, 1000, 2000), { expired: false, waitedMs: 0, leftMs: 2000 }, 'a since in the future waits');
  assert.equal(waitVerdict(1000, 1001, 0).expired, true);
});

test('unservableError names the device, the kinds live workers have, and what to do', () => {
  const s = servability({ workers: [w('c', ['cpu'])], device: 'optix', allowCpuFallback: false });
  assert.ok(!s.servable);
  const e = unservableError(s, 300_000);
  assert.equal(e.code, 'DEVICE_UNAVAILABLE');
  assert.match(
    e.message,
    /render\.device "optix", but none of the 1 live worker renders on it \(they render on cpu\); waited 300 s \(DEVICE_WAIT_MS\)/,
  );
  assert.match(e.message, /render\.allow_cpu_fallback: true/);
  assert.match(e.message, /WORKER_DEVICE=optix/);
  assert.equal(
    waitingNote(s, 300_000),
    'no live worker renders on render.device "optix" (they render on cpu): the job waits up to 300 s (DEVICE_WAIT_MS) for one, then fails with DEVICE_UNAVAILABLE',
  );
  const fb = servability({ workers: [w('g', ['cuda']), w('h', ['hip'])], device: 'optix', allowCpuFallback: true });
  assert.ok(!fb.servable);
  assert.match(
    unservableError(fb, 2100).message,
    /"optix" \(or the CPU: render\.allow_cpu_fallback\), but none of the 2 live workers .*cuda, hip\); waited 2\.1 s.*WORKER_DEVICE=cpu/,
  );
  const gave = servability({
    workers: [w('a', ['cpu'])],
    device: 'auto',
    allowCpuFallback: false,
    gaveUp: [workerInstance('a', '2026-01-01T00:00:00.000Z')],
  });
  assert.ok(!gave.servable);
  const g = unservableError(gave, 1000);
  assert.equal(g.code, 'NO_WORKER_CAN_RENDER');
  assert.match(g.message, /gave up on it after repeated failed batches \(a\)/);
  assert.match(
    waitingNote(gave, 2000),
    /gave up on it \(a\): the job waits up to 2 s \(DEVICE_WAIT_MS\) for one, then fails with NO_WORKER_CAN_RENDER$/,
  );
});
