import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { classesOf, type JobSpec, type Manifest } from '@synthline/spec';
import { RenderSlot, findBlender, type RenderSlotOptions } from '@synthline/blender';
import { MANIFEST_FILE, ShardWriter, writeFileAtomic, writeManifest } from '@synthline/shards';
import { contactSheet, spread, type Tile } from './contact-sheet.ts';
import { renderFrames, type FailedFrame, type RenderFramesOptions } from './render-frames.ts';

export const CONTACT_SHEET_FILE = 'contact-sheet.jpg';
export const TIMINGS_FILE = 'timings.jsonl';
export const CREATED_BY = 'synthline 0.1.0';

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
  slot?: RenderSlotOptions;
  onProgress?: (p: Progress) => void;
  mapPlan?: RenderFramesOptions['mapPlan'];
}

export interface RenderDatasetResult {
  manifest: Manifest;
  manifestPath: string;
  contactSheetPath: string | null;
  failed: FailedFrame[];
  seconds: number;
}

/** A folder already holding a dataset; refused unless asked to overwrite it. */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
  readonly code = 'OUTPUT_EXISTS';
}

const OWN_FILE = /^(dataset\.json|timings\.jsonl|contact-sheet\.jpg|.*\.tar)(\.partial)?$/;

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
  // Fail on a missing Blender before touching the output folder.
  const blender = opts.slot?.blender ?? findBlender(opts.slot?.env ?? process.env);
  await prepareOutDir(outDir, opts.overwrite ?? false);
  const total = end - start;
  const sheetAt = new Set(spread(total).map((i) => i + start));
  const tiles: Tile[] = [];
  const failed: FailedFrame[] = [];
  const perClass: Record<string, number> = Object.fromEntries(classesOf(spec).map((c) => [c.name, 0]));
  const timings: string[] = [];
  const writer = new ShardWriter(outDir, spec.name, spec.output.shard_size);
  const slot = new RenderSlot({ ...opts.slot, blender });
  let done = 0;
  let blenderVersion = '';
  try {
    const indices = { [Symbol.iterator]: function* () { for (let i = start; i < end; i++) yield i; } };
    for await (const outcome of renderFrames({ spec, indices, slot, ...(opts.mapPlan ? { mapPlan: opts.mapPlan } : {}) })) {
      if (outcome.ok) {
        const f = outcome.frame;
        await writer.add(f.sample);
        perClass[f.label.class] = (perClass[f.label.class] ?? 0) + 1;
        blenderVersion = f.label.blender_version;
        timings.push(JSON.stringify({ key: f.label.key, ...f.timing }));
        if (sheetAt.has(f.index)) {
          tiles.push({ image: f.image, caption: [f.label.attributes.model, `${f.label.attributes.color} / ${f.label.attributes.side} up`] });
        }
        done++;
      } else {
        failed.push(outcome.failure);
      }
      opts.onProgress?.({ done, failed: failed.length, total, elapsedS: (performance.now() - t0) / 1000 });
    }
    const shards = await writer.close();
    await writeFileAtomic(join(outDir, TIMINGS_FILE), timings.length ? `${timings.join('\n')}\n` : '');
    let contactSheetPath: string | null = null;
    if (tiles.length > 0) {
      contactSheetPath = join(outDir, CONTACT_SHEET_FILE);
      await writeFile(contactSheetPath, await contactSheet(tiles));
    }
    const manifest: Manifest = {
      format: 'synthline.dataset/1',
      name: spec.name,
      created_by: `${CREATED_BY}; Blender ${blenderVersion || slot.blenderVersion || 'unknown'}`,
      spec,
      frames: {
        requested: [start, end],
        rendered: done,
        failed: failed.map((f) => ({ index: f.index, error: f.error })),
      },
      image_format: spec.render.format,
      classes: classesOf(spec),
      counts: { samples: done, per_class: perClass },
      shards,
      contact_sheet: contactSheetPath ? CONTACT_SHEET_FILE : null,
    };
    await writeManifest(outDir, manifest);
    return { manifest, manifestPath: join(outDir, MANIFEST_FILE), contactSheetPath, failed, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await slot.close();
  }
}
