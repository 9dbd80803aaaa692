import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { FrameFailureCode, JobErrorCode, type QuotaName } from '@synthline/spec';

/** Where a job is in its life. `completed`, `failed` and `cancelled` are final. */
export const JobStatus = z.enum(['queued', 'running', 'finalizing', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** A failure stored on a job: data, not an exception. */
export const JobError = z.object({
  code: JobErrorCode,
  message: z.string(),
  details: z.array(z.string()).optional(),
});
export type JobError = z.infer<typeof JobError>;

/** A frame that failed, with Blender's message. */
export const FrameFailureRecord = z.object({ index: z.number().int(), code: FrameFailureCode, error: z.string() });
export type FrameFailureRecord = z.infer<typeof FrameFailureRecord>;

/** What the store keeps about a job (the spec is kept apart, see {@link JobStore.spec}). */
export interface JobRecord {
  id: string;
  name: string;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  frames_total: number;
  /** Frames rendered, in committed batches plus those in flight. */
  frames_done: number;
  frames_failed: number;
  batch_size: number;
  batches_total: number;
  /** Batches enqueued ahead: batch b, when it starts, enqueues batch b + window. */
  window: number;
  max_failed_frames: number;
  output_uri: string | null;
  manifest_uri: string | null;
  shards: { name: string; samples: number; bytes: number; sha256: string }[];
  error: JobError | null;
  failures: FrameFailureRecord[];
  /** What happened to the job worth telling its owner (e.g. a worker that stopped taking its batches). */
  notes: string[];
}

const FINAL = new Set<string>(FINAL_STATUSES);

// Moves a job to a new status if its current one is allowed, never out of a final one, and keeps
// the indexes with it: the per-status sorted sets, the status counters /metrics reads, the
// owner's quota (released when the job ends) and the retention clock of a job that ended.
// KEYS[1] job hash; ARGV[1] new status; ARGV[2] allowed from (comma list, "*" = any non-final);
// ARGV[3] key prefix; ARGV[4] now (ms); ARGV[5..] field/value pairs to set with it.
// Returns the status after the call.
const TRANSITION = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if s == 'completed' or s == 'failed' or s == 'cancelled' then return s end
if ARGV[2] ~= '*' and not string.find(',' .. ARGV[2] .. ',', ',' .. s .. ',', 1, true) then return s end
local to = ARGV[1]
redis.call('HSET', KEYS[1], 'status', to)
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if to ~= s then
  local P = ARGV[3]
  local id = redis.call('HGET', KEYS[1], 'id')
  local score = redis.call('ZSCORE', P .. ':jobs', id) or ARGV[4]
  redis.call('ZREM', P .. ':jobs:s:' .. s, id)
  redis.call('ZADD', P .. ':jobs:s:' .. to, score, id)
  redis.call('HINCRBY', P .. ':jobs:counts', s, -1)
  redis.call('HINCRBY', P .. ':jobs:counts', to, 1)
  if to == 'completed' or to == 'failed' or to == 'cancelled' then
    local owner = redis.call('HGET', KEYS[1], 'owner')
    if owner then
      local q = P .. ':quota:' .. owner
      redis.call('HINCRBY', q, 'jobs', -1)
      redis.call('HINCRBY', q, 'frames', -tonumber(redis.call('HGET', KEYS[1], 'quota_frames') or '0'))
    end
    local keep = tonumber(redis.call('HGET', KEYS[1], 'retention_s') or '0')
    if keep and keep > 0 then
      redis.call('ZADD', P .. ':jobs:expiry', tonumber(ARGV[4]) + keep * 1000, id)
      for _, k in ipairs({ KEYS[1], KEYS[1] .. ':inflight', KEYS[1] .. ':done', KEYS[1] .. ':failures', KEYS[1] .. ':notes' }) do
        redis.call('EXPIRE', k, keep)
      end
    end
  end
  redis.call('PUBLISH', P .. ':events', id)
end
return to
`;

// Creates a job if its owner's quotas allow it, reserving what it takes, in one step: two
// submits racing for the last slot of a quota cannot both pass.
// KEYS[1] job hash; ARGV: prefix, id, score (created, ms), owner, frames, budget units,
// max jobs in flight, max frames outstanding, max daily units (0 = no limit), day (YYYYMMDD),
// then field/value pairs. Returns {'ok'} or {quota, used, limit}.
const CREATE = `
local P, id, owner = ARGV[1], ARGV[2], ARGV[4]
local frames, units = tonumber(ARGV[5]), tonumber(ARGV[6])
local maxJobs, maxFrames, maxDaily = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local q = P .. ':quota:' .. owner
local day = q .. ':day:' .. ARGV[10]
local jobs = tonumber(redis.call('HGET', q, 'jobs') or '0')
local held = tonumber(redis.call('HGET', q, 'frames') or '0')
local spent = tonumber(redis.call('GET', day) or '0')
if maxJobs > 0 and jobs + 1 > maxJobs then return { 'jobs_in_flight', tostring(jobs), ARGV[7] } end
if maxFrames > 0 and held + frames > maxFrames then return { 'frames_outstanding', tostring(held), ARGV[8] } end
if maxDaily > 0 and spent + units > maxDaily then return { 'daily_budget', tostring(spent), ARGV[9] } end
redis.call('HINCRBY', q, 'jobs', 1)
redis.call('HINCRBY', q, 'frames', frames)
redis.call('INCRBYFLOAT', day, units)
redis.call('EXPIRE', day, 172800)
for i = 11, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'owner', owner, 'quota_frames', frames)
redis.call('ZADD', P .. ':jobs', ARGV[3], id)
redis.call('ZADD', P .. ':jobs:s:queued', ARGV[3], id)
redis.call('HINCRBY', P .. ':jobs:counts', 'queued', 1)
return { 'ok' }
`;

// Forgets jobs whose retention has passed: their hash and bookkeeping, and their place in every
// index and counter. ARGV: prefix, now (ms), most jobs per call. Returns how many it removed.
const SWEEP = `
local P = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', P .. ':jobs:expiry', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZREM', P .. ':jobs', id)
  for _, s in ipairs({ 'queued', 'running', 'finalizing', 'completed', 'failed', 'cancelled' }) do
    if redis.call('ZREM', P .. ':jobs:s:' .. s, id) == 1 then redis.call('HINCRBY', P .. ':jobs:counts', s, -1) end
  end
  local k = P .. ':job:' .. id
  redis.call('DEL', k, k .. ':inflight', k .. ':done', k .. ':failures', k .. ':notes')
  redis.call('ZREM', P .. ':jobs:expiry', id)
