import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@synthline/base';
import { Manifest } from '@synthline/spec';

/** The manifest's file name inside a dataset folder. */
export const MANIFEST_FILE = 'dataset.json';

/** Writes `dataset.json`: the last file of a dataset, whose presence means it is complete. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads and validates `dataset.json`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  return Manifest.parse(JSON.parse(text));
}
