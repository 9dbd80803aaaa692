import { z } from 'zod';
import { FramePlan, RenderResult } from './frame-plan.ts';

/** The label of one sample, stored as `<key>.json` beside its image. */
export const SampleLabel = z.object({
  key: z.string(),
  index: z.number().int(),
  class: z.string(),
  class_index: z.number().int(),
  attributes: z.object({ model: z.string(), color: z.string(), side: z.enum(['front', 'back']) }),
  source: z.literal('synthetic'),
  asset: z.string(),
  image: z.object({ format: z.string(), width: z.number().int(), height: z.number().int() }),
  /** [x, y, w, h] in pixels, origin top-left, measured from the render; null if not visible. */
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  visible_pixels: z.number(),
  /** Fraction of the product's silhouette inside the image (1 = wholly in frame). */
  visible_fraction: z.number(),
  /** The split this sample belongs to (spec `split.name`). */
  split: z.string(),
  /** Extra members of this sample: `mask` (8-bit, 255 = product), `depth` (16-bit, millimetres). */
  annotations: z.object({ mask: z.string().optional(), depth: z.string().optional(), depth_units: z.literal('mm').optional() }),
  pose: z.object({
    side_up: z.enum(['front', 'back']),
    yaw_deg: z.number(),
    offset_m: z.tuple([z.number(), z.number()]),
    location_m: z.tuple([z.number(), z.number(), z.number()]),
    rotation_euler_deg: z.tuple([z.number(), z.number(), z.number()]),
    matrix_world: z.array(z.array(z.number())),
    dimensions_m: z.tuple([z.number(), z.number(), z.number()]),
  }),
  color: FramePlan.shape.product.shape.color,
  /** What has become of the phone (a case); absent: as new. */
  condition: FramePlan.shape.product.shape.condition,
  camera: z.object({
    K: z.array(z.array(z.number())),
    world_to_camera: z.array(z.array(z.number())),
    convention: z.string(),
    plan: FramePlan.shape.camera,
  }),
  lights: FramePlan.shape.lights,
  world: FramePlan.shape.world,
  background: FramePlan.shape.background,
  sensor: FramePlan.shape.sensor,
  /** The belt's travel during the exposure; absent for a still frame. */
  motion: FramePlan.shape.motion,
  /** The clutter on the belt (never a class); absent when there is none. */
  distractors: FramePlan.shape.distractors,
  /** The plan's render settings and `device`, what rendered the frame (absent in labels made before it). */
  render: FramePlan.shape.render.extend({ device: z.string().optional() }),
  blender_version: z.string(),
  /** Present only with `output.label_timing`. */
  timing: z.object({ render_s: z.number(), total_s: z.number() }).optional(),
});
export type SampleLabel = z.infer<typeof SampleLabel>;

export { RenderResult };
