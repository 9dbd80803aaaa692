import { z } from 'zod';

/** A worker's render slot as its last heartbeat described it. */
export const WorkerSlot = z.object({
  index: z.number().int().min(0),
  device: z.string().describe('the render device of the slot (e.g. CPU, CUDA:0); empty when the worker does not say'),
  blender_version: z.string().nullable().describe('null until the slot has started Blender'),
  state: z.enum(['busy', 'idle']),
  batch: z
    .object({ job: z.string(), batch: z.number().int(), frames_done: z.number().int(), frames_total: z.number().int() })
    .nullable()
    .describe('the batch the slot renders now; null when idle'),
});
export type WorkerSlot = z.infer<typeof WorkerSlot>;

/**
 * The evaluation runner a worker advertises (the Python runner of @synthline/evaluate answered its
 * probe): only such workers take evaluations.
 */
export const EvaluationRunner = z.object({
  python: z.string().describe('the Python version'),
  torch: z.string(),
  torchvision: z.string(),
  cuda: z.boolean(),
});
export type EvaluationRunner = z.infer<typeof EvaluationRunner>;

/**
 * What a worker writes with each heartbeat (beside its id and the time, which the store adds).
 * Read leniently: a field missing or malformed (an older worker, a test) takes its default.
 */
export const WorkerHeartbeat = z.object({
  host: z.string().catch(''),
  pid: z.number().int().catch(0),
  slots: z.array(WorkerSlot).catch([]),
  blender_version: z.string().nullable().catch(null),
  /** Frames finished per second over the last minute (or since start, if younger). */
  frames_per_s: z.number().min(0).catch(0),
  frames_rendered: z.number().int().min(0).catch(0),
  frames_failed: z.number().int().min(0).catch(0),
  batches_rendered: z.number().int().min(0).catch(0),
  batches_failed: z.number().int().min(0).catch(0),
  started_at: z.string().nullable().catch(null),
  /** The worker's heartbeat interval: the registry calls it lost after a few of these in silence. */
  heartbeat_ms: z.number().int().positive().catch(5000),
  /**
   * The device kinds its slots render on (`cpu`, `cuda`, `optix`, ...): what jobs it can serve.
   * Empty when the worker does not say (an older worker): then it counts as serving any kind.
   */
  device_kinds: z.array(z.string()).catch([]),
  /** The device kind it was started for (WORKER_DEVICE: `auto`, `cpu`, `cuda`, ...); null if not said. */
  device_requested: z.string().nullable().catch(null),
  /** True when it renders on the CPU because the GPU kind it was started for is absent (WORKER_ALLOW_CPU_FALLBACK). */
  cpu_fallback: z.boolean().catch(false),
  /** The evaluation runner it has, probed at start (null: none, or not probed yet). */
  evaluation_runner: EvaluationRunner.nullable().catch(null),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** A worker as `GET /v1/workers` shows it. */
export const WorkerView = z.object({
  id: z.string(),
  status: z.enum(['live', 'lost']).describe('lost: no heartbeat for longer than lost_after_s'),
  host: z.string(),
  pid: z.number().int(),
  slots: z.array(WorkerSlot),
  blender_version: z.string().nullable(),
  frames_per_s: z.number().describe('frames finished per second over the last minute (or since start)'),
  frames_rendered: z.number().int().describe('frames this worker process rendered since it started'),
  frames_failed: z.number().int(),
  batches_rendered: z.number().int(),
  batches_failed: z.number().int().describe('batch attempts that failed on this worker'),
  started_at: z.string().nullable(),
  last_heartbeat_at: z.string(),
  seconds_since_heartbeat: z.number(),
  heartbeat_s: z.number().describe("the worker's heartbeat interval"),
  lost_after_s: z.number().describe('silence after which the worker counts as lost'),
  device_kinds: z
    .array(z.string())
    .describe(
      'the device kinds its slots render on (cpu, cuda, optix, hip, metal): a job asking for render.device of another kind is not served here; empty when the worker does not say',
    ),
  device_requested: z.string().nullable().describe('the device kind the worker was started for (WORKER_DEVICE); null when it does not say'),
  cpu_fallback: z
    .boolean()
    .describe('true when it renders on the CPU because the GPU kind it was started for is absent (WORKER_ALLOW_CPU_FALLBACK)'),
  evaluation_runner: EvaluationRunner.nullable().describe(
    'the Python evaluation runner (PyTorch) this worker probed at start: only workers with one take evaluations; null when it has none (or is still probing)',
  ),
});
export type WorkerView = z.infer<typeof WorkerView>;

export const WorkerList = z.object({
  items: z.array(WorkerView).describe('live workers first, then lost ones; each group by id'),
  live: z.number().int(),
  lost: z.number().int(),
});
export type WorkerList = z.infer<typeof WorkerList>;

/** How the registry judges silence. */
export interface RegistryPolicy {
  /** A worker is lost after this many of its own heartbeat intervals without one (default 3). */
  lostAfterHeartbeats: number;
  /** Lost workers stay listed this long after their last heartbeat, then drop (default 10 min). */
  retainLostMs: number;
}

export const DEFAULT_REGISTRY_POLICY: RegistryPolicy = { lostAfterHeartbeats: 3, retainLostMs: 600_000 };

/** `live` while the last heartbeat is at most `lostAfterMs` old, `lost` after. */
export function workerStatus(lastSeenMs: number, nowMs: number, lostAfterMs: number): 'live' | 'lost' {
  return nowMs - lastSeenMs > lostAfterMs ? 'lost' : 'live';
}

/** One registry entry as the store holds it: the heartbeat's time and what it said (null if expired). */
export interface RegistryEntry {
  id: string;
  lastSeenMs: number;
  info: unknown;
}

/** The registry as the API shows it, judged at `nowMs`; entries older than the retention are left out. */
export function workerList(entries: RegistryEntry[], policy: RegistryPolicy = DEFAULT_REGISTRY_POLICY, nowMs = Date.now()): WorkerList {
  const items = entries
    .filter((e) => nowMs - e.lastSeenMs <= policy.retainLostMs)
    .map((e): WorkerView => {
      const hb = WorkerHeartbeat.parse(e.info && typeof e.info === 'object' ? e.info : {});
      const lostAfterMs = policy.lostAfterHeartbeats * hb.heartbeat_ms;
      return {
        id: e.id,
        status: workerStatus(e.lastSeenMs, nowMs, lostAfterMs),
        host: hb.host,
        pid: hb.pid,
        slots: hb.slots,
        blender_version: hb.blender_version,
        frames_per_s: hb.frames_per_s,
        frames_rendered: hb.frames_rendered,
        frames_failed: hb.frames_failed,
        batches_rendered: hb.batches_rendered,
        batches_failed: hb.batches_failed,
        started_at: hb.started_at,
        last_heartbeat_at: new Date(e.lastSeenMs).toISOString(),
        seconds_since_heartbeat: Math.max(0, Math.round((nowMs - e.lastSeenMs) / 100) / 10),
        heartbeat_s: hb.heartbeat_ms / 1000,
        lost_after_s: lostAfterMs / 1000,
        device_kinds: hb.device_kinds,
        device_requested: hb.device_requested,
        cpu_fallback: hb.cpu_fallback,
        evaluation_runner: hb.evaluation_runner,
      };
    })
    .sort((a, b) => (a.status === b.status ? a.id.localeCompare(b.id) : a.status === 'live' ? -1 : 1));
  const live = items.filter((w) => w.status === 'live').length;
  return { items, live, lost: items.length - live };
}
