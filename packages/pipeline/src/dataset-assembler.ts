import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classesOf, type ClassEntry, type FrameFailureCode, type JobSpec, type Manifest, type SampleLabel } from '@synthline/spec';
import { writeFileAtomic } from '@synthline/base';
import { MANIFEST_FILE, ShardWriter, writeManifest, type Sample } from '@synthline/shards';
import { contactSheet, spread, type Tile } from './contact-sheet.ts';

export const CONTACT_SHEET_FILE = 'contact-sheet.jpg';
export const TIMINGS_FILE = 'timings.jsonl';
export const CREATED_BY = 'synthline 0.1.0';

/** A frame that could not be rendered, as the manifest lists it. */
export interface FrameFailure {
  index: number;
  /** Why: a BlenderErrorCode (`BAD_PLAN`, `BLENDER_CRASHED`, ...), or `BATCH_FAILED` for a batch that never completed. */
  code: FrameFailureCode;
  error: string;
}

/**
 * Builds a dataset folder from samples given in frame order: shards of `shard_size`, then
 * `timings.jsonl`, the contact sheet and, last, `dataset.json`. Both the local `render` and the
 * service's finalize step assemble datasets through this one class, so their shards are equal.
 */
export class DatasetAssembler {
  private readonly writer: ShardWriter;
  private readonly sheetAt: Set<number>;
  private readonly tiles: Tile[] = [];
  private readonly perClass: Record<string, number>;
  /** Instances of each class over all frames; null until a label lists instances. */
  private perClassInstances: Record<string, number> | null = null;
  private readonly timings: string[] = [];
  private readonly failures: FrameFailure[] = [];
  private samples = 0;
  private blenderVersion = '';

  constructor(
    private readonly spec: JobSpec,
    private readonly dir: string,
    private readonly frames: [number, number],
    private readonly classes: ClassEntry[] = classesOf(spec),
  ) {
    this.writer = new ShardWriter(dir, spec.name, spec.output.shard_size);
    this.sheetAt = new Set(spread(frames[1] - frames[0]).map((i) => i + frames[0]));
    this.perClass = Object.fromEntries(classes.map((c) => [c.name, 0]));
  }

  /** Appends a rendered sample; samples must come in increasing frame order. */
  async add(sample: Sample, label: SampleLabel, image: Buffer, timing?: object): Promise<void> {
    await this.writer.add(sample);
    this.samples++;
    this.perClass[label.class] = (this.perClass[label.class] ?? 0) + 1;
    if (label.instances) {
      this.perClassInstances ??= Object.fromEntries(this.classes.map((c) => [c.name, 0]));
      for (const x of label.instances) this.perClassInstances[x.class] = (this.perClassInstances[x.class] ?? 0) + 1;
    }
    this.blenderVersion = label.blender_version;
    if (timing) this.timings.push(JSON.stringify({ key: label.key, ...timing }));
    if (this.sheetAt.has(label.index)) {
      const caption = [label.attributes.model, `${label.attributes.color} / ${label.attributes.side} up`];
      // Frames with instances show every instance's box, tagged with its id.
      const boxes = (label.instances ?? []).flatMap((x) => (x.bbox ? [{ box: x.bbox, tag: String(x.id) }] : []));
      this.tiles.push({ image, caption, ...(boxes.length ? { boxes } : {}) });
    }
  }

  /** Records a frame that failed. */
  fail(f: FrameFailure): void {
    this.failures.push(f);
  }

  get failed(): readonly FrameFailure[] {
    return this.failures;
  }

  /** Writes the rest of the dataset, the manifest last. */
  async finish(): Promise<{ manifest: Manifest; manifestPath: string; contactSheetPath: string | null }> {
    const shards = await this.writer.close();
    await writeFileAtomic(join(this.dir, TIMINGS_FILE), this.timings.length ? `${this.timings.join('\n')}\n` : '');
    let contactSheetPath: string | null = null;
    if (this.tiles.length > 0) {
      // Thumbnails no bigger than the images: upscaling small renders only costs time.
      contactSheetPath = join(this.dir, CONTACT_SHEET_FILE);
      await writeFile(contactSheetPath, await contactSheet(this.tiles, Math.min(192, Math.max(...this.spec.render.resolution))));
    }
    const manifest: Manifest = {
      format: 'synthline.dataset/1',
      name: this.spec.name,
      created_by: `${CREATED_BY}; Blender ${this.blenderVersion || 'unknown'}`,
      spec: this.spec,
      frames: {
        requested: this.frames,
        rendered: this.samples,
        failed: [...this.failures].sort((a, b) => a.index - b.index),
      },
      image_format: this.spec.render.format,
      classes: this.classes,
      split: this.spec.split,
      counts: {
        samples: this.samples,
        per_class: this.perClass,
        ...(this.perClassInstances ? { instances_per_class: this.perClassInstances } : {}),
      },
      shards,
      contact_sheet: contactSheetPath ? CONTACT_SHEET_FILE : null,
    };
    await writeManifest(this.dir, manifest);
    return { manifest, manifestPath: join(this.dir, MANIFEST_FILE), contactSheetPath };
  }

  /** Drops the shard being written; nothing that looks complete is left. */
  async abort(): Promise<void> {
    await this.writer.abort();
  }
}
