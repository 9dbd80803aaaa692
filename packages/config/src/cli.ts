import { z } from 'zod';
import { optional, parseSome, text, withDefault, type EnvSource } from './conventions.ts';
import { SERVICE, logLevel, redisUrl } from './service.ts';
import { ApiEnv } from './api.ts';

/**
 * What the CLI's own commands read (`serve` and `worker` read {@link ApiEnv} and
 * {@link WorkerEnv}); the same rules as there for the variables they share.
 */
export const CliEnv = z.object({
  /** The API the client commands talk to. */
  SYNTHLINE_API: withDefault(text, 'http://127.0.0.1:8080'),
  /** The token the client commands send as `Authorization: Bearer`. */
  SYNTHLINE_API_KEY: optional(text),
  /** The asset library of `render` and `assets scan`. */
  SYNTHLINE_LIBRARY: SERVICE.SYNTHLINE_LIBRARY,
  /** `demo` and `up`: the Redis to use; unset, they start a private one. */
  REDIS_URL: optional(redisUrl),
  /** `up`: the API's port. */
  PORT: ApiEnv.shape.PORT,
  /** `evaluate`: the Python that runs the probe (evaluate-scripts/eval_runner.py); it needs torch and torchvision. */
  SYNTHLINE_PYTHON: withDefault(text, '/usr/bin/python3'),
  /** `demo` and `up`: pino level; unset, `info` for `up` and `warn` for `demo`. */
  LOG_LEVEL: optional(logLevel),
});
export type CliEnv = z.infer<typeof CliEnv>;

/**
 * Reads `names` of the CLI's settings (a client command does not fail on a bad variable it never
 * uses); throws {@link EnvError} naming each bad one.
 */
export function loadCliEnv<K extends keyof CliEnv>(names: readonly K[], env: EnvSource = process.env): Pick<CliEnv, K> {
  return parseSome(CliEnv, names, env);
}
