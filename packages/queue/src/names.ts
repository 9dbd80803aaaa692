import { z } from 'zod';

/** The queue of render batches: each job renders frames [start, end) of one dataset job. */
export const RENDER_QUEUE = 'render';
/** The queue of finalize jobs: the parent of a job's batches, run once they are all done. */
export const FINALIZE_QUEUE = 'finalize';

/** The queue of evaluations: taken only by workers whose Python evaluation runner answered its probe. */
export const EVALUATE_QUEUE = 'evaluate';

/** Default Redis key prefix; several deployments can share a Redis with different prefixes. */
export const DEFAULT_PREFIX = 'synthline';

export const RenderBatchPayload = z.object({ jobId: z.string(), batch: z.number().int().min(0) });
export type RenderBatchPayload = z.infer<typeof RenderBatchPayload>;

export const FinalizePayload = z.object({ jobId: z.string() });
export type FinalizePayload = z.infer<typeof FinalizePayload>;

export const EvaluatePayload = z.object({ evaluationId: z.string() });
export type EvaluatePayload = z.infer<typeof EvaluatePayload>;

/** BullMQ job ids are deterministic, so adding the same batch twice adds it once. */
export const batchJobId = (jobId: string, batch: number) => `${jobId}-b${batch}`;
export const finalizeJobId = (jobId: string) => `${jobId}-finalize`;

/** Most batches one job is split into: larger jobs get larger batches, so Redis stays bounded. */
export const MAX_BATCHES = 4096;

/** Frames per batch for a job of `count` frames, given the configured batch size. */
export function batchSizeFor(count: number, configured: number): number {
  return Math.max(configured, Math.ceil(count / MAX_BATCHES));
}

/** Frames [start, end) of batch `batch`. */
export function batchRange(batch: number, batchSize: number, count: number): [number, number] {
  return [batch * batchSize, Math.min(count, (batch + 1) * batchSize)];
}
