import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EvaluationRunner, JobStore, WorkerHeartbeat, WorkerSlot } from '@synthline/jobs';
import type { WorkerContext } from './context.ts';
import type { WorkerMetrics } from './metrics.ts';

/** What a slot tells the registry about itself. */
export interface SlotLike {
  readonly blenderVersion: string;
}

/** The render device a slot reports; empty while the slot does not expose one. */
export function slotDevice(slot: SlotLike): string {
  const d = (slot as { device?: unknown }).device;
  return typeof d === 'string' ? d : '';
}

/**
 * Each slot: its device, Blender version, and the batch it renders now (or idle). `labels` (the
 * pool's device labels, known from the start) stand in for a slot that has not started yet.
 */
export function slotStates(slots: readonly SlotLike[], running: WorkerContext['running'], labels: readonly string[] = []): WorkerSlot[] {
  const bySlot = new Map<number, WorkerSlot['batch']>();
  for (const r of running.values()) {
    if (r.slot === undefined) continue;
    bySlot.set(r.slot, { job: r.jobId, batch: r.batch, frames_done: r.frames, frames_total: r.total });
  }
  return slots.map((s, index) => {
    const batch = bySlot.get(index) ?? null;
    return {
      index,
      device: slotDevice(s) || labels[index] || '',
      blender_version: s.blenderVersion || null,
      state: batch ? 'busy' : 'idle',
      batch,
    };
  });
}

/** The heartbeat a worker writes into the registry. */
export function buildHeartbeat(opts: {
  slots: readonly SlotLike[];
  running: WorkerContext['running'];
  metrics: WorkerMetrics;
  batchesRendered: number;
  heartbeatMs: number;
  /** The pool's device labels (`cpu`, `cuda:0 NVIDIA A10`), one per slot. */
  deviceLabels?: readonly string[];
  /** The pool's device kinds (`cpu`, `cuda`, ...), one per slot; '' while unknown. */
  deviceKinds?: readonly string[];
  /** WORKER_DEVICE. */
  deviceRequested?: string;
  /** Whether the slots fell back to the CPU (the GPU kind asked for is absent). */
  cpuFallback?: boolean;
  /** The evaluation runner this worker probed (null: none, or still probing). */
  evaluationRunner?: EvaluationRunner | null;
  nowMs?: number;
}): WorkerHeartbeat {
  const slots = slotStates(opts.slots, opts.running, opts.deviceLabels);
  const { totals, startedAt } = opts.metrics;
  return {
    host: hostname(),
    pid: process.pid,
    slots,
    blender_version: slots.find((s) => s.blender_version)?.blender_version ?? null,
    frames_per_s: opts.metrics.rate.perSecond(opts.nowMs),
    frames_rendered: totals.framesOk,
    frames_failed: totals.framesFailed,
    batches_rendered: opts.batchesRendered,
    batches_failed: totals.batchesFailed,
    started_at: startedAt.toISOString(),
    heartbeat_ms: opts.heartbeatMs,
    // What jobs it serves: a job asking for another render.device kind is refused here.
    device_kinds: [...new Set((opts.deviceKinds ?? []).filter(Boolean))],
    device_requested: opts.deviceRequested ?? null,
    cpu_fallback: opts.cpuFallback ?? false,
    evaluation_runner: opts.evaluationRunner ?? null,
  };
}

/** A heartbeat being written every interval; {@link Heartbeat.stop} ends it. */
export interface Heartbeat {
  stop(): void;
  /** Writes a heartbeat now (what it advertises changed), besides the regular ones. */
  beat(): Promise<void>;
}

/**
 * Writes this worker's heartbeat into the registry now, then every `intervalMs`. A write that
 * fails (Redis away) is logged at debug level; the next beat tries again.
 */
export async function startHeartbeat(opts: {
  store: Pick<JobStore, 'heartbeat'>;
  workerId: string;
  intervalMs: number;
  /** The heartbeat as of now (see {@link buildHeartbeat}). */
  info: () => WorkerHeartbeat;
  log: Logger;
}): Promise<Heartbeat> {
  const beat = async () => {
    try {
      // The record outlives the registry's 10 minutes of listing a lost worker (ttl x 10 s).
      await opts.store.heartbeat(opts.workerId, opts.info(), 90);
    } catch (err) {
      opts.log.debug({ err }, 'heartbeat failed (Redis away?)');
    }
  };
  await beat();
  const timer = setInterval(beat, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), beat };
}
