import type { Logger } from 'pino';
import { DEFAULT_REGISTRY_POLICY, JobStore, workerList, type JobError, type RegistryPolicy } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import { servability, unservableError, waitVerdict, waitingNote, type Servability } from './device-wait.ts';

/** How long a batch this worker will not render waits before it is offered again (no hot loop, no attempt spent). */
export const HAND_BACK_MS = 1000;

/** How long a job's set of workers that gave up on it lives after its last addition. */
export const GAVE_UP_TTL_S = 3600;

export type WaitVerdict =
  /** Some live worker (maybe this one) can take the job. */
  | { kind: 'servable'; by: string[] }
  /** The job ended (or is gone): nothing to wait for. */
  | { kind: 'ended' }
  /** No live worker can take it, for `waitedMs` so far: within the bound. */
  | { kind: 'waiting'; why: Extract<Servability, { servable: false }>; waitedMs: number; leftMs: number }
  /** Unservable past the bound: the job was failed with `error` and its pending batches dropped. */
  | { kind: 'failed'; error: JobError };

/**
 * Decides, from the worker registry, whether a job nobody here will render can run anywhere, and
 * fails it (`DEVICE_UNAVAILABLE`, `NO_WORKER_CAN_RENDER`) once it could not for longer than
 * `waitMs`. Also keeps each job's set of workers that gave up on it.
 */
export class JobWaits {
  constructor(
    private readonly opts: {
      queue: JobQueue;
      /** This worker process, as {@link workerInstance} names it. */
      instance: string;
      /** DEVICE_WAIT_MS. */
      waitMs: number;
      log: Logger;
      policy?: RegistryPolicy;
    },
  ) {}

  private get store(): JobStore {
    return this.opts.queue.store;
  }

  /** This worker gave up on the job (past MAX_JOB_FAILURES_PER_WORKER); refreshes the set's TTL. No-op once the job ended. */
  async giveUp(jobId: string): Promise<void> {
    await this.store.giveUp(jobId, this.opts.instance, GAVE_UP_TTL_S);
  }

  /** A worker that can render the job took it: the job is not waiting for one. */
  async clear(jobId: string): Promise<void> {
    await this.store.clearUnservable(jobId);
  }

  /** Forgets a job's wait bookkeeping beside its hash (after it ended). */
  async forget(jobId: string): Promise<void> {
    await this.store.forgetGaveUp(jobId);
  }

  /**
   * Whether any live worker can take a job asking for `device`; if none can, since when (set
   * once), and past the bound the job fails: its status `failed` with the error, its pending
   * batches dropped.
   */
  async check(jobId: string, device: string, allowCpuFallback: boolean): Promise<WaitVerdict> {
    const { store } = this;
    const policy = this.opts.policy ?? DEFAULT_REGISTRY_POLICY;
    const [entries, gaveUp] = await Promise.all([store.workers(policy.retainLostMs), store.gaveUp(jobId)]);
    const s = servability({ workers: workerList(entries, policy).items, device, allowCpuFallback, gaveUp });
    if (s.servable) {
      await this.clear(jobId);
      return { kind: 'servable', by: s.by };
    }
    const mark = (await store.markUnservable(jobId)) ?? [];
    const [status, since, now, started] = mark;
    if (!status || JobStore.isFinal(status) || since === undefined || now === undefined) return { kind: 'ended' };
    if (started === '1') {
      // Once per wait: the owner sees why the job does not start, and until when it may wait.
      const note = waitingNote(s, this.opts.waitMs);
      this.opts.log.info({ job: jobId, code: s.code }, note);
      await store.addNote(jobId, note).catch(() => undefined);
    }
    const v = waitVerdict(Number(since), Number(now), this.opts.waitMs);
    if (!v.expired) return { kind: 'waiting', why: s, waitedMs: v.waitedMs, leftMs: v.leftMs };
    const error = unservableError(s, v.waitedMs);
    const after = await store.fail(jobId, error.code, error.message);
    if (after !== 'failed') return { kind: 'ended' }; // it ended otherwise meanwhile (completed, cancelled)
    await this.opts.queue.dropPendingBatches(jobId);
    await this.forget(jobId).catch(() => undefined);
    this.opts.log.warn({ job: jobId, code: error.code, waited_ms: v.waitedMs }, `job failed: ${error.message}`);
    return { kind: 'failed', error };
  }
}
