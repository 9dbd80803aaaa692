import { hostname } from 'node:os';
import { z } from 'zod';
import { DEVICE_KINDS } from '@synthline/spec';
import { flag, oneOf, parseAll, text, wholeNumber, withDefault, type EnvSource } from './conventions.ts';
import { SERVICE, port, usesS3 } from './service.ts';
import { S3Env } from './s3.ts';
import { BlenderEnv } from './blender.ts';

/** `auto`, or a whole number >= 1. */
const slotCount = z.string().transform((v, ctx) => {
  if (v === 'auto') return 'auto' as const;
  const n = Number(v);
  if (Number.isInteger(n) && n >= 1) return n;
  ctx.addIssue({ code: 'custom', message: `"${v}" is not auto or a whole number >= 1` });
  return z.NEVER;
});

/** A worker's configuration (`synthline worker`, the worker image); every variable has a documented default. */
export const WorkerEnv = z.object({
  ...SERVICE,
  /**
   * Render slots: one warm Blender each; a number, or `auto` = one slot per GPU of the device
   * kind (each bound to its GPU), 1 on the CPU.
   */
  WORKER_SLOTS: withDefault(slotCount, 1),
  /** Cycles device kind the slots render on; `auto` = the best GPU kind present, else the CPU. */
  WORKER_DEVICE: withDefault(oneOf(DEVICE_KINDS), 'auto'),
  /** 1: with WORKER_DEVICE a GPU kind this machine lacks, render on the CPU instead of not starting. */
  WORKER_ALLOW_CPU_FALLBACK: withDefault(flag, false),
  /** Cycles threads per slot; 0 = all cores. */
  BLENDER_THREADS: withDefault(wholeNumber(0), 0),
  /** This worker's name in the registry. */
  WORKER_ID: withDefault(text, () => `${hostname()}-${process.pid}`),
  /** How long SIGTERM waits for running batches to hand back before forcing. */
  SHUTDOWN_DEADLINE_MS: withDefault(wholeNumber(0), 30_000),
  /** A frame taking longer is killed with its Blender. */
  FRAME_TIMEOUT_MS: withDefault(wholeNumber(1), 120_000),
  /** Blender is restarted after this many frames. */
  MAX_FRAMES_PER_PROCESS: withDefault(wholeNumber(1), 2000),
  /** ... or once it holds more than this much memory. */
  MAX_BLENDER_RSS_MB: withDefault(wholeNumber(64), 4096),
  /** Hard cap on each Blender's memory (see {@link BlenderEnv}). */
  BLENDER_MEMORY_LIMIT_MB: BlenderEnv.shape.BLENDER_MEMORY_LIMIT_MB,
  /** BullMQ lock on a batch; renewed every half of it while the batch runs. */
  LOCK_DURATION_MS: withDefault(wholeNumber(1000), 60_000),
  /** How often a worker writes its heartbeat. */
  HEARTBEAT_MS: withDefault(wholeNumber(100), 5_000),
  /**
   * Port of the worker's own HTTP server (`/metrics` for Prometheus, `/healthz`); 0 = off. If the
   * port is taken (several workers on one machine), the worker logs a warning and runs without it.
   */
  WORKER_HTTP_PORT: withDefault(port, 9464),
  /** Interface that HTTP server listens on (no auth: keep it on loopback or a private network). */
  WORKER_HTTP_HOST: withDefault(text, '127.0.0.1'),
  /** After this many failed batches of one job, this worker leaves that job's batches to others. */
  MAX_JOB_FAILURES_PER_WORKER: withDefault(wholeNumber(1), 3),
  /**
   * How long a job may wait for a live worker that can render it (one rendering on its
   * render.device kind, or on the CPU with render.allow_cpu_fallback; and one that has not given
   * up on it) before it fails with DEVICE_UNAVAILABLE (or NO_WORKER_CAN_RENDER, when every
   * capable worker gave up on it). Judged from the worker registry by the workers it is offered to.
   */
  DEVICE_WAIT_MS: withDefault(wholeNumber(0), 300_000),
  /**
   * 1: probe the Python evaluation runner at start and, if it answers, take evaluations
   * (`POST /v1/evaluations`); 0: never take them.
   */
  WORKER_EVALUATIONS: withDefault(flag, true),
  /** The Python that runs evaluations (evaluate-scripts/eval_runner.py); it needs torch and torchvision. */
  SYNTHLINE_PYTHON: withDefault(text, '/usr/bin/python3'),
  /** Folder of real photo sets an evaluation names by folder name (the API's SYNTHLINE_REAL). */
  SYNTHLINE_REAL: withDefault(text, 'real'),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/**
 * Reads a worker's configuration; throws one {@link EnvError} naming each bad variable of every
 * setting the worker will read: its own, Blender's, and S3's when output or library is `s3://`.
 */
export function loadWorkerEnv(env: EnvSource = process.env): WorkerEnv {
  return parseAll(env, WorkerEnv, BlenderEnv, ...(usesS3(env) ? [S3Env] : []));
}
