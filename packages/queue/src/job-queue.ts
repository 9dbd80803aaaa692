import { FlowProducer, Job, Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import type { JobSpec } from '@synthline/spec';
import {
  EvaluationStore,
  JobStore,
  budgetUnits,
  type EvaluationRecord,
  type EvaluationRequest,
  type JobRecord,
  type Quota,
} from '@synthline/jobs';
import {
  EVALUATE_QUEUE,
  FINALIZE_QUEUE,
  RENDER_QUEUE,
  batchJobId,
  batchSizeFor,
  finalizeJobId,
  type EvaluatePayload,
  type FinalizePayload,
  type RenderBatchPayload,
} from './names.ts';

export interface JobQueueOptions {
  /** Frames per render batch (larger jobs get larger batches, see MAX_BATCHES). */
  batchSize?: number;
  /** Batches enqueued ahead at any time: Redis holds this many, however large the job. */
  window?: number;
  /** Tries per batch before its frames count as failed. */
  attempts?: number;
  /** First retry delay; doubles each try. */
  backoffMs?: number;
  /** How long a job's record stays in Redis after it ended, in seconds (0: forever). The dataset stays. */
  retentionS?: number;
}

/** A new job and whether this call created it (false: an idempotent repeat). */
export interface Submitted {
  record: JobRecord;
  created: boolean;
}

/** The same Idempotency-Key was used before with another body. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(
    readonly jobId: string,
    why: 'different-body' | 'expired' = 'different-body',
  ) {
    super(
      why === 'expired'
        ? `this Idempotency-Key named job ${jobId}, whose record has since expired (JOB_RETENTION_S); use a new key`
        : `this Idempotency-Key was used for job ${jobId} with a different body`,
    );
  }
}

/**
 * Turns dataset jobs into BullMQ work: a finalize parent whose children are render batches of
 * frame ranges. Only `window` batches exist at a time: each batch, when it starts, adds the
 * batch `window` places after it, so a job of any size holds a bounded amount of Redis.
 */
export class JobQueue {
  readonly store: JobStore;
  readonly render: Queue<RenderBatchPayload>;
  readonly finalize: Queue<FinalizePayload>;
  /** Evaluations: their records, and the queue that only workers with the evaluation runner take. */
  readonly evaluations: EvaluationStore;
  readonly evaluate: Queue<EvaluatePayload>;
  private readonly flow: FlowProducer;
  readonly batchSize: number;
  readonly window: number;
  readonly retentionS: number;
  private readonly batchOpts: JobsOptions;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    opts: JobQueueOptions = {},
  ) {
    this.store = new JobStore(redis, prefix);
    this.render = new Queue(RENDER_QUEUE, { connection: redis, prefix });
    this.finalize = new Queue(FINALIZE_QUEUE, { connection: redis, prefix });
    this.evaluations = new EvaluationStore(redis, prefix);
    this.evaluate = new Queue(EVALUATE_QUEUE, { connection: redis, prefix });
    this.flow = new FlowProducer({ connection: redis, prefix });
    this.batchSize = opts.batchSize ?? 24;
    this.window = opts.window ?? 16;
    this.retentionS = opts.retentionS ?? 0;
    this.batchOpts = {
      attempts: opts.attempts ?? 4,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
      // A batch that fails for good must not hold its job back: finalize counts its frames failed.
      ignoreDependencyOnFailure: true,
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }

  /**
   * Stores and enqueues a job. With an idempotency key, the same key and body give the same job
   * back; the same key with another body throws {@link IdempotencyConflictError}.
   */
  async submit(
    spec: JobSpec,
    opts: {
      outputUri: (id: string) => string;
      idempotencyKey?: string;
      bodyHash?: string;
      owner?: string;
      quota?: Quota;
      /** Its batches go ahead of every batch already waiting (a preview); all are enqueued at once. */
      ahead?: boolean;
      /** Seconds the ended job stays in Redis, instead of the queue's retention. */
      retentionS?: number;
    },
  ): Promise<Submitted> {
    const id = nanoid(12).replace(/[^A-Za-z0-9]/g, 'x');
    if (opts.idempotencyKey) {
      // Claimed while pending: concurrent repeats wait for this request's job instead of making their own.
      const prev = await this.store.claimIdempotencyKey(opts.idempotencyKey, opts.bodyHash ?? '', id);
      if (prev) {
        if (!prev.sameBody) throw new IdempotencyConflictError(prev.jobId);
        const record = await this.store.get(prev.jobId);
        if (record) return { record, created: false };
        throw new IdempotencyConflictError(prev.jobId, 'expired');
      }
    }
    const batchSize = batchSizeFor(spec.count, this.batchSize);
    const batches = Math.ceil(spec.count / batchSize);
    try {
      await this.store.create(
        {
          id,
          name: spec.name,
          spec,
          frames_total: spec.count,
          batch_size: batchSize,
          batches_total: batches,
          window: this.window,
          max_failed_frames: Math.floor(spec.count * spec.output.max_failed_fraction),
          output_uri: opts.outputUri(id),
        },
        {
          ...(opts.owner ? { owner: opts.owner } : {}),
          ...(opts.quota ? { quota: opts.quota } : {}),
          units: budgetUnits(spec),
          retentionS: opts.retentionS ?? this.retentionS,
        },
      );
      const first = opts.ahead ? batches : Math.min(batches, this.window);
      await this.flow.add({
        name: 'finalize',
        queueName: FINALIZE_QUEUE,
        data: { jobId: id },
        opts: {
          jobId: finalizeJobId(id),
          attempts: 5,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: true,
          removeOnFail: { count: 1000 },
        },
        children: Array.from({ length: first }, (_, batch) => ({
          name: 'render',
          queueName: RENDER_QUEUE,
          data: { jobId: id, batch },
          opts: { ...this.batchOpts, jobId: batchJobId(id, batch), ...(opts.ahead ? { lifo: true } : {}) },
        })),
      });
      if (opts.idempotencyKey) await this.store.confirmIdempotencyKey(opts.idempotencyKey, opts.bodyHash ?? '', id);
    } catch (err) {
      if (opts.idempotencyKey) await this.store.releaseIdempotencyKey(opts.idempotencyKey);
      throw err;
    }
    const record = await this.store.get(id);
    if (!record) throw new Error(`job ${id} vanished after it was created`);
    return { record, created: true };
  }

  /**
   * Enqueues batch `batch` of a job under its finalize parent, unless it is past the end. Ids are
   * deterministic, so adding a batch twice (a retried batch adding its successor) adds it once.
   */
  async enqueueBatch(jobId: string, batch: number, batchesTotal: number): Promise<void> {
    if (batch >= batchesTotal) return;
    await this.render.add(
      'render',
      { jobId, batch },
      {
        ...this.batchOpts,
        jobId: batchJobId(jobId, batch),
        parent: { id: finalizeJobId(jobId), queue: `${this.prefix}:${FINALIZE_QUEUE}` },
      },
    );
  }

  /**
   * Cancels a job: its status becomes `cancelled` at once, batches not yet started are removed,
   * running ones stop at their next frame, and finalize then removes the partial output.
   */
  async cancel(id: string): Promise<JobRecord | null> {
    const status = await this.store.cancel(id);
    if (status === null) return null;
    if (status === 'cancelled') await this.dropPendingBatches(id);
    return this.store.get(id);
  }

  /** Removes a job's batches that no worker has taken yet. */
  async dropPendingBatches(id: string): Promise<void> {
    const parent = await Job.fromId(this.finalize, finalizeJobId(id));
    if (!parent) return;
    const deps = await parent.getDependencies({ unprocessed: { cursor: 0, count: 10_000 } });
    for (const key of deps.unprocessed ?? []) {
      const childId = key.slice(key.lastIndexOf(':') + 1);
      try {
        await this.render.remove(childId);
      } catch {
        // A running batch is locked; it sees the status at its next frame.
      }
    }
  }

  /**
   * Stores an evaluation (throws EvaluationQuotaError past the owner's `maxInFlight`) and queues
   * it for a worker with the evaluation runner. A failed attempt is not retried by the queue: a
   * training run that failed once (bad data, no PyTorch) fails the same way again.
   */
  async submitEvaluation(request: EvaluationRequest, opts: { owner?: string; maxInFlight?: number } = {}): Promise<EvaluationRecord> {
    const id = nanoid(12).replace(/[^A-Za-z0-9]/g, 'x');
    const record = await this.evaluations.create(id, request, { ...opts, retentionS: this.retentionS });
    try {
      await this.evaluate.add(
        'evaluate',
        { evaluationId: id },
        { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: { count: 1000 } },
      );
    } catch (err) {
      await this.evaluations.fail(id, { code: 'INTERNAL', message: 'the evaluation could not be queued' }).catch(() => undefined);
      throw err;
    }
    return record;
  }

  async close(): Promise<void> {
    for (const c of [this.render, this.finalize, this.evaluate, this.flow]) {
      try {
        await c.close();
      } catch {
        // closing is best effort
      }
    }
  }
}
