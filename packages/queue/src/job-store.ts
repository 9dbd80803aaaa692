import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Where a job is in its life. `completed`, `failed` and `cancelled` are final. */
export const JobStatus = z.enum(['queued', 'running', 'finalizing', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** A failure stored on a job: data, not an exception. */
export const JobError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(z.string()).optional(),
});
export type JobError = z.infer<typeof JobError>;

/** A frame that failed, with Blender's message. */
export const FrameFailureRecord = z.object({ index: z.number().int(), code: z.string(), error: z.string() });
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

// Moves a job to a new status if its current one is allowed, never out of a final one.
// KEYS[1] job hash; ARGV[1] new status; ARGV[2] allowed from (comma list, "*" = any non-final);
// ARGV[3..] field/value pairs to set with it. Returns the status after the call.
const TRANSITION = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if s == 'completed' or s == 'failed' or s == 'cancelled' then return s end
if ARGV[2] ~= '*' and not string.find(',' .. ARGV[2] .. ',', ',' .. s .. ',', 1, true) then return s end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return ARGV[1]
`;

// Counts a batch once, however often it ran. KEYS: job hash, done bitmap, in-flight hash,
// failures list. ARGV: batch, frames ok, frames failed, failure records... Returns 1 if counted.
const COMMIT = `
if redis.call('SETBIT', KEYS[2], ARGV[1], 1) == 1 then
  redis.call('HDEL', KEYS[3], ARGV[1])
  return 0
