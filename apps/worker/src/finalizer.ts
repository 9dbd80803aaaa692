import { Worker } from 'bullmq';
import { FINALIZE_QUEUE } from '@synthline/queue';
import type { WorkerContext } from './context.ts';
import { processFinalize } from './finalize.ts';
import { logFailedJob, logWorkerErrors, type QueueWorkerOptions } from './queue-worker.ts';

/**
 * The finalizer: a BullMQ worker taking one finalize job at a time (it runs once every batch of
 * a job has finished; see processFinalize), under a lock of LOCK_DURATION_MS but at least two
 * minutes.
 */
export function startFinalizer(ctx: WorkerContext, opts: QueueWorkerOptions): Worker {
  const worker = new Worker(FINALIZE_QUEUE, (job) => processFinalize(job, ctx), {
    connection: opts.connection,
    prefix: opts.prefix,
    autorun: true,
    concurrency: 1,
    lockDuration: Math.max(opts.lockDurationMs, 120_000),
  });
  worker.on('failed', (job, err) => logFailedJob(opts.log, job, err));
  logWorkerErrors(worker, opts.log);
  return worker;
}
