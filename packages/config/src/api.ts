import { z } from 'zod';
import { flag, number, parseAll, text, wholeNumber, withDefault, type EnvSource } from './conventions.ts';
import { SERVICE, port, usesS3 } from './service.ts';
import { S3Env } from './s3.ts';
import { parseQuotaOverrides } from './quotas.ts';

/** The API's configuration (`synthline serve`, the api image). */
export const ApiEnv = z.object({
  ...SERVICE,
  /** Interface to listen on. */
  HOST: withDefault(text, '127.0.0.1'),
  /** Port to listen on; 0 picks a free one. */
  PORT: withDefault(port, 8080),
  /** Folder of real photo sets for mixes: `<name>/` as an ImageFolder tree or WebDataset shards. */
  SYNTHLINE_REAL: withDefault(text, 'real'),
  /** API keys as `name:sha256-of-token` entries, separated by commas or newlines. */
  SYNTHLINE_API_KEYS: withDefault(text, ''),
  /** A file of API keys, one `name:sha256-of-token` a line (`#` comments). */
  SYNTHLINE_API_KEYS_FILE: withDefault(text, ''),
  /** Requests per minute per API key (per client address without keys), shared by every API process on one Redis. */
  RATE_LIMIT_PER_MIN: withDefault(wholeNumber(1, 1_000_000), 600),
  /** Serve /docs and the OpenAPI document without a key (only matters with keys). */
  SYNTHLINE_PUBLIC_DOCS: withDefault(flag, false),
  /** Serve /metrics without a key (only matters with keys); else scrape it with a bearer token. */
  SYNTHLINE_PUBLIC_METRICS: withDefault(flag, false),
  /** Accept the published development key of docker-compose (never on a shared network). */
  SYNTHLINE_ALLOW_DEV_TOKEN: withDefault(flag, false),
  /** Default quota: jobs not yet ended per key (0 = no limit). */
  QUOTA_JOBS_IN_FLIGHT: withDefault(wholeNumber(0, 1_000_000), 100),
  /** Default quota: frames of those jobs per key (0 = no limit). */
  QUOTA_FRAMES_OUTSTANDING: withDefault(wholeNumber(0, 1_000_000_000_000), 50_000_000),
  /** Default quota: frames x megapixels x samples submitted per key per UTC day (0 = no limit). */
  QUOTA_DAILY_BUDGET: withDefault(number(0, 1e15), 1e9),
  /** Quota: evaluations not yet ended per key (0 = no limit). */
  QUOTA_EVALUATIONS_IN_FLIGHT: withDefault(wholeNumber(0, 1_000_000), 4),
  /** Largest image size (`size`) an evaluation may ask for. */
  MAX_EVAL_SIZE: withDefault(wholeNumber(16, 1024), 256),
  /** Most training epochs an evaluation may ask for. */
  MAX_EVAL_EPOCHS: withDefault(wholeNumber(1, 10_000), 50),
  /** Per-key quota overrides: `name:jobs_in_flight=5,frames_outstanding=1000,daily_budget=1e6` entries separated by `;` or newlines. */
  SYNTHLINE_QUOTAS: withDefault(
    text.transform((v, ctx) => {
      try {
        return parseQuotaOverrides(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
    () => ({}),
  ),
  /** A finished job's record stays this long in Redis (seconds); its dataset stays in storage. */
  JOB_RETENTION_S: withDefault(wholeNumber(1, 10 * 365 * 86_400), 7 * 86_400),
  /** Most event streams one key (or address without keys) may hold open per API process. */
  MAX_STREAMS_PER_KEY: withDefault(wholeNumber(1, 100_000), 20),
  /** A request must arrive whole within this many ms; slower clients are cut off. */
  REQUEST_TIMEOUT_MS: withDefault(wholeNumber(1000, 600_000), 30_000),
  /** Largest `count` a job may ask for. */
  MAX_COUNT: withDefault(wholeNumber(1, 100_000_000), 10_000_000),
  /** Largest width or height a job may ask for. */
  MAX_RESOLUTION: withDefault(wholeNumber(16, 4096), 4096),
  /** Most Cycles samples a job may ask for. */
  MAX_SAMPLES: withDefault(wholeNumber(1, 4096), 4096),
  /** Frames per render batch. */
  SYNTHLINE_BATCH_SIZE: withDefault(wholeNumber(1, 100_000), 24),
  /** Render batches enqueued ahead per job. */
  SYNTHLINE_BATCH_WINDOW: withDefault(wholeNumber(1, 4096), 16),
  /** A worker silent for this many of its heartbeat intervals is listed as `lost` (GET /v1/workers, /metrics). */
  WORKER_LOST_AFTER_HEARTBEATS: withDefault(wholeNumber(1, 1000), 3),
  /** A lost worker stays listed this long after its last heartbeat, then drops (ms). */
  WORKER_LOST_RETAIN_MS: withDefault(wholeNumber(0, 86_400_000), 600_000),
  /** Largest request body in bytes (a spec is a few kB). */
  BODY_LIMIT: withDefault(wholeNumber(1024, 16 * 1024 * 1024), 64 * 1024),
});
export type ApiEnv = z.infer<typeof ApiEnv>;

/** Reads the API's configuration; throws {@link EnvError} naming each bad variable. */
export function loadApiEnv(env: EnvSource = process.env): ApiEnv {
  return parseAll(env, ApiEnv, ...(usesS3(env) ? [S3Env] : []));
}