end
redis.call('HINCRBY', KEYS[1], 'frames_done', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'frames_failed', ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[1])
for i = 4, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[i]) end
redis.call('LTRIM', KEYS[4], 0, 199)
return 1
`;

/** sha256 of a value's canonical JSON (keys sorted), for idempotency checks. */
export function canonicalHash(value: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex');
}

/**
 * Job state in Redis, beside BullMQ's own keys: one hash per job (status, counters, output), a
 * bitmap of committed batches, a hash of frames done in batches still running, a capped list of
 * frame failures, a sorted set of all jobs, idempotency keys and worker heartbeats.
 */
export class JobStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    redis.defineCommand('slTransition', { numberOfKeys: 1, lua: TRANSITION });
    redis.defineCommand('slCommit', { numberOfKeys: 4, lua: COMMIT });
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  jobKey(id: string): string {
    return this.key('job', id);
  }

  /** Stores a new job, queued. */
  async create(rec: { id: string; name: string; spec: unknown; frames_total: number; batch_size: number; batches_total: number; window: number; max_failed_frames: number; output_uri: string }): Promise<void> {
    const now = new Date().toISOString();
    await this.redis
      .multi()
      .hset(this.jobKey(rec.id), {
        id: rec.id,
        name: rec.name,
        spec: JSON.stringify(rec.spec),
        status: 'queued',
        created_at: now,
        frames_total: rec.frames_total,
        frames_done: 0,
        frames_failed: 0,
        batch_size: rec.batch_size,
        batches_total: rec.batches_total,
        window: rec.window,
        max_failed_frames: rec.max_failed_frames,
        output_uri: rec.output_uri,
      })
      .zadd(this.key('jobs'), Date.now(), rec.id)
      .exec();
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

  /** Job ids, newest first, optionally only those with a status. */
  async list(opts: { status?: JobStatus; offset?: number; limit?: number } = {}): Promise<{ ids: string[]; total: number }> {
    const offset = opts.offset ?? 0;
    const limit = opts.limit ?? 20;
    if (!opts.status) {
      const [ids, total] = await Promise.all([
        this.redis.zrevrange(this.key('jobs'), offset, offset + limit - 1),
        this.redis.zcard(this.key('jobs')),
      ]);
      return { ids, total };
    }
    // Filtering walks the index; jobs are few compared with frames.
    const all = await this.redis.zrevrange(this.key('jobs'), 0, -1);
    const statuses = await Promise.all(all.map((id) => this.redis.hget(this.jobKey(id), 'status')));
    const hits = all.filter((_, i) => statuses[i] === opts.status);
    return { ids: hits.slice(offset, offset + limit), total: hits.length };
  }

  /**
   * Moves a job to `to` if it is in one of `from` (any non-final status when omitted), setting
   * `fields` with it. Returns the status the job has afterwards, or null if there is no job.
   */
  async transition(id: string, to: JobStatus, from: JobStatus[] | '*' = '*', fields: Record<string, string> = {}): Promise<JobStatus | null> {
    const args = [to, from === '*' ? '*' : from.join(','), ...Object.entries(fields).flat()];
    const r = await (this.redis as unknown as { slTransition: (k: string, ...a: string[]) => Promise<string | null> }).slTransition(this.jobKey(id), ...args);
    return r ? JobStatus.parse(r) : null;
  }

  /** What a render batch needs of its job, in one round trip; null if there is no job. */
  async batchInfo(id: string): Promise<{ status: JobStatus; window: number; batches_total: number; batch_size: number; frames_total: number } | null> {
    const [status, window, batches, size, frames] = await this.redis.hmget(this.jobKey(id), 'status', 'window', 'batches_total', 'batch_size', 'frames_total');
    if (!status) return null;
    return { status: JobStatus.parse(status), window: Number(window), batches_total: Number(batches), batch_size: Number(size), frames_total: Number(frames) };
  }

  /** The job's status, or null. */
  async status(id: string): Promise<JobStatus | null> {
    const s = await this.redis.hget(this.jobKey(id), 'status');
    return s ? JobStatus.parse(s) : null;
  }

  /** Frames rendered so far by a batch still running. */
  async setInflight(id: string, batch: number, frames: number): Promise<void> {
    await this.redis.hset(this.key('job', id, 'inflight'), String(batch), frames);
  }

  /** Counts a finished batch once; returns whether this call counted it. */
  async commitBatch(id: string, batch: number, ok: number, failures: FrameFailureRecord[]): Promise<boolean> {
    const r = await (this.redis as unknown as { slCommit: (...a: (string | number)[]) => Promise<number> }).slCommit(
      this.jobKey(id),
      this.key('job', id, 'done'),
      this.key('job', id, 'inflight'),
      this.key('job', id, 'failures'),
      batch,
      ok,
      failures.length,
      ...failures.map((f) => JSON.stringify(f)),
    );
    return r === 1;
  }

  /** Adds a note to a job (kept: the first 50). */
  async addNote(id: string, note: string): Promise<void> {
    await this.redis.multi().rpush(this.key('job', id, 'notes'), note).ltrim(this.key('job', id, 'notes'), 0, 49).exec();
  }

  /** Whether a batch has been committed. */
  async batchCommitted(id: string, batch: number): Promise<boolean> {
    return (await this.redis.getbit(this.key('job', id, 'done'), batch)) === 1;
  }

  /** Sets plain fields of a job. */
  async setFields(id: string, fields: Record<string, string | number>): Promise<void> {
    await this.redis.hset(this.jobKey(id), fields);
  }

  /**
   * Claims an idempotency key for a job: returns null if it was free (now claimed for `jobId`),
   * else the job it already names and whether the body hash matches.
   */
  async claimIdempotencyKey(key: string, bodyHash: string, jobId: string, ttlS = 86_400): Promise<{ jobId: string; sameBody: boolean } | null> {
    const k = this.key('idem', createHash('sha256').update(key).digest('hex'));
    const ok = await this.redis.set(k, JSON.stringify({ jobId, bodyHash }), 'EX', ttlS, 'NX');
    if (ok === 'OK') return null;
    const v = await this.redis.get(k);
    if (!v) return this.claimIdempotencyKey(key, bodyHash, jobId, ttlS);
    const prev = JSON.parse(v) as { jobId: string; bodyHash: string };
    return { jobId: prev.jobId, sameBody: prev.bodyHash === bodyHash };
  }

  /** Releases an idempotency key (the job it named could not be created). */
  async releaseIdempotencyKey(key: string): Promise<void> {
    await this.redis.del(this.key('idem', createHash('sha256').update(key).digest('hex')));
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

  /** How many jobs have each status (walks the job index: one pipelined read per job). */
  async statusCounts(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JobStatus.options.map((s) => [s, 0])) as Record<JobStatus, number>;
    const ids = await this.redis.zrange(this.key('jobs'), 0, -1);
    for (let i = 0; i < ids.length; i += 1000) {
      const p = this.redis.pipeline();
      for (const id of ids.slice(i, i + 1000)) p.hget(this.jobKey(id), 'status');
      for (const [, s] of (await p.exec()) ?? []) {
        if (typeof s === 'string' && s in counts) counts[s as JobStatus]++;
      }
    }
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
