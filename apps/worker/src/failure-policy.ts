import type { Job } from 'bullmq';
import { coerceError } from '@synthline/base';
import { JobStore } from '@synthline/jobs';
import { parseSpec } from '@synthline/spec';
import type { WorkerContext } from './context.ts';
import { JobFailures, PRUNE_EVERY_MS, endedJobs } from './job-failures.ts';
import { handBack, type BatchOutcome } from './render-batch.ts';

/**
 * The per-worker failure policy: after `maxFailures` failed batches of one job, this worker
 * leaves that job's batches to other workers (a broken GPU should not burn every attempt of
 * every batch). It notes why on the job and tells the registry it gave up, so that a job every
 * live worker gave up on fails (NO_WORKER_CAN_RENDER) after DEVICE_WAIT_MS. The counts are pruned
 * of jobs that ended, and capped.
 */
export class FailurePolicy {
  private readonly failures = new JobFailures();
  private prune: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly opts: { workerId: string; maxFailures: number },
  ) {}

  /** Whether this worker gave up on the job's batches. */
  gaveUp(jobId: string): boolean {
    return this.failures.count(jobId) >= this.opts.maxFailures;
  }

  /**
   * A batch of a job this worker gave up on: skipped when the job ended (nothing to hand back,
   * and nothing to remember about it); else handed back without spending an attempt, for
   * another worker (throws BullMQ's DelayedError), or failed for good when no live worker that
   * has not given up on the job could take it for longer than DEVICE_WAIT_MS.
   */
  async decline(job: Job, token: string | undefined, jobId: string): Promise<BatchOutcome['kind']> {
    const { queue, waits } = this.ctx;
    const status = await queue.store.status(jobId);
    if (!status || JobStore.isFinal(status)) {
      this.failures.delete(jobId);
      await waits.forget(jobId);
      return 'skipped';
    }
    await waits.giveUp(jobId);
    const spec = parseSpec(await queue.store.spec(jobId));
    const outcome = await handBack(
      job,
      token,
      this.ctx,
      jobId,
      spec.render.device,
      spec.render.allow_cpu_fallback,
      'this worker gave up on the job',
    );
    return outcome.kind;
  }

  /** Counts a failed batch that may be retried; at the limit, gives up on its job. */
  async failed(jobId: string, err: unknown): Promise<void> {
    const n = this.failures.add(jobId);
    if (n !== this.opts.maxFailures) return;
    const why = `worker ${this.opts.workerId} stopped taking this job's batches after ${n} failures; last: ${coerceError(err).message}`;
    this.ctx.log.warn({ job: jobId }, why);
    await this.ctx.queue.store.addNote(jobId, why).catch(() => undefined);
    await this.ctx.waits.giveUp(jobId).catch(() => undefined);
  }

  /** Drops the counts of jobs that ended, every PRUNE_EVERY_MS until {@link stop}. */
  startPruning(): void {
    const { queue, log } = this.ctx;
    this.prune ??= setInterval(() => {
      this.failures
        .prune((ids) => endedJobs(queue.store, ids))
        .then((n) => n > 0 && log.debug({ dropped: n, kept: this.failures.size }, 'failure counts of ended jobs dropped'))
        .catch((err: unknown) => log.debug({ err }, 'pruning failure counts failed (Redis away?)'));
    }, PRUNE_EVERY_MS);
    this.prune.unref();
  }

  stop(): void {
    clearInterval(this.prune);
  }
}
