import { hostname } from 'node:os';
import { z } from 'zod';
import { DEVICE_KINDS } from '@synthline/spec';
import { defaultMemoryLimit } from '@synthline/blender';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** Worker configuration from the environment; every variable has a documented default. */
export const WorkerEnv = z.object({
  /** Redis shared with the API. */
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Key prefix of queues and job state (the same on API and workers). */
  SYNTHLINE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('synthline'),
  /** Where datasets are written: a folder (or file:// URL) or s3://bucket/prefix, shared with the API. */
  SYNTHLINE_OUTPUT: z.string().default('out/jobs'),
  /** The asset library folder (`library:` products, background photos), shared with the API. */
  SYNTHLINE_LIBRARY: z.string().regex(/^(s3:\/\/|(?![a-z][a-z0-9+.-]*:\/\/))/i, 'must be a folder or an s3://bucket/prefix URL').default('library'),
  /**
   * Render slots: one warm Blender each; a number, or `auto` = one slot per GPU of the device
   * kind (each bound to its GPU), 1 on the CPU.
   */
  WORKER_SLOTS: z.union([z.literal('auto'), z.coerce.number().int().min(1)]).default(1),
  /** Cycles device kind the slots render on; `auto` = the best GPU kind present, else the CPU. */
  WORKER_DEVICE: z.enum(DEVICE_KINDS).default('auto'),
  /** 1: with WORKER_DEVICE a GPU kind this machine lacks, render on the CPU instead of not starting. */
  WORKER_ALLOW_CPU_FALLBACK: z
    .union([z.boolean(), z.enum(['', '0', '1', 'false', 'true'])])
    .default(false)
    .transform((v) => v === true || v === '1' || v === 'true'),
  /** Cycles threads per slot; 0 = all cores. */
  BLENDER_THREADS: int(0),
  /** This worker's name in the registry. */
  WORKER_ID: z.string().default(`${hostname()}-${process.pid}`),
  /** How long SIGTERM waits for running batches to hand back before forcing. */
  SHUTDOWN_DEADLINE_MS: int(30_000),
  /** A frame taking longer is killed with its Blender. */
  FRAME_TIMEOUT_MS: int(120_000, 1),
  /** Blender is restarted after this many frames. */
  MAX_FRAMES_PER_PROCESS: int(2000, 1),
  /** ... or once it holds more than this much memory. */
  MAX_BLENDER_RSS_MB: int(4096, 64),
  /** Hard cap on each Blender's memory (RLIMIT_DATA), MiB: past it a frame or scan fails with MEMORY_LIMIT; 0 = none. Default: 3/4 of RAM, at most 8192. */
  BLENDER_MEMORY_LIMIT_MB: int(Math.round(defaultMemoryLimit({}) / 1024 ** 2), 0),
  /** BullMQ lock on a batch; renewed every half of it while the batch runs. */
  LOCK_DURATION_MS: int(60_000, 1000),
  /** How often a worker writes its heartbeat. */
  HEARTBEAT_MS: int(5_000, 100),
  /**
   * Port of the worker's own HTTP server (`/metrics` for Prometheus, `/healthz`); 0 = off. If the
   * port is taken (several workers on one machine), the worker logs a warning and runs without it.
   */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Interface that HTTP server listens on (no auth: keep it on loopback or a private network). */
  WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** After this many failed batches of one job, this worker leaves that job's batches to others. */
  MAX_JOB_FAILURES_PER_WORKER: int(3, 1),
  /**
   * How long a job may wait for a live worker that can render it (one rendering on its
   * render.device kind, or on the CPU with render.allow_cpu_fallback; and one that has not given
   * up on it) before it fails with DEVICE_UNAVAILABLE (or NO_WORKER_CAN_RENDER, when every
   * capable worker gave up on it). Judged from the worker registry by the workers it is offered to.
   */
  DEVICE_WAIT_MS: int(300_000),
  /** Test-only: frame indices whose plans make Blender crash (the fault tests force a crash this way). */
  SYNTHLINE_TEST_CRASH_FRAMES: z.string().regex(/^(\d+(,\d+)*)?$/).default(''),
  /** Test-only: this worker fails every batch, as one with a broken GPU would. */
  SYNTHLINE_TEST_FAIL_BATCHES: z.enum(['', '0', '1']).default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Parses the environment; throws naming each bad variable. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const r = WorkerEnv.safeParse(env);
  if (!r.success) {
    throw new Error(`invalid worker environment:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}
