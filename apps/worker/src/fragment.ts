import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '@synthline/shards';

/**
 * What a batch leaves beside its fragment tar (`NNNNNN.tar`): `NNNNNN.json`, written after the
 * tar, so its presence means the batch's fragment is complete.
 */
export const FragmentInfo = z.object({
  batch: z.number().int(),
  frames: z.tuple([z.number().int(), z.number().int()]),
  ok: z.number().int(),
  failures: z.array(z.object({ index: z.number().int(), code: z.string(), error: z.string() })),
  timings: z.record(z.string(), z.object({ render_s: z.number(), total_s: z.number() })),
});
export type FragmentInfo = z.infer<typeof FragmentInfo>;

export const infoPath = (fragmentPath: string) => fragmentPath.replace(/\.tar$/, '.json');

export async function writeFragmentInfo(fragmentPath: string, info: FragmentInfo): Promise<void> {
  await writeFileAtomic(infoPath(fragmentPath), JSON.stringify(info));
}

/** The batch's info, or null when the batch has not completed. */
export async function readFragmentInfo(fragmentPath: string): Promise<FragmentInfo | null> {
  try {
    return FragmentInfo.parse(JSON.parse(await readFile(infoPath(fragmentPath), 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
