import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RenderSlot, SlotEvent } from '@synthline/blender';
import { within } from '@synthline/base';
import { processMetrics } from '@synthline/metrics';

/**
 * Frames finished per second over a sliding window (a minute by default), or since start while
 * the worker is younger than the window. Counts are kept per second, so memory stays bounded
 * however fast frames come.
 */
export class FrameRate {
  private readonly buckets = new Map<number, number>();

  constructor(
    private readonly startedMs = Date.now(),
    private readonly windowMs = 60_000,
  ) {}

  add(n = 1, nowMs = Date.now()): void {
    const s = Math.floor(nowMs / 1000);
    this.buckets.set(s, (this.buckets.get(s) ?? 0) + n);
    this.prune(nowMs);
  }

  /** Frames per second, rounded to 3 decimals. */
  perSecond(nowMs = Date.now()): number {
    this.prune(nowMs);
    let n = 0;
    for (const v of this.buckets.values()) n += v;
    // At least a second: one frame right after start is not a rate of thousands.
    const spanS = Math.max(1, Math.min(this.windowMs, nowMs - this.startedMs) / 1000);
    return Math.round((n / spanS) * 1000) / 1000;
  }

  private prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - this.windowMs) / 1000);
    for (const s of this.buckets.keys()) if (s < oldest) this.buckets.delete(s);
  }
}

/** Counts Blender restarts from slot events: a `started` beyond the first of each slot. */
export class RestartCounter {
  private started = 0;
  private counted = 0;

  /**
   * Call on each `started` event with the pool's slots; returns how many restarts it adds (0 or
   * 1). A slot's `starts` grows in the same tick as its event, so events minus slots that have
   * ever started is the number of restarts, whichever slot the event came from.
   */
  onStarted(slots: readonly Pick<RenderSlot, 'starts'>[]): number {
    this.started++;
    const firsts = slots.filter((s) => s.starts > 0).length;
    const restarts = Math.max(0, this.started - firsts);
    const add = restarts - this.counted;
    this.counted = restarts;
    return Math.max(0, add);
  }
}

/** Render queue counts by BullMQ state. */
export type QueueDepth = () => Promise<Record<string, number>>;

