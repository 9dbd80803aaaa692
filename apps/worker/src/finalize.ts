import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { Manifest, classesOf, parseSpec, type SampleLabel } from '@synthline/spec';
import { planContext } from '@synthline/planner';
import { AssetLibrary } from '@synthline/library';
import { CONTACT_SHEET_FILE, DatasetAssembler, TIMINGS_FILE } from '@synthline/pipeline';
import { FRAGMENTS, readFragmentInfo } from '@synthline/storage';
import { MANIFEST_FILE, readTar } from '@synthline/shards';
import { FinalizePayload, batchRange } from '@synthline/queue';
import type { WorkerContext } from './context.ts';
import { failOutputFull, isDiskFull, removeFragments } from './render-batch.ts';

/**
 * Runs once every batch of a job has finished: assembles the fragments in frame order into
 * shards, then the contact sheet and, last, `dataset.json` (through the same DatasetAssembler as
 * a local render, so the shards are byte-identical). Safe to run twice: a dataset whose manifest
 * is already written is only marked complete. A cancelled or failed job has its output removed.
 */
export async function processFinalize(job: Job, ctx: WorkerContext): Promise<{ status: string }> {
  const { jobId } = FinalizePayload.parse(job.data);
  const { store } = ctx.queue;
  const rec = await store.get(jobId);
  if (!rec) return { status: 'missing' };
  const log = ctx.log.child({ job: jobId, step: 'finalize' });
  if (rec.status === 'cancelled' || rec.status === 'failed') {
    // Nothing half-written stays where a reader could take it for a dataset.
    await ctx.storage.remove(jobId);
    await store.dropProgress(jobId);
    log.info(`job ${rec.status}: partial output removed`);
    return { status: rec.status };
  }
  if (rec.status === 'completed') return { status: 'completed' };
  await store.startFinalizing(jobId);

  const { storage } = ctx;
  const dir = storage.localPath(jobId, '');
  const readCommitted = () => storage.withFile(jobId, MANIFEST_FILE, async (p) => Manifest.parse(JSON.parse(await readFile(p, 'utf8'))));
  const tooManyFailed = async (failed: number) => {
    const error = {
      code: 'TOO_MANY_FAILED_FRAMES' as const,
      message: `${failed} frames failed, more than the ${rec.max_failed_frames} allowed (output.max_failed_fraction)`,
    };
    await storage.remove(jobId);
    await store.fail(jobId, error.code, error.message, { frames_failed: failed });
    await store.dropProgress(jobId);
    return { status: 'failed' };
  };
  let manifest = await readCommitted();
  if (!manifest) {
    await mkdir(dir, { recursive: true });
    // Leftovers of a finalize that died half-way (shards without a manifest) are redone.
    for (const f of await readdir(dir)) if (`${f}/` !== FRAGMENTS) await rm(join(dir, f), { force: true, recursive: true });
    const spec = parseSpec(await store.spec(jobId));
    const context = planContext(spec, await AssetLibrary.open(ctx.libraryRoot));
    const asm = new DatasetAssembler(spec, dir, [0, spec.count], classesOf(spec, context.products));
    try {
      for (let b = 0; b < rec.batches_total; b++) {
        const info = await readFragmentInfo(storage, jobId, b);
        // Each batch's samples come from the tar its committed info names, read in frame order.
        const read =
          info &&
          (await storage.withFile(jobId, info.tar, async (fragment) => {
            for await (const sample of readTar(fragment)) {
              const json = sample.members.find((m) => m.ext === 'json');
              const image = sample.members.find((m) => m.ext !== 'json' && m.ext !== 'cls' && !m.ext.includes('.'));
              if (!json || !image) throw new Error(`fragment ${info.tar}: sample ${sample.key} is incomplete`);
              const label = JSON.parse(json.data.toString('utf8')) as SampleLabel;
              await asm.add(sample, label, image.data, info.timings[sample.key]);
            }
            return true;
          }));
        if (!info || !read) {
          const [start, end] = batchRange(b, rec.batch_size, rec.frames_total);
          for (let i = start; i < end; i++)
            asm.fail({ index: i, code: 'BATCH_FAILED', error: `batch ${b} did not complete (all attempts failed)` });
          continue;
        }
        for (const f of info.failures) asm.fail({ index: f.index, code: f.code, error: f.error });
      }
      // Decided before anything is written: a failed job's dataset never looks complete.
      if (asm.failed.length > rec.max_failed_frames) {
        await asm.abort();
        return await tooManyFailed(asm.failed.length);
      }
      manifest = (await asm.finish()).manifest;
      // Shards, timings and contact sheet first; the manifest last, never replacing one a
      // finalize that ran before had committed (whose dataset then stands).
      for (const rel of [...manifest.shards.map((s) => s.name), TIMINGS_FILE, ...(manifest.contact_sheet ? [CONTACT_SHEET_FILE] : [])]) {
        await storage.publish(jobId, rel);
      }
      if (!(await storage.publish(jobId, MANIFEST_FILE, { ifAbsent: true }))) manifest = (await readCommitted()) ?? manifest;
    } catch (err) {
      await asm.abort();
      if (isDiskFull(err)) await failOutputFull(ctx, jobId, err);
      throw err;
    }
  }
  const failed = manifest.frames.failed.length;
  if (failed > rec.max_failed_frames) return tooManyFailed(failed);
  await removeFragments(ctx, jobId);
  await store.complete(jobId, {
    frames_done: manifest.counts.samples,
    frames_failed: failed,
    manifest_uri: storage.url(jobId, MANIFEST_FILE),
    shards: manifest.shards.map((s) => ({ name: s.name, samples: s.samples, bytes: s.bytes, sha256: s.sha256 })),
  });
  await store.dropProgress(jobId);
  await storage.release(jobId);
  log.info({ samples: manifest.counts.samples, shards: manifest.shards.length, failed }, 'dataset complete');
  return { status: 'completed' };
}
