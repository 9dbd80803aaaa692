import { z } from 'zod';
import { SERVER_ERROR_CODES } from './protocol.ts';

/**
 * Every code a frame or a job can fail with, as data on jobs, in events and in `dataset.json`.
 * One list each, here: a typo in a code is a compile error wherever it is written.
 */

/** Failures the Blender driver (packages/blender) detects itself. */
export const DRIVER_ERROR_CODES = [
  /** Blender is not installed or not where BLENDER points. */
  'BLENDER_NOT_FOUND',
  /** Blender did not start, or did not become ready in time. */
  'BLENDER_START_FAILED',
  /** Blender died (a signal or an exit) during a request. */
  'BLENDER_CRASHED',
  /** A frame took longer than its timeout; Blender was killed. */
  'FRAME_TIMEOUT',
  /** The frame failed for a reason outside Blender's replies (not retried). */
  'FRAME_FAILED',
  /** Blender said it wrote a file that cannot be read or decoded. */
  'OUTPUT_UNREADABLE',
  /** The render server is closed or was never started. */
  'SERVER_CLOSED',
  /** The GPU asked for is not there (the message names every device Blender found). */
  'DEVICE_UNAVAILABLE',
  /** Blender ran out of memory under its cap (a hostile or oversized model); the message names the cap. */
  'MEMORY_LIMIT',
] as const;
export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

/** Why a frame is listed as failed: a render server or driver code, or a batch that never completed. */
export const FRAME_FAILURE_CODES = [
  ...SERVER_ERROR_CODES,
  ...DRIVER_ERROR_CODES,
  /** Every attempt of the frame's batch failed (finalize lists each of its frames so). */
  'BATCH_FAILED',
] as const;
export const FrameFailureCode = z.enum(FRAME_FAILURE_CODES);
export type FrameFailureCode = z.infer<typeof FrameFailureCode>;

/** Why a job failed for good. */
export const JOB_ERROR_CODES = [
  /** More frames failed than output.max_failed_fraction allows. */
  'TOO_MANY_FAILED_FRAMES',
  /** The output volume is full (ENOSPC, EDQUOT). */
  'OUTPUT_FULL',
  /** No live worker renders on the job's device kind (nor on the CPU when fallback is allowed) for DEVICE_WAIT_MS. */
  'DEVICE_UNAVAILABLE',
  /** Every live worker that could render the job gave up on it. */
  'NO_WORKER_CAN_RENDER',
] as const;
export const JobErrorCode = z.enum(JOB_ERROR_CODES);
export type JobErrorCode = z.infer<typeof JobErrorCode>;

/** The quotas a key has (SYNTHLINE_QUOTAS overrides them per key; the job store enforces them). */
export const QUOTA_NAMES = ['jobs_in_flight', 'frames_outstanding', 'daily_budget'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
