import { z } from 'zod';
import { ShardEntry } from '@synthline/spec';

/**
 * Glossary.
 * - real sample: a photo from `--real`, key `r<position>`.
 * - synthetic sample: a rendered sample from a synthline dataset, key `s<position>`.
 * - position: the place of a sample in the mix's shuffled order, from 0; so keys are unique,
 *   and sorting them by their number gives the order in the shards.
 * - mix: a WebDataset folder of real and synthetic samples with a `dataset.json` of format
 *   {@link MIX_FORMAT}.
 */

/** The `format` of a mix's `dataset.json`. */
export const MIX_FORMAT = 'synthline.mix/1';

const Count = z.number().int().min(0);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const RatioValueSchema = z.object({ real: Count, synthetic: Count, synthetic_per_real: z.number().nullable() });

/** One class of a mix; `index` is the class index in the mix (`<key>.cls`). */
export const MixClass = z.object({
  index: Count,
  name: z.string(),
  /** The class's index in the synthetic dataset. */
  synthetic_index: Count,
  model: z.string().optional(),
  color: z.string().optional(),
  side: z.enum(['front', 'back']).optional(),
});
export type MixClass = z.infer<typeof MixClass>;

/** How many samples of each source one class contributes, and the ratio achieved. */
export const MixAllocation = z.object({
  class: z.string(),
  real_available: Count,
  real_used: Count,
  synthetic_needed: Count,
  synthetic_available: Count,
  synthetic_used: Count,
  ratio: RatioValueSchema,
  exact: z.boolean(),
  rounded: z.boolean(),
  reduced: z.boolean(),
});
export type MixAllocation = z.infer<typeof MixAllocation>;

/** `dataset.json` of a mix: written last, so its presence means the mix is complete. */
export const MixManifest = z.object({
  format: z.literal(MIX_FORMAT),
  name: z.string(),
  created_by: z.string(),
  inputs: z.object({
    seed: z.number().int().min(0),
    real: z.object({
      path: z.string(),
      kind: z.enum(['imagefolder', 'webdataset']),
      images: Count,
      /** Real images found per class, before any was chosen. */
      per_class: z.record(z.string(), Count),
      /** The tar shards read (WebDataset input). */
      shards: z.array(z.object({ name: z.string(), bytes: Count, sha256: Sha256 })),
      /** Files and samples that were not taken as images, with the reason. */
      ignored: z.array(z.string()),
    }),
    synthetic: z.object({
      path: z.string(),
      manifest: z.string(),
      manifest_sha256: Sha256,
      name: z.string(),
      samples: Count,
      per_class: z.record(z.string(), Count),
      shards: z.array(z.object({ name: z.string(), samples: Count, bytes: Count, sha256: Sha256 })),
    }),
  }),
  ratio: z.object({
    requested: z.object({ real: z.number().int().min(1), synthetic: z.number().int().min(1) }),
    achieved: RatioValueSchema,
    exact: z.boolean(),
  }),
  best_effort: z.boolean(),
  classes: z.array(MixClass),
  allocation: z.array(MixAllocation),
  counts: z.object({
    samples: Count,
    per_source: z.object({ real: Count, synthetic: Count }),
    per_class: z.record(z.string(), z.object({ real: Count, synthetic: Count })),
    per_extension: z.record(z.string(), Count),
  }),
  shortfalls: z.array(
    z.object({ class: z.string(), real: Count, synthetic_needed: Count, synthetic_available: Count, real_possible: Count }),
  ),
  adjustments: z.array(z.object({ class: z.string(), kind: z.enum(['real_reduced', 'synthetic_rounded_down']), message: z.string() })),
  excluded_classes: z.array(
    z.object({
      name: z.string(),
      reason: z.enum(['no_real_images', 'too_few_synthetic']),
      real_available: Count,
      synthetic_available: Count,
      message: z.string(),
    }),
  ),
  shards: z.array(ShardEntry),
  contact_sheet: z.string().nullable(),
});
export type MixManifest = z.infer<typeof MixManifest>;

/** The label of a real sample in a mix (`<key>.json`). */
export const RealLabel = z.object({
  key: z.string(),
  source: z.literal('real'),
  class: z.string(),
  class_index: Count,
  /** The image's path relative to `--real` (ImageFolder), or the shard it came from (WebDataset). */
  original_path: z.string(),
  /** The sample's key in its shard (WebDataset input). */
  original_key: z.string().optional(),
  /** The sample's own `.json` (WebDataset input), kept as it was. */
  original_label: z.unknown().optional(),
  image: z.object({ format: z.string(), width: z.number().int(), height: z.number().int() }),
});
export type RealLabel = z.infer<typeof RealLabel>;

/**
 * What a synthetic sample's label gains in a mix: the rest is the synthline label as rendered
 * (`SampleLabel`), with `key` and `class_index` those of the mix.
 */
export const SyntheticLabelExtra = z.object({
  key: z.string(),
  source: z.literal('synthetic'),
  class: z.string(),
  class_index: Count,
  original_key: z.string(),
  original_class_index: Count,
});
