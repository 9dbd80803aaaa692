import { join } from 'node:path';
import { IMAGE_TYPES, KEY_DIGITS, type ImageFormat } from '@synthline/spec';
import { readManifest, readTar } from '@synthline/shards';
import type { FileStorage } from '@synthline/storage';

export { IMAGE_TYPES };

const isMissing = (err: unknown) => err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

/** The bytes of member `<key>.<ext>` of a tar file, or null; throws ENOENT if there is no file. */
async function findMember(path: string, key: string, ext: string): Promise<Buffer | null> {
  for await (const sample of readTar(path)) {
    if (sample.key === key) return sample.members.find((m) => m.ext === ext)?.data ?? null;
  }
  return null;
}

/** The dataset's manifest, or null while the job has not been finalized. */
async function manifestOf(dir: string) {
  try {
    return await readManifest(dir);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/**
 * The encoded image of one frame of a job, or null if it is not rendered (yet). A finished
 * dataset is read through its manifest; before that, the frame's batch fragment is read.
 */
export async function readSampleImage(
  storage: FileStorage,
  job: { id: string; batch_size: number },
  index: number,
  format: ImageFormat,
): Promise<Buffer | null> {
  const key = String(index).padStart(KEY_DIGITS, '0');
  const { ext } = IMAGE_TYPES[format];
  const dir = storage.jobDir(job.id);
  const fromDataset = async (): Promise<Buffer | null | undefined> => {
    const manifest = await manifestOf(dir);
    if (!manifest) return undefined;
    const shard = manifest.shards.find((s) => s.samples > 0 && s.first_key <= key && key <= s.last_key);
    return shard ? findMember(join(dir, shard.name), key, ext) : null;
  };
  const done = await fromDataset();
  if (done !== undefined) return done;
  try {
    return await findMember(storage.fragmentPath(job.id, Math.floor(index / job.batch_size)), key, ext);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  // Finalize may have assembled the dataset and dropped the fragment since we looked.
  return (await fromDataset()) ?? null;
}
