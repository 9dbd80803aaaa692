import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What the batch runner's and the finalizer's BullMQ workers share. */
export interface QueueWorkerOptions {
  connection: Redis;
  /** SYNTHLINE_PREFIX. */
  prefix: string;
  /** LOCK_DURATION_MS. */
  lockDurationMs: number;
  log: Logger;
}

/** Logs a BullMQ job that failed (one attempt of it), with the synthline job and batch it was for. */
export function logFailedJob(log: Logger, job: Job | undefined, err: Error): void {
  const data = (job?.data ?? {}) as { jobId?: string; batch?: number };
  log.warn({ job: data.jobId, batch: data.batch, bullJob: job?.id, attempts: job?.attemptsMade }, `job failed: ${err.message}`);
}

/** Logs a BullMQ worker's own errors (connection, lock renewal). */
export function logWorkerErrors(worker: Worker, log: Logger): void {
  worker.on('error', (err) => log.error({ err }, 'worker error'));
}
