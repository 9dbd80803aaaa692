import { z } from 'zod';
import { oneOf, wholeNumber, withDefault, type EnvSource } from './conventions.ts';

/** A Redis URL. */
export const redisUrl = z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL');

/** The asset library: a folder, or an `s3://bucket/prefix` URL (no other URL). */
export const libraryRoot = z.string().regex(/^(s3:\/\/|(?![a-z][a-z0-9+.-]*:\/\/))/i, 'must be a folder or an s3://bucket/prefix URL');

/** pino's levels. */
export const logLevel = oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A TCP port; 0 = any free one (or off, where the variable says so). */
export const port = wholeNumber(0, 65535);

/**
 * What the API and every worker of one deployment read alike (and must agree on: the same Redis,
 * prefix, output and library).
 */
export const SERVICE = {
  /** Redis holding the queues and the job store. */
  REDIS_URL: withDefault(redisUrl, 'redis://127.0.0.1:6379'),
  /** Redis key prefix of queues and job state. */
  SYNTHLINE_PREFIX: withDefault(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64'), 'synthline'),
  /** Where datasets are written: a folder path, a file:// URL or s3://bucket/prefix. */
  SYNTHLINE_OUTPUT: withDefault(z.string(), 'out/jobs'),
  /** The asset library folder: `products/<id>/`, `backgrounds/`, `hdri/`; or s3://bucket/prefix. */
  SYNTHLINE_LIBRARY: withDefault(libraryRoot, 'library'),
  /** pino log level. */
  LOG_LEVEL: withDefault(logLevel, 'info'),
} as const;

/** Whether the output or the asset library is in a bucket (then S3's settings are read too). */
export function usesS3(env: EnvSource): boolean {
  return [env.SYNTHLINE_OUTPUT, env.SYNTHLINE_LIBRARY].some((v) => typeof v === 'string' && v.trim().startsWith('s3://'));
}
