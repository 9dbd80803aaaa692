import { destination, pino, type Logger } from 'pino';
import type { ApiEnv } from '@synthline/config';
import type { Quota } from '@synthline/jobs';
import { JobQueue, createRedis } from '@synthline/queue';
import { openStorage } from '@synthline/storage';
import { buildApp, type App } from './app.ts';
import { DEV_TOKEN_SHA256, isLoopback, loadKeys } from './access.ts';

/** A listening API. */
export interface RunningApi {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  app: App;
  queue: JobQueue;
  /** Stops accepting requests, ends event streams, lets requests in flight finish, then drops Redis. Safe to call twice. */
  close(): Promise<void>;
}

/** Requests in flight get this long after close() before their connections are cut. */
const CLOSE_GRACE_MS = 10_000;

/** The default quotas an environment sets. */
function quotaDefaults(env: ApiEnv): Quota {
  return {
    jobs_in_flight: env.QUOTA_JOBS_IN_FLIGHT,
    frames_outstanding: env.QUOTA_FRAMES_OUTSTANDING,
    daily_budget: env.QUOTA_DAILY_BUDGET,
  };
}

/** Starts the API (configured by `loadApiEnv` of @synthline/config): Redis connection, queue, storage, app; listens on HOST:PORT. */
export async function startApi(env: ApiEnv, options: { logger?: Logger } = {}): Promise<RunningApi> {
  // Logs on stderr (the process's own output, if any, is on stdout).
  const logger = options.logger ?? pino({ level: env.LOG_LEVEL, name: 'synthline-api' }, destination(2));
  const keys = loadKeys(env);
  const dev = keys.find((k) => k.sha256 === DEV_TOKEN_SHA256);
  if (dev && !env.SYNTHLINE_ALLOW_DEV_TOKEN) {
    throw new Error(
      `refusing to start: API key "${dev.name}" is the published development token of docker-compose (sl_dev_insecure_compose_token), which anyone can read. ` +
        'Make a key of your own with "synthline api-key <name>", or set SYNTHLINE_ALLOW_DEV_TOKEN=1 on a machine only you can reach.',
    );
  }
  if (keys.length === 0) {
    if (!isLoopback(env.HOST)) {
      throw new Error(
        `refusing to listen on ${env.HOST} without API keys: anyone who can reach it could submit jobs. ` +
          'Set SYNTHLINE_API_KEYS or SYNTHLINE_API_KEYS_FILE (make a key with "synthline api-key <name>"), or HOST=127.0.0.1.',
      );
    }
    // The local default (demo, up, a laptop), not a fault: said once, at info.
    logger.info(`no API keys configured: listening on loopback (${env.HOST}) only, without authentication`);
  }
  const storage = openStorage(env.SYNTHLINE_OUTPUT);
  await storage.check();
  // Unlike a worker's blocking connection, the API's may give up on a command: while Redis is
  // away, requests then answer 503 within a second instead of hanging until it is back.
  const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const queue = new JobQueue(redis, env.SYNTHLINE_PREFIX, {
    batchSize: env.SYNTHLINE_BATCH_SIZE,
    window: env.SYNTHLINE_BATCH_WINDOW,
    retentionS: env.JOB_RETENTION_S,
  });
  // A store written by an older version gets its per-status indexes once (a walk of its jobs).
  await queue.store
    .ensureIndexes()
    .catch((err: unknown) => logger.warn({ err }, 'indexing the job store failed (Redis away?); listing by status may miss older jobs'));
  // The queues report the same connection errors again; without a listener BullMQ prints them.
  for (const q of [queue.render, queue.finalize, queue.evaluate]) q.on('error', (err) => logger.debug({ err }, 'queue connection error'));
  const app = buildApp({
    queue,
    storage,
    logger,
    bodyLimit: env.BODY_LIMIT,
    libraryRoot: env.SYNTHLINE_LIBRARY,
    realRoot: env.SYNTHLINE_REAL,
    keys,
    ratePerMinute: env.RATE_LIMIT_PER_MIN,
    open: { docs: env.SYNTHLINE_PUBLIC_DOCS, metrics: env.SYNTHLINE_PUBLIC_METRICS },
    quotas: { defaults: quotaDefaults(env), perKey: env.SYNTHLINE_QUOTAS },
    maxStreamsPerClient: env.MAX_STREAMS_PER_KEY,
    evaluations: { maxInFlight: env.QUOTA_EVALUATIONS_IN_FLIGHT, maxSize: env.MAX_EVAL_SIZE, maxEpochs: env.MAX_EVAL_EPOCHS },
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    // Ended jobs leave Redis within half their retention (at least once a minute).
    sweepMs: Math.min(60_000, Math.max(250, env.JOB_RETENTION_S * 500)),
    caps: { count: env.MAX_COUNT, resolution: env.MAX_RESOLUTION, samples: env.MAX_SAMPLES },
    workers: { lostAfterHeartbeats: env.WORKER_LOST_AFTER_HEARTBEATS, retainLostMs: env.WORKER_LOST_RETAIN_MS },
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // app.close() waits for requests in flight, and has no deadline of its own.
      const grace = setTimeout(() => {
        logger.warn('requests still running after the grace period: closing their connections');
        app.server.closeAllConnections();
      }, CLOSE_GRACE_MS);
      grace.unref();
      try {
        await app.close();
      } catch (err) {
        logger.error({ err }, 'closing the HTTP server failed');
      } finally {
        clearTimeout(grace);
      }
      try {
        await queue.close();
      } catch (err) {
        logger.error({ err }, 'closing the queue failed');
      }
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    })();
    return closing;
  };

  try {
    const url = await app.listen({ host: env.HOST, port: env.PORT });
    logger.info({ url, prefix: env.SYNTHLINE_PREFIX, output: storage.root }, 'synthline API listening');
    return { url, app, queue, close };
  } catch (err) {
    await close();
    throw err;
  }
}
