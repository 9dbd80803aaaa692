import { readFile } from 'node:fs/promises';
import { IMAGE_TYPES, KEY_DIGITS, Manifest, type ImageFormat } from '@synthline/spec';
import { MANIFEST_FILE, readTar } from '@synthline/shards';
import { readFragmentInfo, type Storage } from '@synthline/storage';

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
export async function manifestOf(storage: Storage, jobId: string): Promise<Manifest | null> {
  return (await storage.withFile(jobId, MANIFEST_FILE, async (p) => Manifest.parse(JSON.parse(await readFile(p, 'utf8'))))) ?? null;
}

/** A member of one of a job's tar files (read from a copy of its own when in an object store); undefined without the file. */
async function memberOf(storage: Storage, jobId: string, rel: string, key: string, ext: string): Promise<Buffer | null | undefined> {
  return storage.withFile(jobId, rel, (path) => findMember(path, key, ext));
}

/**
 * The encoded image of one frame of a job, or null if it is not rendered (yet). A finished
 * dataset is read through its manifest; before that, the frame's batch fragment is read.
 */
export async function readSampleImage(
  storage: Storage,
  job: { id: string; batch_size: number },
  index: number,
  format: ImageFormat,
): Promise<Buffer | null> {
  return readSampleMember(storage, job, index, IMAGE_TYPES[format].ext);
}

/**
 * One member of one frame's sample (`json` for its label, `png`, `mask.png`, ...), or null if
 * the frame is not rendered (yet) or has no such member. Read as {@link readSampleImage} reads.
 */
export async function readSampleMember(
  storage: Storage,
  job: { id: string; batch_size: number },
  index: number,
  ext: string,
): Promise<Buffer | null> {
  const key = String(index).padStart(KEY_DIGITS, '0');
  const fromDataset = async (): Promise<Buffer | null | undefined> => {
    const manifest = await manifestOf(storage, job.id);
    if (!manifest) return undefined;
    const shard = manifest.shards.find((s) => s.samples > 0 && s.first_key <= key && key <= s.last_key);
    return shard ? ((await memberOf(storage, job.id, shard.name, key, ext)) ?? null) : null;
  };
  const done = await fromDataset();
  if (done !== undefined) return done;
  try {
    // A committed batch's info names its fragment tar.
    const info = await readFragmentInfo(storage, job.id, Math.floor(index / job.batch_size));
    const fromFragment = info && (await memberOf(storage, job.id, info.tar, key, ext));
    if (fromFragment !== undefined && fromFragment !== null) return fromFragment;
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  // Finalize may have assembled the dataset and dropped the fragment since we looked.
  return (await fromDataset()) ?? null;
}
