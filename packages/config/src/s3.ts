import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { optional, parseEnv, text, wholeNumber, withDefault, type EnvSource } from './conventions.ts';

/**
 * S3 settings, from the usual AWS variables and synthline's own; read by whatever opens an
 * `s3://` URL (output, asset library, `verify`). Credentials are not here: the SDK's default
 * chain reads them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles).
 */
export const S3Env = z
  .object({
    /** An S3-compatible endpoint (MinIO, Ceph, R2...) for S3 alone; before AWS_ENDPOINT_URL. */
    AWS_ENDPOINT_URL_S3: optional(text),
    /** An S3-compatible endpoint; AWS when neither is set. */
    AWS_ENDPOINT_URL: optional(text),
    AWS_REGION: optional(text),
    /** The region when AWS_REGION is unset; else us-east-1. */
    AWS_DEFAULT_REGION: optional(text),
    /** Path-style addressing (`endpoint/bucket/key`), which most non-AWS stores need: 1 or 0; default 1 with a custom endpoint. */
    SYNTHLINE_S3_PATH_STYLE: optional(z.enum(['0', '1'], { error: (iss) => `"${String(iss.input)}" is not 0 or 1` })),
    /** Files at least this big go up as multipart uploads of parts this big, MiB. */
    SYNTHLINE_S3_PART_MB: withDefault(wholeNumber(5, 5120), 16),
    /** Local folder for staging copies. */
    SYNTHLINE_STAGING: withDefault(text, () => join(tmpdir(), 'synthline-staging')),
  })
  .transform((e) => {
    const endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
    return {
      endpoint,
      region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
      pathStyle: e.SYNTHLINE_S3_PATH_STYLE === undefined ? endpoint !== undefined : e.SYNTHLINE_S3_PATH_STYLE === '1',
      partMb: e.SYNTHLINE_S3_PART_MB,
      staging: e.SYNTHLINE_STAGING,
    };
  });
/** The S3 settings with the fallbacks between variables applied. */
export type S3Env = z.infer<typeof S3Env>;

/** Reads the S3 settings; throws {@link EnvError} naming each bad variable. */
export function loadS3Env(env: EnvSource = process.env): S3Env {
  return parseEnv(S3Env, env);
}