/**
 * A worker's Prometheus metrics, in a registry of its own (not prom-client's global one), so an
 * API and several workers can share a process (as tests do). Every series carries `worker`.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly rate: FrameRate;
  readonly frames: Counter<'result'>;
  readonly renderSeconds: Histogram;
  readonly batches: Counter<'outcome'>;
  readonly batchRetries: Counter;
  readonly batchFailures: Counter;
  readonly blenderRestarts: Counter;
  readonly blenderCrashes: Counter<'code'>;
  readonly blenderRecycles: Counter<'reason'>;
  /** Totals for the heartbeat. */
  readonly totals = { framesOk: 0, framesFailed: 0, batchesFailed: 0 };
  readonly startedAt = new Date();
  private readonly restarts = new RestartCounter();
  /** Process metrics appended to the exposition. */
  private readonly extra: Registry | undefined;

  constructor(opts: {
    worker: string;
    slots: () => readonly RenderSlot[];
    busySlots: () => number;
    queueDepth?: QueueDepth;
    processMetrics?: boolean;
  }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker: opts.worker });
    this.rate = new FrameRate(this.startedAt.getTime());
    this.frames = new Counter({
      name: 'synthline_worker_frames_rendered_total',
      help: 'Frames this worker finished, by result (ok or failed)',
      labelNames: ['result'],
      registers,
    });
    this.frames.inc({ result: 'ok' }, 0);
    this.frames.inc({ result: 'failed' }, 0);
    this.renderSeconds = new Histogram({
      name: 'synthline_worker_frame_render_seconds',
      help: 'Seconds Blender spent on each rendered frame (render_s)',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.batches = new Counter({
      name: 'synthline_worker_batches_total',
      help: 'Render batch attempts by outcome: rendered, skipped (job gone, final or batch already committed), handed_back (shutdown or left to other workers), failed',
      labelNames: ['outcome'],
      registers,
    });
    this.batchRetries = new Counter({
      name: 'synthline_worker_batch_retries_total',
      help: 'Render batches started again after a failed attempt (attemptsMade > 0)',
      registers,
    });
    this.batchFailures = new Counter({
      name: 'synthline_worker_batch_failures_total',
      help: 'Render batches that failed for good on this worker (last attempt, or not retryable)',
      registers,
    });
    this.blenderRestarts = new Counter({
      name: 'synthline_worker_blender_restarts_total',
      help: 'Blender processes started beyond the first of each slot (after a crash, a hung frame or a recycle)',
      registers,
    });
    this.blenderCrashes = new Counter({
      name: 'synthline_worker_blender_crashes_total',
      help: 'Blender processes that crashed or hung on a frame, by error code',
      labelNames: ['code'],
      registers,
    });
    this.blenderRecycles = new Counter({
      name: 'synthline_worker_blender_recycles_total',
      help: 'Blender processes recycled, by reason (frames or memory)',
      labelNames: ['reason'],
      registers,
    });
    const rate = this.rate;
    new Gauge({
      name: 'synthline_worker_frames_per_second',
      help: 'Frames finished per second over the last minute (or since start)',
      registers,
      collect() {
        this.set(rate.perSecond());
      },
    });
    new Gauge({
      name: 'synthline_worker_slots',
      help: 'Render slots of this worker',
      registers,
      collect() {
        this.set(opts.slots().length);
      },
    });
    new Gauge({
      name: 'synthline_worker_slots_busy',
      help: 'Render slots rendering a batch now',
      registers,
      collect() {
        this.set(opts.busySlots());
      },
    });
    const started = this.startedAt.getTime() / 1000;
    new Gauge({
      name: 'synthline_worker_start_time_seconds',
      help: 'When this worker started, Unix seconds',
      registers,
      collect() {
        this.set(started);
      },
    });
    if (opts.queueDepth) {
      const depth = opts.queueDepth;
      new Gauge({
        name: 'synthline_queue_depth',
        help: 'Render batches in the queue by state, as this worker sees it at scrape time (unchanged while Redis does not answer)',
        labelNames: ['queue', 'state'],
        registers,
        async collect() {
          try {
            const counts = await within(depth(), 1000);
            for (const [state, n] of Object.entries(counts)) this.set({ queue: 'render', state }, n);
          } catch {
            // Redis away: keep the last values; /healthz says so.
          }
        },
      });
    }
    if (opts.processMetrics !== false) this.extra = processMetrics();
  }

  /** A frame rendered and written; `renderS` is Blender's time for it. */
  frameOk(renderS: number): void {
    this.frames.inc({ result: 'ok' });
    if (Number.isFinite(renderS) && renderS >= 0) this.renderSeconds.observe(renderS);
    this.totals.framesOk++;
    this.rate.add();
  }

  /** A frame that failed for good (after the slot's retries). */
  frameFailed(): void {
    this.frames.inc({ result: 'failed' });
    this.totals.framesFailed++;
    this.rate.add();
  }

  /** Counts what a slot reports: restarts, crashes and recycles of Blender. */
  slotEvent(e: SlotEvent, slots: readonly RenderSlot[]): void {
    if (e.type === 'started') {
      const n = this.restarts.onStarted(slots);
      if (n > 0) this.blenderRestarts.inc(n);
    } else if (e.type === 'crashed') this.blenderCrashes.inc({ code: e.error.code });
    else if (e.type === 'recycled') this.blenderRecycles.inc({ reason: e.reason });
  }

  /** The exposition text: this worker's metrics, then the process's. */
  async text(): Promise<{ contentType: string; body: string }> {
    const own = await this.registry.metrics();
    const proc = this.extra ? await this.extra.metrics() : '';
    return { contentType: this.registry.contentType, body: proc ? `${own}\n${proc}` : own };
  }
}
