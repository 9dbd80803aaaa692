import { z } from 'zod';
import type { Quota } from '@synthline/queue';

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
const num = (def: number, min: number, max: number) => z.preprocess(unsetIfEmpty, z.coerce.number().min(min).max(max).default(def));
const flag = z.preprocess(unsetIfEmpty, z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'));

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
  /** Requests per minute per API key (per client address without keys), shared by every API process on one Redis. */
  RATE_LIMIT_PER_MIN: int(600, 1, 1_000_000),
  /** Serve /docs and the OpenAPI document without a key (only matters with keys). */
  SYNTHLINE_PUBLIC_DOCS: flag,
  /** Serve /metrics without a key (only matters with keys); else scrape it with a bearer token. */
  SYNTHLINE_PUBLIC_METRICS: flag,
  /** Accept the published development key of docker-compose (never on a shared network). */
  SYNTHLINE_ALLOW_DEV_TOKEN: flag,
  /** Default quota: jobs not yet ended per key (0 = no limit). */
  QUOTA_JOBS_IN_FLIGHT: int(100, 0, 1_000_000),
  /** Default quota: frames of those jobs per key (0 = no limit). */
  QUOTA_FRAMES_OUTSTANDING: int(50_000_000, 0, 1_000_000_000_000),
  /** Default quota: frames x megapixels x samples submitted per key per UTC day (0 = no limit). */
  QUOTA_DAILY_BUDGET: num(1e9, 0, 1e15),
  /** Per-key quota overrides: `name:jobs_in_flight=5,frames_outstanding=1000,daily_budget=1e6` entries separated by `;` or newlines. */
  SYNTHLINE_QUOTAS: str('').transform((text, ctx) => {
    try {
      return parseQuotaOverrides(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** A finished job's record stays this long in Redis (seconds); its dataset stays in storage. */
  JOB_RETENTION_S: int(7 * 86_400, 1, 10 * 365 * 86_400),
  /** Most event streams one key (or address without keys) may hold open per API process. */
  MAX_STREAMS_PER_KEY: int(20, 1, 100_000),
  /** A request must arrive whole within this many ms; slower clients are cut off. */
  REQUEST_TIMEOUT_MS: int(30_000, 1000, 600_000),
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
  BODY_LIMIT: int(64 * 1024, 1024, 16 * 1024 * 1024),
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
  if (!r.success) throw new EnvError(r.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(env)'), message: i.message })));
  return r.data;
}

const QUOTA_NAMES = ['jobs_in_flight', 'frames_outstanding', 'daily_budget'] as const;

/** The default quotas an environment sets. */
export function quotaDefaults(env: Env): Quota {
  return { jobs_in_flight: env.QUOTA_JOBS_IN_FLIGHT, frames_outstanding: env.QUOTA_FRAMES_OUTSTANDING, daily_budget: env.QUOTA_DAILY_BUDGET };
}

/** Parses SYNTHLINE_QUOTAS: `name:quota=value,...` entries separated by `;` or newlines. */
export function parseQuotaOverrides(text: string): Record<string, Partial<Quota>> {
  const out: Record<string, Partial<Quota>> = {};
  for (const raw of text.split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([A-Za-z0-9_.-]{1,64}):(.+)$/.exec(entry);
    if (!m) throw new Error(`"${entry.slice(0, 40)}" is not "keyname:quota=value,..."`);
    const q: Partial<Quota> = {};
    for (const part of (m[2] as string).split(',')) {
      const [name, value] = part.split('=').map((x) => x.trim());
      if (!QUOTA_NAMES.includes(name as (typeof QUOTA_NAMES)[number])) throw new Error(`unknown quota "${name}" (quotas: ${QUOTA_NAMES.join(', ')})`);
      const n = Number(value);
      if (!value || !Number.isFinite(n) || n < 0) throw new Error(`${name}: "${value ?? ''}" is not a number >= 0`);
      q[name as keyof Quota] = n;
    }
    out[m[1] as string] = q;
  }
  return out;
}
