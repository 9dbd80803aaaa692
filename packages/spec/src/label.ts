import { z } from 'zod';
import { FramePlan, RenderResult } from './frame-plan.ts';

const Bbox = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const Attributes = z.object({ model: z.string(), color: z.string(), side: z.enum(['front', 'back']) });
const Pose = z.object({
  side_up: z.enum(['front', 'back']),
  yaw_deg: z.number(),
  offset_m: z.tuple([z.number(), z.number()]),
  location_m: z.tuple([z.number(), z.number(), z.number()]),
  rotation_euler_deg: z.tuple([z.number(), z.number(), z.number()]),
  matrix_world: z.array(z.array(z.number())),
  dimensions_m: z.tuple([z.number(), z.number(), z.number()]),
});

/** The label of one sample, stored as `<key>.json` beside its image. */
const PlanCondition = FramePlan.shape.product.shape.condition.unwrap();
const Box = z.tuple([z.number(), z.number(), z.number(), z.number()]);
/** The phone's condition as labelled: the plan's, with where the crack and the sticker show. */
const LabelCondition = PlanCondition.extend({
  crack: PlanCondition.shape.crack.unwrap().extend({ bbox: Box.nullable() }).optional(),
  sticker: PlanCondition.shape.sticker.unwrap().extend({ bbox: Box.nullable() }).optional(),
});

const PlanDistractor = FramePlan.shape.distractors.unwrap().element;
/** A distractor as labelled: a product riding as clutter without the server's file path. */
const LabelDistractor = PlanDistractor.extend({
  product: PlanDistractor.shape.product.unwrap().omit({ source: true }).optional(),
});

export const SampleLabel = z.object({
  key: z.string(),
  index: z.number().int(),
  class: z.string(),
  class_index: z.number().int(),
  attributes: Attributes,
  source: z.literal('synthetic'),
  asset: z.string(),
  image: z.object({ format: z.string(), width: z.number().int(), height: z.number().int() }),
  /** [x, y, w, h] in pixels, origin top-left, measured from the render; null if not visible. */
  bbox: Bbox.nullable(),
  visible_pixels: z.number(),
  /** Fraction of the product's silhouette inside the image (1 = wholly in frame). */
  visible_fraction: z.number(),
  /** The split this sample belongs to (spec `split.name`). */
  split: z.string(),
  /**
   * Extra members of this sample: `mask` (8-bit, 255 = any product), `depth` (16-bit,
   * millimetres), `instances` (16-bit, 0 = nothing, k = instance k).
   */
  annotations: z.object({
    mask: z.string().optional(),
    depth: z.string().optional(),
    depth_units: z.literal('mm').optional(),
    instances: z.string().optional(),
  }),
  pose: Pose,
  color: FramePlan.shape.product.shape.color,
  /** What has become of the phone (its case and wear); absent: as new. */
  condition: LabelCondition.optional(),
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
  /** The belt's edges, rails, seam, wear and dirt; absent: an endless clean belt. */
  belt: FramePlan.shape.belt,
  /**
   * How the products were dropped (`layout.mode` pile): the poses above are where they settled.
   * Absent: they lie where the plan put them.
   */
  pile: FramePlan.shape.pile,
  /** The clutter on the belt (never a class); absent when there is none. */
  distractors: z.array(LabelDistractor).optional(),
  /** The plan's render settings and `device`, what rendered the frame (absent in labels made before it). */
  render: FramePlan.shape.render.extend({ device: z.string().optional() }),
  blender_version: z.string(),
  /**
   * Every product in the frame (the one above is id 1), present only when the frame has more
   * than one product or `output.annotations.instances` is on.
   */
  instances: z
    .array(
      z.object({
        id: z.number().int().min(1),
        class: z.string(),
        class_index: z.number().int(),
        attributes: Attributes,
        asset: z.string(),
        color: FramePlan.shape.product.shape.color,
        /** What has become of this phone (its case and wear); absent: as new. */
        condition: LabelCondition.optional(),
        pose: Pose,
        /** [x, y, w, h] of its visible pixels (its id in the instance map); null if none. */
        bbox: Bbox.nullable(),
        visible_pixels: z.number(),
        /** Visible share of it after occlusion and the image's edges. */
        visible_fraction: z.number(),
        /** Ids of the instances that hide part of it. */
        occluded_by: z.array(z.number().int()),
      }),
    )
    .optional(),
  /** Present only with `output.label_timing`; `settle_s` only for a pile (its rigid-body settle, part of `render_s`). */
  timing: z.object({ render_s: z.number(), total_s: z.number(), settle_s: z.number().optional() }).optional(),
});
export type SampleLabel = z.infer<typeof SampleLabel>;

export { RenderResult };
