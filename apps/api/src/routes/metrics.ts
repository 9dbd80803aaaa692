import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { within } from '@synthline/base';
import { workerList, type RegistryPolicy, type WorkerList } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import { processMetrics } from '@synthline/metrics';

/** Longest wait for Redis while scraping: a scrape must answer, even while Redis is away. */
const SCRAPE_TIMEOUT_MS = 2000;

/** What one scrape reads from Redis. */
export interface ScrapeData {
  depth: Record<'render' | 'finalize', Record<string, number>>;
  jobs: Record<string, number>;
  workers: WorkerList;
}

/**
 * The API's Prometheus metrics in a registry of its own (prom-client's global one is left alone,
 * so several apps and workers can share a process): queue depth, jobs by status and the worker
 * registry, read from Redis at scrape time.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly redisUp: Gauge;
  private readonly depth: Gauge<'queue' | 'state'>;
  private readonly jobs: Gauge<'status'>;
  private readonly workers: Gauge<'status'>;
  private readonly up: Gauge<'worker' | 'host'>;
  private readonly slots: Gauge<'worker'>;
  private readonly busy: Gauge<'worker'>;
  private readonly rate: Gauge<'worker'>;
  private readonly age: Gauge<'worker'>;
  private readonly frames: Counter<'worker'>;
  private readonly framesFailed: Counter<'worker'>;
  private readonly batches: Counter<'worker'>;

  constructor() {
    const registers = [this.registry];
    this.redisUp = new Gauge({
      name: 'synthline_redis_up',
      help: 'Whether Redis answered this scrape (1) or not (0: the series read from Redis are missing)',
      registers,
    });
    this.depth = new Gauge({
      name: 'synthline_queue_depth',
      help: 'BullMQ jobs by queue (render batches, finalize) and state, at scrape time',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.jobs = new Gauge({ name: 'synthline_jobs', help: 'Dataset jobs by status', labelNames: ['status'], registers });
    this.workers = new Gauge({
      name: 'synthline_workers',
      help: 'Workers in the registry by status (live or lost)',
      labelNames: ['status'],
      registers,
    });
    this.up = new Gauge({
      name: 'synthline_worker_up',
      help: 'Whether a worker is live (1) or lost (0: no heartbeat for the threshold)',
      labelNames: ['worker', 'host'],
      registers,
    });
    this.slots = new Gauge({ name: 'synthline_worker_slots', help: 'Render slots of a worker', labelNames: ['worker'], registers });
    this.busy = new Gauge({
      name: 'synthline_worker_slots_busy',
      help: 'Render slots of a worker rendering a batch, at its last heartbeat',
      labelNames: ['worker'],
      registers,
    });
    this.rate = new Gauge({
      name: 'synthline_worker_frames_per_second',
      help: 'Frames a worker finished per second over the last minute (or since it started)',
      labelNames: ['worker'],
      registers,
    });
    this.age = new Gauge({
      name: 'synthline_worker_heartbeat_age_seconds',
      help: "Seconds since a worker's last heartbeat",
      labelNames: ['worker'],
      registers,
    });
    this.frames = new Counter({
      name: 'synthline_worker_frames_total',
      help: 'Frames a worker process rendered since it started, at its last heartbeat',
      labelNames: ['worker'],
      registers,
    });
    this.framesFailed = new Counter({
      name: 'synthline_worker_frames_failed_total',
      help: 'Frames that failed on a worker process since it started',
      labelNames: ['worker'],
      registers,
    });
    this.batches = new Counter({
      name: 'synthline_worker_batches_rendered_total',
      help: 'Render batches a worker process rendered since it started',
      labelNames: ['worker'],
      registers,
    });
  }

  /** Reads what a scrape shows from Redis. */
  static async read(queue: JobQueue, policy: RegistryPolicy): Promise<ScrapeData> {
    const states = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;
    const [render, finalize, jobs, entries] = await Promise.all([
      queue.render.getJobCounts(...states),
      queue.finalize.getJobCounts(...states),
      queue.store.statusCounts(),
      queue.store.workers(policy.retainLostMs),
    ]);
    return { depth: { render, finalize }, jobs, workers: workerList(entries, policy) };
  }

  /** Sets every series from one read (null: Redis did not answer), synchronously, so a scrape sees one snapshot. */
  update(data: ScrapeData | null): void {
    for (const m of [
      this.depth,
      this.jobs,
      this.workers,
      this.up,
      this.slots,
      this.busy,
      this.rate,
      this.age,
      this.frames,
      this.framesFailed,
      this.batches,
    ])
      m.reset();
    this.redisUp.set(data ? 1 : 0);
    if (!data) return;
    for (const [queue, counts] of Object.entries(data.depth))
      for (const [state, n] of Object.entries(counts)) this.depth.set({ queue, state }, n);
    for (const [status, n] of Object.entries(data.jobs)) this.jobs.set({ status }, n);
    this.workers.set({ status: 'live' }, data.workers.live);
    this.workers.set({ status: 'lost' }, data.workers.lost);
    for (const w of data.workers.items) {
      const worker = w.id;
      this.up.set({ worker, host: w.host }, w.status === 'live' ? 1 : 0);
      this.slots.set({ worker }, w.slots.length);
      this.busy.set({ worker }, w.slots.filter((s) => s.state === 'busy').length);
      this.rate.set({ worker }, w.frames_per_s);
      this.age.set({ worker }, w.seconds_since_heartbeat);
      this.frames.inc({ worker }, w.frames_rendered);
      this.framesFailed.inc({ worker }, w.frames_failed);
      this.batches.inc({ worker }, w.batches_rendered);
    }
  }

  /** The exposition text: these metrics, then the process's. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}

/**
 * `GET /metrics`: Prometheus text exposition. With API keys it needs one, like every route but
 * the probes, unless the operator opens it (SYNTHLINE_PUBLIC_METRICS=1).
 */
export const metricsRoute: FastifyPluginAsync<{ queue: JobQueue; policy: RegistryPolicy }> = async (app, { queue, policy }) => {
  const metrics = new ApiMetrics();
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition): queue depth, jobs by status, workers, process',
        description:
          'With API keys, needs one (Prometheus: `authorization: {credentials: <token>}`) unless SYNTHLINE_PUBLIC_METRICS=1. Job counts are counters kept by every transition, not a walk of the jobs. Worker series come from the registry (GET /v1/workers).',
        tags: ['health'],
      },
    },
    async (request, reply) => {
      let data: ScrapeData | null = null;
      try {
        data = await within(ApiMetrics.read(queue, policy), SCRAPE_TIMEOUT_MS);
      } catch (err) {
        request.log.warn({ err }, 'metrics: Redis did not answer');
      }
      metrics.update(data);
      const body = await metrics.text();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};
