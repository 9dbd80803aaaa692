import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import { MANIFEST_FILE } from '@synthline/shards';
import { MixError } from './errors.ts';

/** The files a mix writes into its folder (and their temporary names). */
const OWN_FILE = /^(dataset\.json|contact-sheet\.jpg|.*\.tar)(\.(\d+-[0-9a-f]+\.)?partial)?$/;

/** Whether `inner` is `outer` or lies inside it. */
export function within(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The entries of a folder; none if it does not exist. */
export async function entriesOf(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Refuses an output folder that holds anything unless `overwrite` is set, and one that is an
 * input or lies inside one (overwriting it would destroy the input).
 */
export async function checkOutDir(out: string, overwrite: boolean, inputs: { flag: string; path: string }[]): Promise<void> {
  for (const i of inputs) {
    if (within(out, i.path)) throw new MixError('BAD_OPTION', `--out ${out} is, or lies inside, ${i.flag} ${i.path}`);
  }
  const entries = await entriesOf(out);
  if (entries.length > 0 && !overwrite) {
    const shown = entries.sort().slice(0, 3).join(', ');
    throw new MixError(
      'OUTPUT_EXISTS',
      `${out} is not empty (${shown}${entries.length > 3 ? ', ...' : ''}); use --overwrite to replace its contents`,
    );
  }
}

/** Creates the mix folder, or empties it of a previous mix's files. */
export async function prepareMixDir(out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  await removeMixFiles(out);
}

/** Removes the files a mix writes from `out`, the manifest first. */
export async function removeMixFiles(out: string): Promise<void> {
  const ours = (await entriesOf(out)).filter((f) => OWN_FILE.test(f));
  // The manifest goes first, so an interrupted overwrite never looks like a complete mix.
  await rm(join(out, MANIFEST_FILE), { force: true });
  for (const f of ours) await rm(join(out, f), { force: true });
}

/** The dataset name for an output folder: its base name made safe for shard names, or `mix`. */
export function nameFor(out: string): string {
  const name = basename(resolve(out))
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return name || 'mix';
}
