/**
 * Every synthline setting read from the environment, one rule per variable, the same in every
 * process: unset or empty means the default, and one {@link EnvError} names each bad variable.
 * Each reader has its schema and loader (`loadApiEnv`, `loadWorkerEnv`, `loadS3Env`,
 * `loadBlenderEnv`, `loadCliEnv`); nothing is read at import.
 */
export { EnvError, type EnvProblem } from './env-error.ts';
export { parseEnv, parseSome, type EnvSource } from './conventions.ts';
export { ApiEnv, loadApiEnv } from './api.ts';
export { WorkerEnv, loadWorkerEnv } from './worker.ts';
export { BlenderEnv, loadBlenderEnv, defaultBlenderMemoryLimitMb } from './blender.ts';
export { S3Env, loadS3Env } from './s3.ts';
export { CliEnv, loadCliEnv } from './cli.ts';
export { QUOTA_NAMES, parseQuotaOverrides, type QuotaName, type QuotaOverrides } from './quotas.ts';
