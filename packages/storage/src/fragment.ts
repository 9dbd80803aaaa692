import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FrameFailureCode } from '@synthline/spec';
import { fragmentRel, type Storage } from './storage.ts';

/**
 * What a batch leaves beside its fragment tar: `fragments/NNNNNN.json`, committed after the tar
 * and never replaced, so its presence means the batch is done. It names the tar it belongs to
 * (`fragments/NNNNNN-<run>.tar`, one name per run of the batch): a batch run twice cannot pair
 * one run's frames with the other run's failures.
 */
export const FragmentInfo = z.object({
  batch: z.number().int(),
  /** The fragment tar of the run that committed, relative to the job. */
  tar: z.string().regex(/^fragments\/\d{6}-[0-9a-f]+\.tar$/),
  frames: z.tuple([z.number().int(), z.number().int()]),
  ok: z.number().int(),
  failures: z.array(z.object({ index: z.number().int(), code: FrameFailureCode, error: z.string() })),
  timings: z.record(z.string(), z.object({ render_s: z.number(), total_s: z.number() })),
});
export type FragmentInfo = z.infer<typeof FragmentInfo>;

/** A fragment tar name of its own for one run of a batch. */
export const fragmentTarRel = (batch: number) => `fragments/${String(batch).padStart(6, '0')}-${randomBytes(4).toString('hex')}.tar`;

/**
 * Commits a batch's info unless another run committed first. Returns the info that holds: this
 * one, or the one committed before (whose tar and counts are then the batch's).
 */
export async function commitFragmentInfo(storage: Storage, jobId: string, info: FragmentInfo): Promise<FragmentInfo> {
  if (await storage.commitBytes(jobId, fragmentRel(info.batch, 'json'), JSON.stringify(info))) return info;
  const committed = await readFragmentInfo(storage, jobId, info.batch);
  if (!committed) throw new Error(`batch ${info.batch}: its info was refused as already committed, but none can be read`);
  return committed;
}

/** The batch's info, or null when the batch has not completed. */
export async function readFragmentInfo(storage: Storage, jobId: string, batch: number): Promise<FragmentInfo | null> {
  const text = await storage.withFile(jobId, fragmentRel(batch, 'json'), (path) => readFile(path, 'utf8'));
  return text === undefined ? null : FragmentInfo.parse(JSON.parse(text));
}