end
return #ids
`;

// Counts a batch once, however often it ran. KEYS: job hash, done bitmap, in-flight hash,
// failures list. ARGV: events channel, job id, batch, frames ok, frames failed, failure
// records... Returns 1 if counted.
const COMMIT = `
if redis.call('SETBIT', KEYS[2], ARGV[3], 1) == 1 then
  redis.call('HDEL', KEYS[3], ARGV[3])
  return 0
end
redis.call('HINCRBY', KEYS[1], 'frames_done', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'frames_failed', ARGV[5])
redis.call('HDEL', KEYS[3], ARGV[3])
for i = 6, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[i]) end
redis.call('LTRIM', KEYS[4], 0, 199)
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`;

/** sha256 of a value's canonical JSON (keys sorted), for idempotency checks. */
export function canonicalHash(value: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash('sha256')
    .update(JSON.stringify(canon(value)))
    .digest('hex');
}

/** The job hash field holding since when (ms, Redis clock) no live worker could take the job. */
export const UNSERVABLE_SINCE = 'unservable_since';

// Records since when a job is unservable, once, and only while the job exists and has not ended
// (a hash swept after retention must not come back as a lone field). Times are Redis's, so
// workers with skewed clocks agree on how long a job has waited.
// KEYS[1] job hash; ARGV[1] the field (UNSERVABLE_SINCE). Returns {status} for an ended job, else {status, since, now,
// '1' if this call set it or '0'}.
const MARK_UNSERVABLE = `
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

