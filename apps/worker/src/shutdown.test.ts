import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { closeQueueWorkers, shutdown } from './shutdown.ts';

/** A BullMQ worker stand-in whose graceful close ends when `release` is called (or never). */
function fakeWorker() {
  const calls: (boolean | undefined)[] = [];
  let release = () => {};
  const graceful = new Promise<void>((r) => {
    release = r;
  });
  return {
    calls,
    release: () => release(),
    close: (force?: boolean) => {
      calls.push(force);
      return force ? Promise.resolve() : graceful;
    },
  };
}

const log = pino({ level: 'silent' });

test('closeQueueWorkers: graceful when every worker closes within the deadline', async () => {
  const a = fakeWorker();
  const b = fakeWorker();
  a.release();
  b.release();
  assert.equal(await closeQueueWorkers([a, b], 5000, log), 'graceful');
  assert.deepEqual([a.calls, b.calls], [[undefined], [undefined]]);
});

test('closeQueueWorkers: forced once the deadline passes', async () => {
  const a = fakeWorker();
  const b = fakeWorker();
  a.release(); // b hangs, as BullMQ's close() does while Redis is away
  const warned: string[] = [];
  const how = await closeQueueWorkers([a, b], 20, { warn: (msg: string) => warned.push(msg) } as Pick<typeof log, 'warn'>);
  assert.equal(how, 'deadline');
  assert.deepEqual(
    [a.calls, b.calls],
    [
      [undefined, true],
      [undefined, true],
    ],
  );
  assert.deepEqual(warned, ['shutdown deadline of 20 ms passed: forcing']);
});

test('shutdown: stops taking work first, then queue workers, Blender, registry, HTTP, queue, Redis', async () => {
  const order: string[] = [];
  const w = fakeWorker();
  w.release();
  await shutdown({
    log,
    deadlineMs: 1000,
    stopTaking: () => order.push('stop taking'),
    queueWorkers: [{ close: async () => void order.push('queue workers') }],
    pool: { close: async () => void order.push('pool') },
    deregister: () => Promise.reject(new Error('Redis away')).finally(() => order.push('deregister')),
    http: { close: async () => void order.push('http') },
    queue: { close: async () => void order.push('queue') },
    redis: { disconnect: () => void order.push('redis') },
  });
  assert.deepEqual(order, ['stop taking', 'queue workers', 'pool', 'deregister', 'http', 'queue', 'redis']);
});
