import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { BlenderEnv, parseSome } from '@synthline/config';
import { BlenderNotFoundError } from './errors.ts';

/**
 * The Blender executable: `BLENDER` if set (a path or a command name), else `blender` on PATH.
 * Throws {@link BlenderNotFoundError} with install instructions when there is none.
 */
export function findBlender(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = parseSome(BlenderEnv, ['BLENDER'], env).BLENDER;
  // PATH is the process's own search path, not a synthline setting: read as is.
  const candidates =
    isAbsolute(wanted) || wanted.includes('/')
      ? [wanted]
      : (env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, wanted));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  throw new BlenderNotFoundError(wanted);
}
