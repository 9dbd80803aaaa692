import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

/** What a worker process holds, in the order shutdown lets go of it. */
export interface ShutdownParts {
  log: Logger;
  /** SHUTDOWN_DEADLINE_MS: how long running batches get to hand back before the close is forced. */
  deadlineMs: number;
  /** Stops taking new work: the closing flag (running batches hand back at their next frame), timers. */
  stopTaking: () => void;
  /** The batch runner and the finalizer. */
  queueWorkers: Pick<Worker, 'close'>[];
  /** The render slots (their Blender processes). */
  pool: { close(): Promise<void> };
  /** Leaves the worker registry. */
  deregister: () => Promise<unknown>;
  http: { close(): Promise<void> } | undefined;
  queue: { close(): Promise<void> };
  redis: { disconnect(): void };
}

/**
 * Stops the BullMQ workers gracefully (batches running hand their frames back and end), and
 * forcefully once `deadlineMs` has passed: BullMQ's close() has no deadline of its own and can
 * hang while Redis is away.
 */
export async function closeQueueWorkers(
  workers: Pick<Worker, 'close'>[],
  deadlineMs: number,
  log: Pick<Logger, 'warn'>,
): Promise<'graceful' | 'deadline'> {
  const graceful = Promise.allSettled(workers.map((w) => w.close()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((r) => {
    timer = setTimeout(() => r('deadline'), deadlineMs);
  });
  const how = await Promise.race([graceful.then(() => 'graceful' as const), deadline]);
  clearTimeout(timer);
  if (how === 'deadline') {
    log.warn(`shutdown deadline of ${deadlineMs} ms passed: forcing`);
    await Promise.allSettled(workers.map((w) => w.close(true)));
  }
  return how;
}

/**
 * A worker's whole shutdown, graceful then forced, in one place: stop taking work, close the
 * BullMQ workers (see {@link closeQueueWorkers}), then Blender, the registry entry, HTTP, the
 * queue and Redis.
 */
export async function shutdown(parts: ShutdownParts): Promise<void> {
  parts.stopTaking();
  const how = await closeQueueWorkers(parts.queueWorkers, parts.deadlineMs, parts.log);
  await parts.pool.close();
  try {
    await Promise.race([parts.deregister(), new Promise((r) => setTimeout(r, 1000))]);
  } catch {
    // Redis away: the registry marks this worker lost by its silence.
  }
  await parts.http?.close();
  await parts.queue.close();
  parts.redis.disconnect();
  parts.log.info({ how }, 'worker closed');
}