/**
 * What one owner (an API key, or `local` without keys) may hold; 0 means no limit:
 * `jobs_in_flight` (jobs not yet completed, failed or cancelled), `frames_outstanding` (frames of
 * those jobs), `daily_budget` (frames x megapixels x samples submitted per UTC day).
 */
export type Quota = Record<QuotaName, number>;
export type { QuotaName };

/** No limits: what a store without quotas configured applies. */
export const NO_QUOTA: Quota = { jobs_in_flight: 0, frames_outstanding: 0, daily_budget: 0 };

/** A submission would take its owner past a quota; nothing was stored. */
export class QuotaExceededError extends Error {
  override name = 'QuotaExceededError';
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
    readonly used: number,
    readonly requested: number,
    /** When the quota frees up: the next UTC midnight for the daily budget; null when a job of the owner's must end first. */
    readonly resetsAt: Date | null,
  ) {
    super(
      quota === 'daily_budget'
        ? `daily budget of ${limit} frame-megapixel-samples used up (${round(used)} spent today, this job needs ${round(requested)}); it resets at ${resetsAt?.toISOString()}`
        : quota === 'jobs_in_flight'
          ? `at most ${limit} jobs in flight per key (${used} running or queued); one must end (or be cancelled) first`
          : `at most ${limit} frames outstanding per key (${used} in jobs not yet ended, this job asks for ${requested}); wait for a job to end or cancel one`,
    );
  }
}

const round = (n: number) => Number(n.toPrecision(6));

/** The budget units of a job: frames x megapixels x samples. */
export function budgetUnits(spec: { count: number; render: { resolution: [number, number] | number[]; samples: number } }): number {
  const [w = 0, h = 0] = spec.render.resolution;
  return (spec.count * w * h * spec.render.samples) / 1e6;
}

/** The Idempotency-Key was claimed by a request that is still creating its job, for too long. */
export class IdempotencyPendingError extends Error {
  override name = 'IdempotencyPendingError';
  readonly code = 'IDEMPOTENCY_PENDING';
  constructor() {
    super('a request with this Idempotency-Key is still being processed; retry shortly');
  }
}

/** How the store lists a page of jobs: newest first, after a cursor. */
export interface JobPageQuery {
  status?: JobStatus;
  /** The `next_cursor` of the previous page; none: the first page. */
  cursor?: string;
  limit?: number;
}

/** A cursor is opaque to clients: the position (created ms and id) of the last job of a page. */
export function encodeCursor(score: number, id: string): string {
  return Buffer.from(`${score}:${id}`).toString('base64url');
}

/** The position in a cursor, or null if it is not one this store made. */
export function decodeCursor(cursor: string): { score: number; id: string } | null {
  const m = /^(\d{1,16}):([A-Za-z0-9]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { score: Number(m[1]), id: m[2] as string } : null;
}

/**
 * One page of a sorted-set index (scores: created ms), newest first, after `cursor`, and the
 * cursor of the next page (null on the last). Reads at most `limit` entries (plus the few created
 * in the same millisecond as the cursor's), however long the index. A cursor that is not one
 * {@link encodeCursor} made: RangeError.
 */
export async function pageOfIndex(
  redis: Redis,
  index: string,
  opts: { cursor?: string; limit?: number },
): Promise<{ ids: string[]; total: number; next: string | null }> {
  const limit = opts.limit ?? 20;
  let max = '+inf';
  let skip = 0;
  if (opts.cursor) {
    const at = decodeCursor(opts.cursor);
    if (!at) throw new RangeError('cursor: not a cursor this API gave out');
    max = String(at.score);
    // Entries of the same millisecond come in descending id order: skip those the last page showed.
    const ties = await redis.zrangebyscore(index, at.score, at.score);
    skip = ties.filter((id) => id >= at.id).length;
  }
  const [flat, total] = await Promise.all([
    redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', skip, limit + 1),
    redis.zcard(index),
  ]);
  const rows: { id: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ id: flat[i] as string, score: Number(flat[i + 1]) });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { ids: page.map((r) => r.id), total, next: rows.length > limit && last ? encodeCursor(last.score, last.id) : null };
}

