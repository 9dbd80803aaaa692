import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerList } from '@synthline/jobs';
import { age, formatWorkers } from './workers-table.ts';

test('age', () => {
  assert.equal(age(4.4), '4s');
  assert.equal(age(185), '3m05s');
  assert.equal(age(7260), '2h01m');
});

test('formatWorkers: a line per worker, a line per slot, the totals', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const list = workerList(
    [
      {
        id: 'gpu-a',
        lastSeenMs: now - 1000,
        info: {
          host: 'vm1',
          pid: 10,
          heartbeat_ms: 1000,
          frames_per_s: 3.5,
          frames_rendered: 120,
          started_at: '2026-01-01T00:00:00Z',
          blender_version: '4.2.0',
          slots: [
            {
              index: 0,
              device: 'CUDA:0',
              blender_version: '4.2.0',
              state: 'busy',
              batch: { job: 'abc', batch: 3, frames_done: 5, frames_total: 24 },
            },
            { index: 1, device: '', blender_version: null, state: 'idle', batch: null },
          ],
        },
      },
      { id: 'old', lastSeenMs: now - 60_000, info: { host: 'vm2', heartbeat_ms: 1000 } },
    ],
    undefined,
    now,
  );
  const text = formatWorkers(list);
  const lines = text.split('\n');
  assert.match(lines[0] ?? '', /^WORKER\s+STATUS\s+HOST/);
  assert.match(lines[1] ?? '', /^gpu-a\s+live\s+vm1\s+10\s+2\s+1\s+3\.50\s+120\s+0\s+0\s+1s ago\s+10m00s\s+4\.2\.0$/);
  assert.equal(lines[2], '  slot 0  CUDA:0  busy: job abc batch 3 (5/24 frames)');
  assert.equal(lines[3], '  slot 1  device ?  idle');
  assert.match(lines[4] ?? '', /^old\s+lost\s+vm2\s+-\s+0\s+0\s+0\.00\s+0\s+0\s+0\s+1m00s ago\s+-\s+-$/);
  assert.equal(lines.at(-1), '1 live, 1 lost');
  assert.match(formatWorkers({ items: [], live: 0, lost: 0 }), /no workers/);
});
