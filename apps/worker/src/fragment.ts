import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '@synthline/shards';
import { fragmentRel, type Storage } from '@synthline/storage';

/**
 * What a batch leaves beside its fragment tar (`fragments/NNNNNN.tar`): `NNNNNN.json`, published
 * after the tar, so its presence means the batch's fragment is complete and committed.
 */
export const FragmentInfo = z.object({
  batch: z.number().int(),
  frames: z.tuple([z.number().int(), z.number().int()]),
  ok: z.number().int(),
  failures: z.array(z.object({ index: z.number().int(), code: z.string(), error: z.string() })),
  timings: z.record(z.string(), z.object({ render_s: z.number(), total_s: z.number() })),
});
export type FragmentInfo = z.infer<typeof FragmentInfo>;

/**
 * Writes the info locally and publishes it, never replacing one already committed (a batch that
 * ran twice). Returns false when another run had committed it first.
 */
export async function commitFragmentInfo(storage: Storage, jobId: string, info: FragmentInfo): Promise<boolean> {
  const rel = fragmentRel(info.batch, 'json');
  await writeFileAtomic(await storage.prepare(jobId, rel), JSON.stringify(info));
  return storage.publish(jobId, rel, { ifAbsent: true });
}

/** The batch's info, or null when the batch has not completed. */
export async function readFragmentInfo(storage: Storage, jobId: string, batch: number): Promise<FragmentInfo | null> {
  const path = await storage.fetch(jobId, fragmentRel(batch, 'json'));
  if (!path) return null;
  return FragmentInfo.parse(JSON.parse(await readFile(path, 'utf8')));
}
