import { totalmem } from 'node:os';
import { z } from 'zod';
import { parseEnv, wholeNumber, withDefault, type EnvSource } from './conventions.ts';

const MiB = 1024 * 1024;

/**
 * Three quarters of this machine's RAM, at most 8 GiB, in MiB. Measured with Blender 3.4 (Cycles,
 * CPU, 2 threads): a 96 to 512 px frame peaks at 460 to 520 MiB of data, a 4096 px one (the
 * spec's largest) at 2.8 GiB; 64 render threads add about 20 MiB each (stacks and allocator arenas).
 */
export function defaultBlenderMemoryLimitMb(): number {
  return Math.round(Math.min(8 * 1024 * MiB, Math.floor(totalmem() * 0.75)) / MiB);
}

/** How Blender is found and confined: read by the worker, `synthline render` and the assets scan. */
export const BlenderEnv = z.object({
  /** The Blender executable: a path or a command name looked up on PATH (spaces around it dropped). */
  BLENDER: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), withDefault(z.string(), 'blender')),
  /**
   * Hard cap on each Blender's memory (RLIMIT_DATA), MiB: past it a frame or scan fails with
   * MEMORY_LIMIT; 0 = none. Default: 3/4 of RAM, at most 8192.
   */
  BLENDER_MEMORY_LIMIT_MB: withDefault(wholeNumber(0), defaultBlenderMemoryLimitMb),
});
export type BlenderEnv = z.infer<typeof BlenderEnv>;

/** Reads Blender's settings; throws {@link EnvError} naming each bad variable. */
export function loadBlenderEnv(env: EnvSource = process.env): BlenderEnv {
  return parseEnv(BlenderEnv, env);
}
