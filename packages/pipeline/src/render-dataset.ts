import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { classesOf, type JobSpec, type Manifest, type ProductIndex } from '@synthline/spec';
import { planContext } from '@synthline/planner';
import { BlenderError, RenderSlot, findBlender, type RenderSlotOptions } from '@synthline/blender';
import { MANIFEST_FILE } from '@synthline/shards';
import { DatasetAssembler } from './dataset-assembler.ts';
import { renderFrames, type FailedFrame, type RenderFramesOptions } from './render-frames.ts';

export interface Progress {
  done: number;
  failed: number;
  total: number;
  elapsedS: number;
}

export interface RenderDatasetOptions {
  spec: JobSpec;
  outDir: string;
  /** Render only frames [start, end); each exactly as in the full run. */
  frames?: [number, number];
  /** Replace a dataset already in `outDir`. */
  overwrite?: boolean;
  /** Options of the one render slot; its device defaults to the spec's `render.device`. */
  slot?: RenderSlotOptions;
  onProgress?: (p: Progress) => void;
  mapPlan?: RenderFramesOptions['mapPlan'];
  /** The asset library, for `library:` products and background photos. */
  library?: ProductIndex;
}

export interface RenderDatasetResult {
  manifest: Manifest;
  manifestPath: string;
  contactSheetPath: string | null;
  failed: FailedFrame[];
  seconds: number;
  /** The device that rendered the frames (`cpu`, `cuda:0 NVIDIA A10`, ...). */
  device: string;
}

/** A folder already holding a dataset; refused unless asked to overwrite it. */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
  readonly code = 'OUTPUT_EXISTS';
}

const OWN_FILE = /^(dataset\.json|timings\.jsonl|contact-sheet\.jpg|.*\.tar)(\.(\d+-[0-9a-f]+\.)?partial)?$/;

/** Makes `dir` ready for a new dataset: created if absent; our old files removed if allowed. */
async function prepareOutDir(dir: string, overwrite: boolean): Promise<void> {
  await mkdir(dir, { recursive: true });
  const ours = (await readdir(dir)).filter((f) => OWN_FILE.test(f));
  if (ours.length === 0) return;
  if (!overwrite) {
    throw new OutputExistsError(`${dir} already holds a dataset (${ours.slice(0, 3).join(', ')}...); use --overwrite to replace it`);
  }
  // The manifest goes first, so an interrupted overwrite never looks like a complete dataset.
  await rm(join(dir, MANIFEST_FILE), { force: true });
  await Promise.all(ours.map((f) => rm(join(dir, f), { force: true })));
}

/**
 * Renders a dataset on this machine with one warm Blender: frames in index order into shards,
 * then timings, the contact sheet and, last, `dataset.json`. On an error nothing that looks
 * complete is left behind: shards are renamed into place only when whole and the manifest is
 * written only at the end.
 */
export async function renderDataset(opts: RenderDatasetOptions): Promise<RenderDatasetResult> {
  const { spec, outDir } = opts;
  const [start, end] = opts.frames ?? [0, spec.count];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= spec.count && start < end)) {
    throw new RangeError(`--frames ${start}:${end} must lie within 0:${spec.count} with start < end`);
  }
  const t0 = performance.now();
  // A spec whose library products or backgrounds cannot be used fails before anything is written.
  const context = planContext(spec, opts.library);
  // Fail on a missing Blender before touching the output folder.
  const blender = opts.slot?.blender ?? findBlender(opts.slot?.env);
  const slot = new RenderSlot({
    ...opts.slot,
    blender,
    device: opts.slot?.device ?? spec.render.device,
    allowCpuFallback: opts.slot?.allowCpuFallback ?? spec.render.allow_cpu_fallback,
  });
  // ... and on a GPU that is not there: every frame would fail the same way.
  try {
    await slot.warm();
  } catch (err) {
    if (err instanceof BlenderError && err.code === 'DEVICE_UNAVAILABLE') {
      await slot.close();
      throw err;
    }
    // Anything else is retried per frame, and reported per frame if it persists.
  }
  try {
    await prepareOutDir(outDir, opts.overwrite ?? false);
  } catch (err) {
    await slot.close();
    throw err;
  }
  const total = end - start;
  const assembler = new DatasetAssembler(spec, outDir, [start, end], classesOf(spec, context.products));
  const failed: FailedFrame[] = [];
  let done = 0;
  try {
    const indices = {
      [Symbol.iterator]: function* () {
        for (let i = start; i < end; i++) yield i;
      },
    };
    for await (const outcome of renderFrames({ spec, indices, slot, context, ...(opts.mapPlan ? { mapPlan: opts.mapPlan } : {}) })) {
      if (outcome.ok) {
        const f = outcome.frame;
        await assembler.add(f.sample, f.label, f.image, f.timing);
        done++;
      } else {
        failed.push(outcome.failure);
        assembler.fail({ index: outcome.failure.index, code: outcome.failure.code, error: outcome.failure.error });
      }
      opts.onProgress?.({ done, failed: failed.length, total, elapsedS: (performance.now() - t0) / 1000 });
    }
    const out = await assembler.finish();
    return { ...out, failed, seconds: (performance.now() - t0) / 1000, device: slot.device };
  } catch (err) {
    await assembler.abort();
    throw err;
  } finally {
    await slot.close();
  }
}
