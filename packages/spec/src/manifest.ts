import { z } from 'zod';
import { FrameFailureCode } from './failures.ts';

/** One shard of a dataset as `dataset.json` lists it. */
export const ShardEntry = z.object({
  name: z.string(),
  samples: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  first_key: z.string(),
  last_key: z.string(),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

/** `dataset.json`: written last, so its presence means the dataset is complete. */
export const Manifest = z.object({
  format: z.literal('synthline.dataset/1'),
  name: z.string(),
  created_by: z.string(),
  spec: z.unknown(),
  frames: z.object({
    requested: z.tuple([z.number().int(), z.number().int()]),
    rendered: z.number().int(),
    /** Frames that could not be rendered: why (`code`: a BlenderErrorCode, absent in manifests made before it) and Blender's message. */
    failed: z.array(z.object({ index: z.number().int(), code: FrameFailureCode.optional(), error: z.string() })),
  }),
  image_format: z.string(),
  classes: z.array(
    z.object({
      index: z.number().int(),
      name: z.string(),
      model: z.string(),
      color: z.string().optional(),
      side: z.enum(['front', 'back']).optional(),
    }),
  ),
  /** The split's name and the conditions held out of it. */
  split: z.object({ name: z.string(), hold_out: z.unknown() }).optional(),
  counts: z.object({
    samples: z.number().int(),
    /** Frames by the class of their product (instance 1). */
    per_class: z.record(z.string(), z.number().int()),
    /** Every instance by class, over all frames; present when labels list instances. */
    instances_per_class: z.record(z.string(), z.number().int()).optional(),
  }),
  shards: z.array(ShardEntry),
  contact_sheet: z.string().nullable(),
});
export type Manifest = z.infer<typeof Manifest>;
