import type { Logger } from 'pino';
import { DEFAULT_REGISTRY_POLICY, JobStore, workerList, type JobError, type RegistryPolicy } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import { servability, unservableError, waitVerdict, waitingNote, type Servability } from './device-wait.ts';

/** How long a batch this worker will not render waits before it is offered again (no hot loop, no attempt spent). */
export const HAND_BACK_MS = 1000;

/** The job hash field holding since when (ms, Redis clock) no live worker could take the job. */
export const UNSERVABLE_SINCE = 'unservable_since';

/** How long a job's set of workers that gave up on it lives after its last addition. */
export const GAVE_UP_TTL_S = 3600;

// Records since when a job is unservable, once, and only while the job exists and has not ended
// (a hash swept after retention must not come back as a lone field). Times are Redis's, so
// workers with skewed clocks agree on how long a job has waited.
// KEYS[1] job hash; ARGV[1] field. Returns {status} for an ended job, else {status, since, now,
// '1' if this call set it or '0'}.
const MARK = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if s == 'completed' or s == 'failed' or s == 'cancelled' then return { s } end
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local set = redis.call('HSETNX', KEYS[1], ARGV[1], now)
return { s, redis.call('HGET', KEYS[1], ARGV[1]), now, tostring(set) }
`;

// Adds a worker to a job's set of workers that gave up on it, while the job has not ended (the
// set goes when the job fails here; a late hand-back must not bring it back). KEYS[1] job hash,
// KEYS[2] the set; ARGV[1] the worker instance, ARGV[2] TTL (s).
const GIVE_UP = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s or s == 'completed' or s == 'failed' or s == 'cancelled' then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
`;

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
  ) {
    opts.queue.store.redis.defineCommand('slMarkUnservable', { numberOfKeys: 1, lua: MARK });
    opts.queue.store.redis.defineCommand('slGiveUp', { numberOfKeys: 2, lua: GIVE_UP });
  }

  private get store(): JobStore {
    return this.opts.queue.store;
  }

  /** The set of workers (instances) that gave up on a job. */
  gaveUpKey(jobId: string): string {
    return `${this.store.jobKey(jobId)}:gave-up`;
  }

  /** This worker gave up on the job (past MAX_JOB_FAILURES_PER_WORKER); refreshes the set's TTL. No-op once the job ended. */
  async giveUp(jobId: string): Promise<void> {
    const redis = this.store.redis as unknown as { slGiveUp: (k1: string, k2: string, who: string, ttl: number) => Promise<number> };
    await redis.slGiveUp(this.store.jobKey(jobId), this.gaveUpKey(jobId), this.opts.instance, GAVE_UP_TTL_S);
  }

  /** A worker that can render the job took it: the job is not waiting for one. */
  async clear(jobId: string): Promise<void> {
    await this.store.redis.hdel(this.store.jobKey(jobId), UNSERVABLE_SINCE);
  }

  /** Forgets a job's wait bookkeeping beside its hash (after it ended). */
  async forget(jobId: string): Promise<void> {
    await this.store.redis.del(this.gaveUpKey(jobId));
  }

  /**
   * Whether any live worker can take a job asking for `device`; if none can, since when (set
   * once), and past the bound the job fails: its status `failed` with the error, its pending
   * batches dropped.
   */
  async check(jobId: string, device: string, allowCpuFallback: boolean): Promise<WaitVerdict> {
    const { store } = this;
    const policy = this.opts.policy ?? DEFAULT_REGISTRY_POLICY;
    const [entries, gaveUp] = await Promise.all([store.workers(policy.retainLostMs), store.redis.smembers(this.gaveUpKey(jobId))]);
    const s = servability({ workers: workerList(entries, policy).items, device, allowCpuFallback, gaveUp });
    if (s.servable) {
      await this.clear(jobId);
      return { kind: 'servable', by: s.by };
    }
    const mark =
      (await (store.redis as unknown as { slMarkUnservable: (k: string, f: string) => Promise<string[] | null> }).slMarkUnservable(
        store.jobKey(jobId),
        UNSERVABLE_SINCE,
      )) ?? [];
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
