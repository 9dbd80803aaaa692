import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Manifest } from '@synthline/spec';

/** The manifest's file name inside a dataset folder. */
export const MANIFEST_FILE = 'dataset.json';

/**
 * A temporary name beside `path`, its own to this writer (process id and random), so that two
 * writers of one file (a batch run twice, two workers sharing a staging folder) never share it.
 */
export function partialName(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
}

/** Writes a file through a temporary name and a rename, so it appears whole or not at all. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = partialName(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Writes `dataset.json`: the last file of a dataset, whose presence means it is complete. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads and validates `dataset.json`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  return Manifest.parse(JSON.parse(text));
}
