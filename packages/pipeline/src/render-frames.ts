import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IMAGE_TYPES, classFor, classesOf, type FrameFailureCode, type FramePlan, type JobSpec, type SampleLabel } from '@synthline/spec';
import { plan as planFrame, planContext, type PlanContext } from '@synthline/planner';
import { coerceError } from '@synthline/base';
import { BlenderError, type RenderSlot } from '@synthline/blender';
import { ImageDecodeError, sensorPool, type SensorPool } from '@synthline/sensor';
import type { Sample } from '@synthline/shards';
import { buildLabel } from './label.ts';

/** A rendered frame, ready for a shard. */
export interface RenderedFrame {
  index: number;
  sample: Sample;
  label: SampleLabel;
  /** The encoded image (also inside `sample`). */
  image: Buffer;
  /** Seconds in Blender, and from sending the plan to the encoded sample. */
  /** `settle_s`: the part of `render_s` a pile's rigid-body settle took (only for a pile). */
  timing: { render_s: number; total_s: number; settle_s?: number };
}

/** A frame that could not be rendered, with Blender's message. */
export interface FailedFrame {
  index: number;
  error: string;
  code: FrameFailureCode;
  logTail: string[];
}

export type FrameOutcome = { ok: true; frame: RenderedFrame } | { ok: false; failure: FailedFrame };

export interface RenderFramesOptions {
  spec: JobSpec;
  /** Frame indices to render, in the order their outcomes are yielded. */
  indices: Iterable<number>;
  slot: RenderSlot;
  /** The spec resolved against the asset library; default: builtin products only. */
  context?: PlanContext;
  /** Frames sent to Blender ahead of the one being finished (overlaps Node's work with Blender's). */
  depth?: number;
  /** The threads that finish images; default: the process's {@link sensorPool}. */
  pool?: SensorPool;
  /** Lets a caller adjust a plan (tests force a crash this way). */
  mapPlan?: (plan: FramePlan) => FramePlan;
  /** Stop early: no more frames are started once this returns true. */
  cancelled?: () => boolean;
  /**
   * Called once every frame has been sent to Blender: the slot may then take another caller's
   * frames, which Blender renders right after these while Node finishes them.
   */
  onAllSent?: () => void;
}

/**
 * Renders frames through a warm Blender slot and yields each outcome in index order: the plan is
 * made in TypeScript, Blender renders it, and the image only counts once it decodes; then sensor
 * effects, encoding and the label. While Node finishes a frame, Blender renders the next one.
 */
export async function* renderFrames(opts: RenderFramesOptions): AsyncGenerator<FrameOutcome> {
  const { spec, slot } = opts;
  const ctx = opts.context ?? planContext(spec);
  const classes = classesOf(spec, ctx.products);
  const want = spec.output.annotations;
  const annotations: SampleLabel['annotations'] = {
    ...(want.mask ? { mask: 'mask.png' } : {}),
    ...(want.depth ? { depth: 'depth.png', depth_units: 'mm' as const } : {}),
    ...(want.instances ? { instances: 'inst.png' } : {}),
  };
  const classOf = (p: FramePlan['product']) => classFor(classes, p.model, p.color.name, p.side_up);
  const depth = Math.max(1, opts.depth ?? 2);
  const work = await mkdtemp(join(tmpdir(), 'synthline-frames-'));
  const iter = opts.indices[Symbol.iterator]();
  const window: Promise<FrameOutcome>[] = [];

  const one = async (index: number): Promise<FrameOutcome> => {
    const t0 = performance.now();
    try {
      const p0 = planFrame(spec, index, ctx);
      const plan = opts.mapPlan ? opts.mapPlan(p0) : p0;
      const imagePath = join(work, `${plan.key}.png`);
      const maskPath = want.mask ? join(work, `${plan.key}.mask.png`) : null;
      const depthPath = want.depth ? join(work, `${plan.key}.depth.png`) : null;
      const instPath = want.instances ? join(work, `${plan.key}.inst.png`) : null;
      const result = await slot.render(plan, {
        image: imagePath,
        mask: maskPath,
        depth: depthPath,
        ...(instPath ? { instances: instPath } : {}),
      });
      const extras: { ext: string; data: Buffer }[] = [];
      for (const [ext, path] of [
        ['mask.png', maskPath],
        ['depth.png', depthPath],
        ['inst.png', instPath],
      ] as const) {
        if (!path) continue;
        try {
          extras.push({ ext, data: await readFile(path) });
        } catch (err) {
          throw new BlenderError('OUTPUT_UNREADABLE', `Blender wrote no ${ext} for frame ${index}: ${coerceError(err).message}`);
        } finally {
          await rm(path, { force: true });
        }
      }
      let processed;
      try {
        // Decode, sensor effects and encoding on a pool thread: the main thread stays free.
        processed = await (opts.pool ?? sensorPool()).finish({
          imagePath,
          sensor: plan.sensor,
          format: spec.render.format,
          quality: spec.render.quality,
        });
      } catch (err) {
        if (err instanceof ImageDecodeError) {
          throw new BlenderError('OUTPUT_UNREADABLE', `Blender's image for frame ${index} does not decode: ${err.message}`);
        }
        throw err;
      } finally {
        await rm(imagePath, { force: true });
      }
      const image = processed.image;
      const timing = {
        render_s: result.seconds,
        total_s: (performance.now() - t0) / 1000,
        ...(result.settle_seconds !== undefined ? { settle_s: result.settle_seconds } : {}),
      };
      const cls = classOf(plan.product);
      const label = buildLabel(
        plan,
        result,
        cls,
        { format: spec.render.format, width: processed.width, height: processed.height },
        { split: spec.split.name, annotations },
        spec.output.label_timing ? timing : undefined,
        classOf,
      );
      const sample: Sample = {
        key: plan.key,
        members: [
          { ext: IMAGE_TYPES[spec.render.format].ext, data: image },
          { ext: 'json', data: Buffer.from(JSON.stringify(label)) },
          { ext: 'cls', data: Buffer.from(String(cls.index)) },
          ...extras,
        ],
      };
      return { ok: true, frame: { index, sample, label, image, timing } };
    } catch (err) {
      const e = coerceError(err);
      return {
        ok: false,
        failure: {
          index,
          error: e.message,
          code: e instanceof BlenderError ? e.code : 'FRAME_FAILED',
          logTail: e instanceof BlenderError ? e.logTail.slice(-20) : [],
        },
      };
    }
  };

  const fill = () => {
    while (window.length < depth && !opts.cancelled?.()) {
      const next = iter.next();
      if (next.done) {
        opts.onAllSent?.();
        return;
      }
      window.push(one(next.value));
    }
  };

  try {
    fill();
    while (window.length > 0) {
      const outcome = await (window.shift() as Promise<FrameOutcome>);
      fill();
      yield outcome;
    }
  } finally {
    // A consumer that stops early leaves frames in flight; let them settle before cleaning up.
    await Promise.allSettled(window);
    await rm(work, { recursive: true, force: true });
  }
}
