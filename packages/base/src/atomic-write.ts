import { randomBytes } from 'node:crypto';
import { open, rename } from 'node:fs/promises';

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
