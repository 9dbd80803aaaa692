import type { Redis } from 'ioredis';
import { z } from 'zod';
import { pageOfIndex } from './job-store.ts';

/**
 * Glossary.
 * - evaluation: a probe classifier trained on one set and tested on another, run by a worker that
 *   has the Python runner (`synthline evaluate` over REST).
 * - set reference: what an evaluation's `train` or `test` names: a completed job (`{job}`), a mix
 *   (`{mix}`) or a named real photo set (`{real}`); never a path.
 */

/** The storage folder (in place of a job id) holding each evaluation's report files, `<id>/report.json`. */
export const EVALUATION_REPORTS = 'evaluations';

/** A set as an evaluation names it: a completed job, a mix, or a real photo set under SYNTHLINE_REAL. */
export const SetRef = z.union([
  z.strictObject({ job: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a job id') }),
  z.strictObject({ mix: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'a mix id') }),
  z.strictObject({ real: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a folder name under SYNTHLINE_REAL') }),
]);
export type SetRef = z.infer<typeof SetRef>;

/** `job:abc`, `mix:xyz`, `real:belt-photos`: how a set reference reads in messages and reports. */
export function setRefName(r: SetRef): string {
  return 'job' in r ? `job:${r.job}` : 'mix' in r ? `mix:${r.mix}` : `real:${r.real}`;
}

/** What an evaluation asks for, as stored (the API's request body with its defaults filled in). */
export const EvaluationRequest = z.object({
  train: SetRef,
  test: SetRef,
  target: z.string(),
  size: z.number().int(),
  epochs: z.number().int(),
  seed: z.number().int(),
});
export type EvaluationRequest = z.infer<typeof EvaluationRequest>;

/** Where an evaluation is in its life; `completed` and `failed` are final. */
export const EvaluationStatus = z.enum(['queued', 'running', 'completed', 'failed']);
export type EvaluationStatus = z.infer<typeof EvaluationStatus>;

/** One epoch of the probe's training, as the runner reported it. */
export const EvaluationEpoch = z.object({
  epoch: z.number().int(),
  epochs: z.number().int(),
  loss: z.number(),
  train_accuracy: z.number(),
  test_accuracy: z.number(),
});
export type EvaluationEpoch = z.infer<typeof EvaluationEpoch>;

/** Why an evaluation failed: the EvaluateError code (or INTERNAL) and a message without server paths. */
export const EvaluationError = z.object({ code: z.string(), message: z.string() });
export type EvaluationError = z.infer<typeof EvaluationError>;

/** An evaluation as the store keeps it. */
export interface EvaluationRecord {
  id: string;
  status: EvaluationStatus;
  request: EvaluationRequest;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** What the worker does now (reading the sets, training, writing the report). */
  stage: string | null;
  /** The last epoch finished. */
  epoch: EvaluationEpoch | null;
  /** Test accuracy of the finished evaluation. */
  accuracy: number | null;
  /** The worker that ran (or runs) it. */
  worker: string | null;
  error: EvaluationError | null;
}

/** An owner would hold more evaluations not yet ended than its quota allows; nothing was stored. */
export class EvaluationQuotaError extends Error {
  override name = 'EvaluationQuotaError';
  readonly code = 'QUOTA_EXCEEDED';
  readonly quota = 'evaluations_in_flight';
  constructor(
    readonly limit: number,
    readonly used: number,
  ) {
    super(`at most ${limit} evaluations in flight per key (${used} queued or running); wait for one to end`);
  }
}

// Creates an evaluation if its owner holds fewer than the limit not yet ended, in one step.
// KEYS[1] hash; ARGV: quota key, limit (0 = none), index key, score, id, then field/value pairs.
const CREATE = `
local used = tonumber(redis.call('HGET', ARGV[1], 'evaluations') or '0')
local limit = tonumber(ARGV[2])
if limit > 0 and used + 1 > limit then return { 'quota', tostring(used) } end
redis.call('HINCRBY', ARGV[1], 'evaluations', 1)
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', ARGV[3], ARGV[4], ARGV[5])
return { 'ok' }
`;

// Moves an evaluation to a status unless it has ended, releasing its owner's quota slot when it
// ends and setting its retention. KEYS[1] hash; ARGV: new status, allowed from (comma list),
// prefix, events channel, retention s, field/value pairs. Returns the status after.
const TRANSITION = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if s == 'completed' or s == 'failed' then return s end
if not string.find(',' .. ARGV[2] .. ',', ',' .. s .. ',', 1, true) then return s end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[1] == 'completed' or ARGV[1] == 'failed' then
  local owner = redis.call('HGET', KEYS[1], 'owner')
  if owner then redis.call('HINCRBY', ARGV[3] .. ':quota:' .. owner, 'evaluations', -1) end
  local keep = tonumber(ARGV[5])
  if keep and keep > 0 then redis.call('EXPIRE', KEYS[1], keep) end
end
redis.call('PUBLISH', ARGV[4], redis.call('HGET', KEYS[1], 'id'))
return ARGV[1]
`;

/**
 * Evaluations in Redis, beside the jobs: one hash each, an index by creation time, a count per
 * owner of those not yet ended (its quota), and a channel that carries the id of each one that
 * changed (what event streams follow, as {@link JobEvents} does for jobs).
 */
export class EvaluationStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    redis.defineCommand('slEvalCreate', { numberOfKeys: 1, lua: CREATE });
    redis.defineCommand('slEvalTransition', { numberOfKeys: 1, lua: TRANSITION });
  }

  /** The pub/sub channel that carries the id of every evaluation that changed. */
  get eventsChannel(): string {
    return `${this.prefix}:evaluation-events`;
  }

  key(id: string): string {
    return `${this.prefix}:evaluation:${id}`;
  }

  /** The sorted set of all evaluations, scored by creation time (ms). */
  get indexKey(): string {
    return `${this.prefix}:evaluations`;
  }

  /**
   * Stores a new evaluation, queued, unless its owner already holds `maxInFlight` not yet ended
   * (0: no limit; {@link EvaluationQuotaError}). It is kept `retentionS` after it ends.
   */
  async create(
    id: string,
    request: EvaluationRequest,
    opts: { owner?: string; maxInFlight?: number; retentionS?: number } = {},
  ): Promise<EvaluationRecord> {
    const now = new Date();
    const owner = opts.owner ?? 'local';
    const fields: Record<string, string> = {
      id,
      status: 'queued',
      request: JSON.stringify(request),
      created_at: now.toISOString(),
      owner,
      retention_s: String(opts.retentionS ?? 0),
    };
    const r = await (this.redis as unknown as { slEvalCreate: (...a: (string | number)[]) => Promise<string[]> }).slEvalCreate(
      this.key(id),
      `${this.prefix}:quota:${owner}`,
      opts.maxInFlight ?? 0,
      this.indexKey,
      now.getTime(),
      id,
      ...Object.entries(fields).flat(),
    );
    if (r[0] !== 'ok') throw new EvaluationQuotaError(opts.maxInFlight ?? 0, Number(r[1]));
    const rec = await this.get(id);
    if (!rec) throw new Error(`evaluation ${id} vanished after it was created`);
    return rec;
  }

  /** An evaluation as stored, or null. */
  async get(id: string): Promise<EvaluationRecord | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.id) return null;
    const json = <T>(v: string | undefined, fallback: T): T => (v ? (JSON.parse(v) as T) : fallback);
    return {
      id: h.id,
      status: EvaluationStatus.parse(h.status),
      request: EvaluationRequest.parse(json(h.request, {})),
      created_at: h.created_at ?? '',
      started_at: h.started_at ?? null,
      finished_at: h.finished_at ?? null,
      stage: h.stage ?? null,
      epoch: json(h.epoch, null),
      accuracy: h.accuracy === undefined ? null : Number(h.accuracy),
      worker: h.worker ?? null,
      error: json(h.error, null),
    };
  }

  /**
   * One page of evaluations, newest first, after `cursor` (the `next` of the page before; the
   * jobs' cursor format), and the cursor of the next page (null on the last). An evaluation whose
   * hash expired (its retention passed) is dropped from the index as the page meets it.
   * A cursor this store did not make: RangeError.
   */
  async list(opts: { cursor?: string; limit?: number } = {}): Promise<{ items: EvaluationRecord[]; total: number; next: string | null }> {
    const { ids, total, next } = await pageOfIndex(this.redis, this.indexKey, opts);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_id, i) => records[i] === null);
    if (gone.length) await this.redis.zrem(this.indexKey, ...gone);
    return { items: records.filter((r): r is EvaluationRecord => r !== null), total: total - gone.length, next };
  }

  private async transition(
    id: string,
    to: EvaluationStatus,
    from: EvaluationStatus[],
    fields: Record<string, string>,
  ): Promise<EvaluationStatus | null> {
    const keep = (await this.redis.hget(this.key(id), 'retention_s')) ?? '0';
    const r = await (this.redis as unknown as { slEvalTransition: (...a: string[]) => Promise<string | null> }).slEvalTransition(
      this.key(id),
      to,
      from.join(','),
      this.prefix,
      this.eventsChannel,
      keep,
      ...Object.entries(fields).flat(),
    );
    return r ? EvaluationStatus.parse(r) : null;
  }

  /** A worker took it: `queued` (or `running`, a retry) -> `running`. Returns the status after, or null. */
  start(id: string, worker: string): Promise<EvaluationStatus | null> {
    return this.transition(id, 'running', ['queued', 'running'], { started_at: new Date().toISOString(), worker, stage: 'starting' });
  }

  /** What the worker does now, and the last epoch; publishes the change. No-op once it ended. */
  async progress(id: string, p: { stage?: string; epoch?: EvaluationEpoch }): Promise<void> {
    await this.transition(id, 'running', ['running'], {
      ...(p.stage === undefined ? {} : { stage: p.stage }),
      ...(p.epoch === undefined ? {} : { epoch: JSON.stringify(p.epoch) }),
    });
  }

  /** The report is stored: `running` -> `completed`. */
  complete(id: string, accuracy: number | null): Promise<EvaluationStatus | null> {
    return this.transition(id, 'completed', ['queued', 'running'], {
      finished_at: new Date().toISOString(),
      stage: 'done',
      ...(accuracy === null ? {} : { accuracy: String(accuracy) }),
    });
  }

  /** It failed for good, with `error`. */
  fail(id: string, error: EvaluationError): Promise<EvaluationStatus | null> {
    return this.transition(id, 'failed', ['queued', 'running'], { finished_at: new Date().toISOString(), error: JSON.stringify(error) });
  }

  static isFinal(s: string): boolean {
    return s === 'completed' || s === 'failed';
  }
}
