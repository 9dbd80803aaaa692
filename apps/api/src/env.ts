import { z } from 'zod';

/** The API's environment is unusable; the message names each bad variable. */
export class EnvError extends Error {
  override name = 'EnvError';
  readonly code = 'ENV_INVALID';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid environment:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

// Docker and shells often pass a variable that is set but empty: that means "use the default".
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const str = (def: string) => z.preprocess(unsetIfEmpty, z.string().default(def));
const int = (def: number, min: number, max: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).default(def));

/** The API's configuration, read from the environment with coercion and defaults. */
export const Env = z.object({
  /** Redis holding the queues and the job store. */
  REDIS_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
  ),
  /** Redis key prefix; API and workers of one deployment must agree on it. */
  SYNTHLINE_PREFIX: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64')
      .default('synthline'),
  ),
  /** Interface to listen on. */
  HOST: str('127.0.0.1'),
  /** Port to listen on; 0 picks a free one. */
  PORT: int(8080, 0, 65535),
  /** Where datasets are written: a folder path, a file:// URL or s3://bucket/prefix, shared with the workers. */
  SYNTHLINE_OUTPUT: str('out/jobs'),
  /** The asset library folder: `products/<id>/`, `backgrounds/`, `hdri/`. */
  SYNTHLINE_LIBRARY: z.preprocess(unsetIfEmpty, z.string().regex(/^(s3:\/\/|(?![a-z][a-z0-9+.-]*:\/\/))/i, 'must be a folder or an s3://bucket/prefix URL').default('library')),
  /** Folder of real photo sets for mixes: `<name>/` as an ImageFolder tree or WebDataset shards. */
  SYNTHLINE_REAL: str('real'),
  /** API keys as `name:sha256-of-token` entries, separated by commas or newlines. */
  SYNTHLINE_API_KEYS: str(''),
  /** A file of API keys, one `name:sha256-of-token` a line (`#` comments). */
  SYNTHLINE_API_KEYS_FILE: str(''),
  /** Requests per minute per API key (per client address without keys). */
  RATE_LIMIT_PER_MIN: int(600, 1, 1_000_000),
  /** Largest `count` a job may ask for. */
  MAX_COUNT: int(10_000_000, 1, 100_000_000),
  /** Largest width or height a job may ask for. */
  MAX_RESOLUTION: int(4096, 16, 4096),
  /** Most Cycles samples a job may ask for. */
  MAX_SAMPLES: int(4096, 1, 4096),
  /** Frames per render batch. */
  SYNTHLINE_BATCH_SIZE: int(24, 1, 100_000),
  /** Render batches enqueued ahead per job. */
  SYNTHLINE_BATCH_WINDOW: int(16, 1, 4096),
  /** A worker silent for this many of its heartbeat intervals is listed as `lost` (GET /v1/workers, /metrics). */
  WORKER_LOST_AFTER_HEARTBEATS: int(3, 1, 1000),
  /** A lost worker stays listed this long after its last heartbeat, then drops (ms). */
  WORKER_LOST_RETAIN_MS: int(600_000, 0, 86_400_000),
  /** Largest request body in bytes (a spec is a few kB). */
  BODY_LIMIT: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** pino log level. */
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});
export type Env = z.infer<typeof Env>;

/** Reads the API's configuration; throws {@link EnvError} naming each bad variable. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const r = Env.safeParse(env);
  if (r.success) return r.data;
  throw new EnvError(r.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(env)'), message: i.message })));
}
