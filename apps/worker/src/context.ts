import type { Logger } from 'pino';
import type { JobQueue } from '@synthline/queue';
import type { Storage } from '@synthline/storage';
import type { SlotPool } from './slot-pool.ts';
import type { WorkerMetrics } from './metrics.ts';
import type { JobWaits } from './job-waits.ts';

/**
 * Faults a test injects into a worker through {@link startWorker}'s options: never part of the
 * production configuration, and no environment variable sets them.
 */
export interface WorkerFaults {
  /** Frame indices whose plans make Blender crash (the fault tests force a crash this way). */
  crashFrames?: readonly number[];
  /** Fail every batch, as a worker with a broken GPU would. */
  failBatches?: boolean;
}

/** What the processors share within one worker process. */
export interface WorkerContext {
  queue: JobQueue;
  storage: Storage;
  pool: SlotPool;
  /** The asset library folder. */
  libraryRoot: string;
  log: Logger;
  /** True once the worker is shutting down: batches hand their work back at the next frame. */
  closing: () => boolean;
  /** Injected faults (tests only; see {@link WorkerFaults}). */
  faults: { crashFrames: ReadonlySet<number>; failBatches: boolean };
  /** Batches running now, for the heartbeat (`slot`: the index of the pool slot rendering it). */
  running: Map<string, { jobId: string; batch: number; frames: number; total: number; slot?: number }>;
  /** Prometheus metrics and the totals the heartbeat reports. */
  metrics: WorkerMetrics;
  /** Whether a job this worker will not render can run anywhere; fails it past DEVICE_WAIT_MS. */
  waits: JobWaits;
}
