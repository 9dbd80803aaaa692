import type { JobError, WorkerView } from '@synthline/jobs';
import type { JobErrorCode } from '@synthline/spec';

// Whether any live worker can take a job, judged from the worker registry: a job asking for a
// device kind no live worker renders on (or one every capable worker gave up on) can never run,
// and after a bounded wait it fails instead of bouncing between workers forever. Pure: the worker
// reads the registry and the job's Redis state, this module decides.

/** What the decision needs of a registry entry. */
export type WorkerCapability = Pick<WorkerView, 'id' | 'status' | 'started_at' | 'slots'> & { device_kinds?: readonly string[] };

/**
 * The device kinds a worker renders on, as its heartbeat says (the slot pool's kinds, never
 * parsed from a device label). Empty: unknown (a worker too old to say), which serves any kind.
 */
export function workerKinds(w: Pick<WorkerCapability, 'device_kinds'>): string[] {
  return [...new Set((w.device_kinds ?? []).filter(Boolean))];
}

/**
 * Whether a worker rendering on `kinds` takes a job asking for render.device `device` (as
 * SlotPool.refusal decides on the worker): `auto` goes anywhere, a kind needs slots of that kind,
 * or CPU slots when the job allows CPU fallback. Unknown kinds (empty) do not refuse.
 */
export function servesDevice(kinds: readonly string[], device: string, allowCpuFallback: boolean): boolean {
  if (device === 'auto' || kinds.length === 0) return true;
  return kinds.includes(device) || (allowCpuFallback && kinds.includes('cpu'));
}

/**
 * One worker process in a job's set of workers that gave up on it: its id and start time, so a
 * worker restarted under the same id (its failure counts forgotten) is not taken for one that
 * gave up.
 */
export function workerInstance(id: string, startedAt: string | null): string {
  return `${id}@${startedAt ?? ''}`;
}

export type UnservableCode = Extract<JobErrorCode, 'DEVICE_UNAVAILABLE' | 'NO_WORKER_CAN_RENDER'>;

export type Servability =
  /** Some live worker can take the job (`by`: their ids; empty when the registry knows no live worker). */
  | { servable: true; by: string[] }
  | {
      servable: false;
      code: UnservableCode;
      device: string;
      allowCpuFallback: boolean;
      /** Live workers and the kinds they render on, for the message. */
      live: number;
      liveKinds: string[];
      /** Ids of the live workers that could render the job but gave up on it. */
      gaveUp: string[];
    };

/**
 * Can any live worker take a job asking for `device`? A live worker serves it if its kinds do
 * and it has not given up on the job (`gaveUp`: {@link workerInstance} keys). None of the live
 * workers renders on the kind: `DEVICE_UNAVAILABLE`; some do but every one of them gave up:
 * `NO_WORKER_CAN_RENDER`. A registry without live workers decides nothing (servable): a job
 * waits for workers to come, as any job does.
 */
export function servability(opts: {
  workers: readonly WorkerCapability[];
  device: string;
  allowCpuFallback: boolean;
  gaveUp?: Iterable<string>;
}): Servability {
  const live = opts.workers.filter((w) => w.status === 'live');
  if (live.length === 0) return { servable: true, by: [] };
  const gaveUp = new Set(opts.gaveUp ?? []);
  const capable = live.filter((w) => servesDevice(workerKinds(w), opts.device, opts.allowCpuFallback));
  const willing = capable.filter((w) => !gaveUp.has(workerInstance(w.id, w.started_at)));
  if (willing.length > 0) return { servable: true, by: willing.map((w) => w.id) };
  return {
    servable: false,
    code: capable.length === 0 ? 'DEVICE_UNAVAILABLE' : 'NO_WORKER_CAN_RENDER',
    device: opts.device,
    allowCpuFallback: opts.allowCpuFallback,
    live: live.length,
    liveKinds: [...new Set(live.flatMap((w) => workerKinds(w)))].sort(),
    gaveUp: capable.map((w) => w.id).sort(),
  };
}

/** How long a job has waited for a worker since `sinceMs`, and whether that is longer than `boundMs`. */
export function waitVerdict(sinceMs: number, nowMs: number, boundMs: number): { expired: boolean; waitedMs: number; leftMs: number } {
  const waitedMs = Math.max(0, nowMs - sinceMs);
  return { expired: waitedMs > boundMs, waitedMs, leftMs: Math.max(0, boundMs - waitedMs) };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The note a job gets when it starts waiting for a worker that can take it (bound: DEVICE_WAIT_MS). */
export function waitingNote(s: Extract<Servability, { servable: false }>, boundMs: number): string {
  const upTo = `the job waits up to ${seconds(boundMs)} (DEVICE_WAIT_MS) for one, then fails with ${s.code}`;
  if (s.code === 'NO_WORKER_CAN_RENDER')
    return `every live worker that could render this job gave up on it (${s.gaveUp.join(', ')}): ${upTo}`;
  const on = s.liveKinds.length > 0 ? s.liveKinds.join(', ') : 'devices they do not report';
  return `no live worker renders on render.device "${s.device}"${s.allowCpuFallback ? ' or the CPU' : ''} (they render on ${on}): ${upTo}`;
}

/** The error a job fails with once it waited `waitedMs` (the bound: DEVICE_WAIT_MS) without a worker that can take it. */
export function unservableError(s: Extract<Servability, { servable: false }>, waitedMs: number): JobError {
  const workers = `${s.live} live worker${s.live === 1 ? '' : 's'}`;
  const waited = `waited ${seconds(waitedMs)} (DEVICE_WAIT_MS) for one`;
  if (s.code === 'NO_WORKER_CAN_RENDER') {
    return {
      code: s.code,
      message:
        `every live worker that could render this job gave up on it after repeated failed batches (${s.gaveUp.join(', ')}); ${waited} that would not: ` +
        "the job's notes say why each gave up; fix those workers or start another, then resubmit",
    };
  }
  const on = s.liveKinds.length > 0 ? s.liveKinds.join(', ') : 'devices they do not report';
  const asked = `render.device "${s.device}"${s.allowCpuFallback ? ' (or the CPU: render.allow_cpu_fallback)' : ''}`;
  const start =
    s.device === 'cpu'
      ? 'start a worker on the CPU (WORKER_DEVICE=cpu)'
      : `start a worker on a machine with that GPU (WORKER_DEVICE=${s.device})`;
  const fix =
    s.device === 'cpu'
      ? `resubmit with render.device "auto", or ${start}`
      : s.allowCpuFallback
        ? `${start} or a worker on the CPU (WORKER_DEVICE=cpu), then resubmit`
        : `resubmit with render.allow_cpu_fallback: true (or render.device "auto") to let CPU workers take it, or ${start}`;
  return {
    code: s.code,
    message: `this job's spec asks for ${asked}, but none of the ${workers} renders on it (they render on ${on}); ${waited}: ${fix}`,
  };
}