/** Version of the index layout; an older store is indexed once at start (see {@link JobStore.ensureIndexes}). */
const INDEX_VERSION = '2';

/**
 * Job state in Redis, beside BullMQ's own keys: one hash per job (status, counters, output), a
 * bitmap of committed batches, a hash of frames done in batches still running, a capped list of
 * frame failures, a sorted set of all jobs and one per status, counters per status, quota
 * counters per owner, the expiry times of ended jobs, idempotency keys and worker heartbeats.
 * Every change a client follows is published on `<prefix>:events` (the job id), so event
 * streams share one subscription instead of reading Redis each.
 */
export class JobStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    redis.defineCommand('slTransition', { numberOfKeys: 1, lua: TRANSITION });
    redis.defineCommand('slCommit', { numberOfKeys: 4, lua: COMMIT });
    redis.defineCommand('slCreate', { numberOfKeys: 1, lua: CREATE });
    redis.defineCommand('slSweep', { numberOfKeys: 0, lua: SWEEP });
    redis.defineCommand('slMarkUnservable', { numberOfKeys: 1, lua: MARK_UNSERVABLE });
    redis.defineCommand('slGiveUp', { numberOfKeys: 2, lua: GIVE_UP });
  }

  /** The pub/sub channel that carries the id of every job that changed. */
  get eventsChannel(): string {
    return this.key('events');
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  jobKey(id: string): string {
    return this.key('job', id);
  }

  /**
   * Stores a new job, queued, if its owner's quotas allow it (throws {@link QuotaExceededError}
   * otherwise, storing nothing). Once it ends, the job is kept `retention_s` seconds, then forgotten.
   */
  async create(
    rec: {
      id: string;
      name: string;
      spec: unknown;
      frames_total: number;
      batch_size: number;
      batches_total: number;
      window: number;
      max_failed_frames: number;
      output_uri: string;
    },
    opts: { owner?: string; quota?: Quota; units?: number; retentionS?: number } = {},
  ): Promise<void> {
    const now = new Date();
    const quota = opts.quota ?? NO_QUOTA;
    const units = opts.units ?? 0;
    const day = now.toISOString().slice(0, 10).replaceAll('-', '');
    const fields: Record<string, string | number> = {
      id: rec.id,
      name: rec.name,
      spec: JSON.stringify(rec.spec),
      status: 'queued',
      created_at: now.toISOString(),
      frames_total: rec.frames_total,
      frames_done: 0,
      frames_failed: 0,
      batch_size: rec.batch_size,
      batches_total: rec.batches_total,
      window: rec.window,
      max_failed_frames: rec.max_failed_frames,
      output_uri: rec.output_uri,
      retention_s: opts.retentionS ?? 0,
    };
    const r = await (this.redis as unknown as { slCreate: (...a: (string | number)[]) => Promise<string[]> }).slCreate(
      this.jobKey(rec.id),
      this.prefix,
      rec.id,
      now.getTime(),
      opts.owner ?? 'local',
      rec.frames_total,
      units,
      quota.jobs_in_flight,
      quota.frames_outstanding,
      quota.daily_budget,
      day,
      ...Object.entries(fields).flat(),
    );
    if (r[0] !== 'ok') {
      const name = r[0] as QuotaName;
      const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
      const requested = name === 'jobs_in_flight' ? 1 : name === 'frames_outstanding' ? rec.frames_total : units;
      throw new QuotaExceededError(name, Number(r[2]), Number(r[1]), requested, name === 'daily_budget' ? midnight : null);
    }
  }

  /** What an owner holds now: jobs in flight, their frames, and today's budget spent. */
  async quotaUsage(owner: string): Promise<{ jobs_in_flight: number; frames_outstanding: number; daily_budget: number }> {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const [[jobs, frames], spent] = await Promise.all([
      this.redis.hmget(this.key('quota', owner), 'jobs', 'frames'),
      this.redis.get(this.key('quota', owner, 'day', day)),
    ]);
    return { jobs_in_flight: Number(jobs ?? 0), frames_outstanding: Number(frames ?? 0), daily_budget: Number(spent ?? 0) };
  }

  /** The job's parsed spec, or null if there is no such job. */
  async spec(id: string): Promise<unknown> {
    const s = await this.redis.hget(this.jobKey(id), 'spec');
    return s === null ? null : JSON.parse(s);
  }

  /** A job as stored, or null. */
  async get(id: string): Promise<JobRecord | null> {
    const [h, inflight, failures, notes] = await Promise.all([
      this.redis.hgetall(this.jobKey(id)),
      this.redis.hvals(this.key('job', id, 'inflight')),
      this.redis.lrange(this.key('job', id, 'failures'), 0, 199),
      this.redis.lrange(this.key('job', id, 'notes'), 0, 49),
    ]);
    if (!h.id) return null;
    const num = (v: string | undefined) => Number(v ?? 0);
    const json = <T>(v: string | undefined, fallback: T): T => (v ? (JSON.parse(v) as T) : fallback);
    return {
      id: h.id,
      name: h.name ?? '',
      status: JobStatus.parse(h.status),
      created_at: h.created_at ?? '',
      started_at: h.started_at ?? null,
      finished_at: h.finished_at ?? null,
      frames_total: num(h.frames_total),
      frames_done: Math.min(num(h.frames_total), num(h.frames_done) + inflight.reduce((s, v) => s + Number(v), 0)),
      frames_failed: num(h.frames_failed),
      batch_size: num(h.batch_size),
      batches_total: num(h.batches_total),
      window: num(h.window),
      max_failed_frames: num(h.max_failed_frames),
      output_uri: h.output_uri ?? null,
      manifest_uri: h.manifest_uri ?? null,
      shards: json(h.shards, []),
      error: json(h.error, null),
      failures: failures.map((f) => FrameFailureRecord.parse(JSON.parse(f))),
      notes,
    };
  }

  /**
   * One page of job ids, newest first, optionally only those with a status, and the cursor of
   * the next page (null on the last). Reads one index and at most `limit` entries of it (plus
   * the few jobs created in the same millisecond as the cursor's), however many jobs exist.
   */
  async list(opts: JobPageQuery = {}): Promise<{ ids: string[]; total: number; next: string | null }> {
    return pageOfIndex(this.redis, opts.status ? this.key('jobs', 's', opts.status) : this.key('jobs'), opts);
  }

  /**
   * Forgets jobs whose retention passed (their hash, bookkeeping and index entries), at most
   * `max` per call; returns how many. Datasets in storage are not touched.
   */
  async sweepExpired(now = Date.now(), max = 1000): Promise<number> {
    return (this.redis as unknown as { slSweep: (...a: (string | number)[]) => Promise<number> }).slSweep(this.prefix, now, max);
  }

  /**
   * Builds the per-status indexes and counters of a store written by an older version (one walk
   * over its jobs), once; later calls return at once.
   */
  async ensureIndexes(): Promise<void> {
    const version = this.key('jobs', 'index-version');
    if ((await this.redis.get(version)) === INDEX_VERSION) return;
    if ((await this.redis.set(this.key('jobs', 'index-lock'), '1', 'EX', 60, 'NX')) !== 'OK') return; // another process builds it
    const counts = Object.fromEntries(JobStatus.options.map((s) => [s, 0])) as Record<JobStatus, number>;
    const tx = this.redis.multi().del(this.key('jobs', 'counts'), ...JobStatus.options.map((s) => this.key('jobs', 's', s)));
    const flat = await this.redis.zrange(this.key('jobs'), 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < flat.length; i += 2000) {
      const chunk: { id: string; score: string }[] = [];
      for (let j = i; j + 1 < Math.min(flat.length, i + 2000); j += 2) chunk.push({ id: flat[j] as string, score: flat[j + 1] as string });
      const p = this.redis.pipeline();
      for (const c of chunk) p.hget(this.jobKey(c.id), 'status');
      const res = (await p.exec()) ?? [];
      chunk.forEach((c, k) => {
        const s = res[k]?.[1];
        if (typeof s === 'string' && s in counts) {
          counts[s as JobStatus]++;
          tx.zadd(this.key('jobs', 's', s), c.score, c.id);
        }
      });
    }
    tx.hset(this.key('jobs', 'counts'), counts).set(version, INDEX_VERSION);
    await tx.exec();
    await this.redis.del(this.key('jobs', 'index-lock'));
  }

  /**
   * Moves a job to `to` if it is in one of `from` (any non-final status when omitted), setting
   * `fields` with it. Returns the status the job has afterwards, or null if there is no job.
   * Callers use the named transitions below, each of which knows its sources and its fields.
   */
  private async transition(id: string, to: JobStatus, from: JobStatus[] | '*', fields: Record<string, string>): Promise<JobStatus | null> {
    const args = [to, from === '*' ? '*' : from.join(','), this.prefix, String(Date.now()), ...Object.entries(fields).flat()];
    const r = await (this.redis as unknown as { slTransition: (k: string, ...a: string[]) => Promise<string | null> }).slTransition(
      this.jobKey(id),
      ...args,
    );
    return r ? JobStatus.parse(r) : null;
  }

  /**
   * A worker took the job's first batch: `queued` -> `running`, stamped `started_at`. A job
   * already running (or past it) is left as it is. Returns the status after, or null if no job.
   */
  async start(id: string): Promise<JobStatus | null> {
    return this.transition(id, 'running', ['queued'], { started_at: new Date().toISOString() });
  }

  /**
   * Every batch ended and finalize assembles the dataset: `queued`/`running` -> `finalizing`,
   * stamped `finalizing_at`. Returns the status after, or null if no job.
   */
  async startFinalizing(id: string): Promise<JobStatus | null> {
    return this.transition(id, 'finalizing', ['queued', 'running'], { finalizing_at: new Date().toISOString() });
  }

  /**
   * The dataset is published: any non-final status -> `completed`, with the output and the final
   * counts. Returns the status after (a job cancelled or failed meanwhile keeps its status), or
   * null if no job.
   */
  async complete(
    id: string,
    output: { frames_done: number; frames_failed?: number; manifest_uri: string; shards?: JobRecord['shards'] },
  ): Promise<JobStatus | null> {
    return this.transition(id, 'completed', '*', {
      finished_at: new Date().toISOString(),
      frames_done: String(output.frames_done),
      ...(output.frames_failed === undefined ? {} : { frames_failed: String(output.frames_failed) }),
      manifest_uri: output.manifest_uri,
      ...(output.shards === undefined ? {} : { shards: JSON.stringify(output.shards) }),
    });
  }

  /**
   * The job fails for good with `code` and `message` (its {@link JobError}, with `details` when
   * given): any non-final status -> `failed`. `frames_failed` replaces the counter when the
   * failure is a count of frames (finalize's). Returns the status after: `failed`, or the final
   * status the job reached before (completed, cancelled), or null if no job.
   */
  async fail(
    id: string,
    code: JobErrorCode,
    message: string,
    more: { details?: string[]; frames_failed?: number } = {},
  ): Promise<JobStatus | null> {
    const error: JobError = { code, message, ...(more.details ? { details: more.details } : {}) };
    return this.transition(id, 'failed', '*', {
      error: JSON.stringify(error),
      finished_at: new Date().toISOString(),
      ...(more.frames_failed === undefined ? {} : { frames_failed: String(more.frames_failed) }),
    });
  }

  /**
   * The owner cancelled the job: any non-final status -> `cancelled`. Returns the status after
   * (`cancelled`, or the final status it had), or null if no job.
   */
  async cancel(id: string): Promise<JobStatus | null> {
    return this.transition(id, 'cancelled', '*', { finished_at: new Date().toISOString() });
  }

  /** What a render batch needs of its job, in one round trip; null if there is no job. */
  async batchInfo(
    id: string,
  ): Promise<{ status: JobStatus; window: number; batches_total: number; batch_size: number; frames_total: number } | null> {
    const [status, window, batches, size, frames] = await this.redis.hmget(
      this.jobKey(id),
      'status',
      'window',
      'batches_total',
      'batch_size',
      'frames_total',
    );
    if (!status) return null;
    return {
      status: JobStatus.parse(status),
      window: Number(window),
      batches_total: Number(batches),
      batch_size: Number(size),
      frames_total: Number(frames),
    };
  }

  /** The job's status, or null. */
  async status(id: string): Promise<JobStatus | null> {
    const s = await this.redis.hget(this.jobKey(id), 'status');
    return s ? JobStatus.parse(s) : null;
  }

  /** Frames rendered so far by a batch still running. */
  async setInflight(id: string, batch: number, frames: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key('job', id, 'inflight'), String(batch), frames)
      .publish(this.eventsChannel, id)
      .exec();
  }

  /** Counts a finished batch once; returns whether this call counted it. */
  async commitBatch(id: string, batch: number, ok: number, failures: FrameFailureRecord[]): Promise<boolean> {
    const r = await (this.redis as unknown as { slCommit: (...a: (string | number)[]) => Promise<number> }).slCommit(
      this.jobKey(id),
      this.key('job', id, 'done'),
      this.key('job', id, 'inflight'),
      this.key('job', id, 'failures'),
      this.eventsChannel,
      id,
      batch,
      ok,
      failures.length,
      ...failures.map((f) => JSON.stringify(f)),
    );
    return r === 1;
  }

  /** Adds a note to a job (kept: the first 50). */
  async addNote(id: string, note: string): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.key('job', id, 'notes'), note)
      .ltrim(this.key('job', id, 'notes'), 0, 49)
      .publish(this.eventsChannel, id)
      .exec();
  }

  /** The set of workers (instances) that gave up on a job, beside its hash. */
  private gaveUpKey(id: string): string {
    return `${this.jobKey(id)}:gave-up`;
  }

  /**
   * No live worker can take the job: records since when (Redis's clock, set once per wait) while
   * the job has not ended. Returns `[status]` for an ended job, `[status, since, now, '1' if this
   * call started the wait else '0']` otherwise, or null if there is no job.
   */
  async markUnservable(id: string): Promise<string[] | null> {
    const r = this.redis as unknown as { slMarkUnservable: (k: string, f: string) => Promise<string[] | null> };
    return r.slMarkUnservable(this.jobKey(id), UNSERVABLE_SINCE);
  }

  /** A worker took the job: it is not waiting for one. */
  async clearUnservable(id: string): Promise<void> {
    await this.redis.hdel(this.jobKey(id), UNSERVABLE_SINCE);
  }

  /** Adds a worker instance to the job's set of workers that gave up on it (while the job has not ended); refreshes its TTL. */
  async giveUp(id: string, instance: string, ttlS: number): Promise<void> {
    const r = this.redis as unknown as { slGiveUp: (k1: string, k2: string, who: string, ttl: number) => Promise<number> };
    await r.slGiveUp(this.jobKey(id), this.gaveUpKey(id), instance, ttlS);
  }

  /** The worker instances that gave up on the job. */
  async gaveUp(id: string): Promise<string[]> {
    return this.redis.smembers(this.gaveUpKey(id));
  }

  /** Drops the set of workers that gave up on the job (after it ended). */
  async forgetGaveUp(id: string): Promise<void> {
    await this.redis.del(this.gaveUpKey(id));
  }

  /** Whether a batch has been committed. */
  async batchCommitted(id: string, batch: number): Promise<boolean> {
    return (await this.redis.getbit(this.key('job', id, 'done'), batch)) === 1;
  }

  private idemKey(key: string): string {
    return this.key('idem', createHash('sha256').update(key).digest('hex'));
  }

  /**
   * Claims an idempotency key for a job: returns null if it was free (now claimed for `jobId`,
   * pending until {@link confirmIdempotencyKey}), else the job it already names and whether the
   * body hash matches. While another request holds the key pending (its job not yet stored),
   * waits for it to confirm or release, up to `waitMs` (then {@link IdempotencyPendingError}).
   */
  async claimIdempotencyKey(
    key: string,
    bodyHash: string,
    jobId: string,
    ttlS = 86_400,
    waitMs = 10_000,
  ): Promise<{ jobId: string; sameBody: boolean } | null> {
    const k = this.idemKey(key);
    const until = Date.now() + waitMs;
    for (;;) {
      // A pending claim lives a minute: a request that died before storing its job frees the key.
      const ok = await this.redis.set(k, JSON.stringify({ jobId, bodyHash, pending: true }), 'EX', Math.min(ttlS, 60), 'NX');
      if (ok === 'OK') return null;
      const v = await this.redis.get(k);
      if (v) {
        const prev = JSON.parse(v) as { jobId: string; bodyHash: string; pending?: boolean };
        if (prev.bodyHash !== bodyHash) return { jobId: prev.jobId, sameBody: false };
        if (!prev.pending) return { jobId: prev.jobId, sameBody: true };
      }
      // Pending (the first request is still storing its job), or just released: look again.
      if (Date.now() > until) throw new IdempotencyPendingError();
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Marks a claimed idempotency key as naming a job that now exists, for `ttlS` seconds. */
  async confirmIdempotencyKey(key: string, bodyHash: string, jobId: string, ttlS = 86_400): Promise<void> {
    await this.redis.set(this.idemKey(key), JSON.stringify({ jobId, bodyHash }), 'EX', ttlS);
  }

  /** Releases an idempotency key (the job it named could not be created). */
  async releaseIdempotencyKey(key: string): Promise<void> {
    await this.redis.del(this.idemKey(key));
  }

  /** A worker says it is alive, with what it is doing. */
  async heartbeat(workerId: string, info: object, ttlS = 30): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.key('workers'), Date.now(), workerId)
      .set(this.key('worker', workerId), JSON.stringify({ id: workerId, ...info, last_seen: new Date().toISOString() }), 'EX', ttlS * 10)
      .exec();
  }

  /** Workers seen within `withinMs`. */
  async liveWorkers(withinMs = 30_000): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('workers'), Date.now() - withinMs, '+inf');
  }

  /**
   * Every worker in the registry: when it last sent a heartbeat (ms) and what it said (null once
   * its record expired). Workers silent for longer than `retainMs` are dropped from the registry.
   */
  async workers(retainMs = 600_000): Promise<{ id: string; lastSeenMs: number; info: unknown }[]> {
    const key = this.key('workers');
    await this.redis.zremrangebyscore(key, '-inf', `(${Date.now() - retainMs}`);
    const flat = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
    const entries: { id: string; lastSeenMs: number; info: unknown }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i] as string, lastSeenMs: Number(flat[i + 1]), info: null });
    if (entries.length === 0) return entries;
    const infos = await this.redis.mget(...entries.map((e) => this.key('worker', e.id)));
    entries.forEach((e, i) => {
      try {
        e.info = infos[i] ? (JSON.parse(infos[i] as string) as unknown) : null;
      } catch {
        e.info = null;
      }
    });
    return entries;
  }

  /** How many jobs have each status: counters kept by every transition (one read, however many jobs). */
  async statusCounts(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JobStatus.options.map((s) => [s, 0])) as Record<JobStatus, number>;
    const stored = await this.redis.hgetall(this.key('jobs', 'counts'));
    for (const s of JobStatus.options) counts[s] = Math.max(0, Number(stored[s] ?? 0));
    return counts;
  }

  /** Forgets a worker that shut down. */
  async removeWorker(workerId: string): Promise<void> {
    await this.redis.multi().zrem(this.key('workers'), workerId).del(this.key('worker', workerId)).exec();
  }

  /** Deletes a job's bookkeeping beside its hash (after it ended). */
  async dropProgress(id: string): Promise<void> {
    await this.redis.del(this.key('job', id, 'inflight'), this.key('job', id, 'done'));
  }

  static isFinal(s: string): boolean {
    return FINAL.has(s);
  }
}
