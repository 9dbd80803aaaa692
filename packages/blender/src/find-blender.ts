import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { BlenderNotFoundError } from './errors.ts';

/**
 * The Blender executable: `BLENDER` if set (a path or a command name), else `blender` on PATH.
 * Throws {@link BlenderNotFoundError} with install instructions when there is none.
 */
export function findBlender(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.BLENDER?.trim() || 'blender';
  const candidates = isAbsolute(wanted) || wanted.includes('/')
    ? [wanted]
    : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, wanted));
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
