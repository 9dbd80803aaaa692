import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerList, workerList, workerStatus } from './worker-registry.ts';

test('workerStatus: live up to the threshold, lost beyond it', () => {
  assert.equal(workerStatus(1000, 1000, 15_000), 'live');
  assert.equal(workerStatus(1000, 16_000, 15_000), 'live');
  assert.equal(workerStatus(1000, 16_001, 15_000), 'lost');
  // A heartbeat stamped a little in the future (clock skew) is live.
  assert.equal(workerStatus(2000, 1000, 15_000), 'live');
});

test("workerList: the threshold is a number of each worker's own heartbeat intervals", () => {
  const now = 1_000_000;
  const list = workerList(
    [
      { id: 'fast', lastSeenMs: now - 700, info: { heartbeat_ms: 200 } }, // 3.5 beats silent
      { id: 'slow', lastSeenMs: now - 7000, info: { heartbeat_ms: 5000 } }, // 1.4 beats silent
      { id: 'default', lastSeenMs: now - 16_000, info: {} }, // 5 s default: 3.2 beats
    ],
    { lostAfterHeartbeats: 3, retainLostMs: 600_000 },
    now,
  );
  assert.deepEqual(
    list.items.map((w) => [w.id, w.status, w.lost_after_s]),
    [
      ['slow', 'live', 15],
      ['default', 'lost', 15],
      ['fast', 'lost', 0.6],
    ],
  );
  assert.equal(list.live, 1);
  assert.equal(list.lost, 2);
  assert.doesNotThrow(() => WorkerList.parse(list));

  const lenient = workerList(
    [{ id: 'fast', lastSeenMs: now - 700, info: { heartbeat_ms: 200 } }],
    { lostAfterHeartbeats: 5, retainLostMs: 600_000 },
    now,
  );
  assert.equal(lenient.items[0]?.status, 'live', 'a larger threshold keeps it live');
});

test('workerList: lost workers drop after the retention; malformed or expired records get defaults', () => {
  const now = 10_000_000;
  const list = workerList(
    [
      { id: 'gone', lastSeenMs: now - 600_001, info: { host: 'h' } },
      { id: 'kept', lastSeenMs: now - 599_000, info: null },
      { id: 'odd', lastSeenMs: now, info: { host: 7, pid: 'x', slots: 2, frames_per_s: -1, started_at: '2026-01-01T00:00:00.000Z' } },
    ],
    { lostAfterHeartbeats: 3, retainLostMs: 600_000 },
    now,
  );
  assert.deepEqual(
    list.items.map((w) => w.id),
    ['odd', 'kept'],
  );
  const odd = list.items[0];
  assert.equal(odd?.host, '');
  assert.equal(odd?.pid, 0);
  assert.deepEqual(odd?.slots, []);
  assert.equal(odd?.frames_per_s, 0);
  assert.equal(odd?.started_at, '2026-01-01T00:00:00.000Z');
  assert.equal(list.items[1]?.status, 'lost');
  assert.equal(list.items[1]?.seconds_since_heartbeat, 599);
});

test('workerList: slots come through with their device and batch', () => {
  const slots = [
    { index: 0, device: 'CPU', blender_version: '3.4.1', state: 'busy', batch: { job: 'j', batch: 2, frames_done: 1, frames_total: 4 } },
    { index: 1, device: 'CPU', blender_version: null, state: 'idle', batch: null },
  ];
  const list = workerList([{ id: 'w', lastSeenMs: 5, info: { host: 'box', pid: 42, slots, heartbeat_ms: 1000 } }], undefined, 10);
  assert.deepEqual(list.items[0]?.slots, slots);
  assert.equal(list.items[0]?.last_heartbeat_at, new Date(5).toISOString());
});
