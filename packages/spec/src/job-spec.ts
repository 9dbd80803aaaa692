import { z } from 'zod';
import { optionalRange, range } from './range.ts';
import { BUILTIN_HDRIS, builtinCatalog, findModel, slug } from './catalog.ts';
import { colourProblem, resolveProducts, type ResolvedProduct } from './products.ts';
import { didYouMean, suggest } from './suggest.ts';
import { DISTRACTOR_KINDS, ENGINES, LIGHT_TYPES, MAX_DISTRACTORS, MAX_INSTANCES, MAX_LIGHTS } from './frame-plan.ts';
import type { RenderDeviceKind } from './protocol.ts';

/**
 * Glossary (terms used across packages):
 * - frame: one rendered image, identified by its index in [0, count).
 * - sample: a frame as stored in a shard: `<key>.png|jpg|webp`, `<key>.json`, `<key>.cls`.
 * - key: the sample's name inside a shard, the frame index zero-padded to {@link KEY_DIGITS}.
 * - class: what a classifier learns to predict; by default model and colour.
 * - shard: one WebDataset tar file of consecutive samples.
 */
export const KEY_DIGITS = 8;
/** Largest frame count a job may ask for (keys stay {@link KEY_DIGITS} digits wide). */
export const MAX_FRAMES = 10 ** KEY_DIGITS;

/**
 * `render.device`: which Cycles device renders a job's frames: `auto` or one of the render
 * protocol's kinds (RENDER_DEVICE_KINDS; `oneapi` is not offered here, though `auto` may take it).
 */
export const DEVICE_KINDS = ['auto', 'cpu', 'cuda', 'optix', 'hip', 'metal'] as const satisfies readonly ('auto' | RenderDeviceKind)[];
export type RenderDevice = (typeof DEVICE_KINDS)[number];

/** Each `render.format`: the image member's extension in a sample and its content type. */
export const IMAGE_TYPES = {
  png: { ext: 'png', contentType: 'image/png' },
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
  webp: { ext: 'webp', contentType: 'image/webp' },
} as const;
export type ImageFormat = keyof typeof IMAGE_TYPES;

const ASSET_FORMAT = 'expected "builtin:<model-id>" or "library:<product-id>"';

/**
 * A builtin asset names a model of the catalog; one that does not, or that is no asset at all,
 * is refused with the builtin asset it was probably meant to be. (Library assets are checked
 * against the library when the spec is resolved.)
 */
function checkAsset(asset: string, ctx: z.RefinementCtx): void {
  const ids = builtinCatalog().models.map((m) => m.id);
  const builtin = (id: string) => `builtin:${id}`;
  if (asset.startsWith('builtin:')) {
    const id = asset.slice('builtin:'.length);
    if (findModel(id)) return;
    const near = didYouMean(id, ids, builtin);
    ctx.addIssue({ code: 'custom', message: `unknown model "${id}"${near || ` (builtin models: ${ids.join(', ')})`}` });
  } else if (!asset.startsWith('library:')) {
    // Not an asset reference: perhaps a model id, or a misspelt "builtin:".
    const near = suggest(asset, ids.map(builtin)) ?? suggest(asset.replace(/^[^:]*:/, ''), ids);
    if (near !== undefined)
      ctx.addIssue({ code: 'custom', message: `${ASSET_FORMAT}; did you mean "${near.startsWith('builtin:') ? near : builtin(near)}"?` });
  }
}

/** A builtin model's colours come from its palette (a library product's: when the spec is resolved). */
function checkColours(p: { asset: string; colors: string[] }, ctx: z.RefinementCtx): void {
  const model = p.asset.startsWith('builtin:') ? findModel(p.asset.slice('builtin:'.length)) : undefined;
  if (!model) return;
  const names = model.colors.map((c) => c.name);
  p.colors.forEach((c, j) => {
    if (!names.includes(c)) ctx.addIssue({ code: 'custom', path: ['colors', j], message: colourProblem(c, model.name, names) });
  });
}

/** `builtin:<model-id>` from the builtin catalog, or `library:<product-id>` from the asset library. */
const AssetRef = z
  .string()
  .regex(/^(builtin:[a-z0-9-]+|library:[A-Za-z0-9][A-Za-z0-9_-]{0,63})$/, ASSET_FORMAT)
  .superRefine(checkAsset);

export const ProductEntry = z
  .strictObject({
    /** `builtin:<model-id>` from the builtin catalog, or `library:<product-id>` from the asset library. */
    asset: AssetRef,
    /** Marketed colour names from the model's palette; empty or absent means all of them. */
    colors: z.array(z.string().min(1).max(100)).max(100).default([]),
    /** Relative frequency of this product among the frames. */
    weight: z.number().positive().max(1e6).default(1),
  })
  .superRefine(checkColours);
export type ProductEntry = z.infer<typeof ProductEntry>;

export const RenderSettings = z.strictObject({
  resolution: z.tuple([z.number().int().min(16).max(4096), z.number().int().min(16).max(4096)]).default([256, 256]),
  samples: z.number().int().min(1).max(4096).default(16),
  engine: z.enum(ENGINES).default('cycles'),
  format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  /** Quality of jpeg and webp output, 1-100. */
  quality: z.number().int().min(1).max(100).default(90),
  /** Cycles' OpenImageDenoise pass. */
  denoise: z.boolean().default(false),
  /**
   * Cycles device: `auto` = the best GPU kind present (optix > cuda > hip > metal), else the CPU.
   * A kind names what the job must render on: a worker that renders on something else refuses it.
   */
  device: z.enum(DEVICE_KINDS).default('auto'),
  /** With a GPU `device` that a machine does not have, render on its CPU instead of failing. */
  allow_cpu_fallback: z.boolean().default(false),
});

export const CameraRanges = z.strictObject({
  distance_m: range({ min: 0.05, max: 10 }, [0.22, 0.36]),
  elevation_deg: range({ min: 5, max: 90 }, [60, 90]),
  azimuth_deg: range({ min: -360, max: 360 }, [0, 360]),
  roll_deg: range({ min: -180, max: 180 }, [-10, 10]),
  focal_length_mm: range({ min: 8, max: 300 }, [32, 45]),
  sensor_width_mm: range({ min: 1, max: 100 }, 36),
  /** Random offset of the look-at point from the product centre, per axis in the belt plane. */
  look_at_jitter_m: range({ min: 0, max: 1 }, [0, 0.02]),
  /**
   * Radial lens distortion (Brown-Conrady, OpenCV's k1 and k2: a point at normalised radius r
   * moves to r (1 + k1 r^2 + k2 r^4)); negative k1 is barrel, as on short machine-vision lenses.
   * Off when absent (0); the label carries K and both coefficients.
   */
  distortion_k1: optionalRange({ min: -1, max: 1 }),
  distortion_k2: optionalRange({ min: -1, max: 1 }),
});

export const LightRanges = z.strictObject({
  count: range({ min: 0, max: MAX_LIGHTS, int: true }, [1, 3]),
  /**
   * Kinds to pick from: the plan's types, and `line`, the long strip across the belt that
   * sorting lines light with (an area light `line_length_m` long; not among the defaults).
   */
  types: z
    .array(z.enum([...LIGHT_TYPES, 'line']))
    .min(1)
    .max((LIGHT_TYPES.length + 1) * 4)
    .default([...LIGHT_TYPES]),
  /** Power of point and spot lights. */
  energy_w: range({ min: 0, max: 10000 }, [15, 60]),
  /** Power of area lights (they put about 4x more light on the belt per watt). */
  area_energy_w: range({ min: 0, max: 10000 }, [4, 15]),
  color_temperature_k: range({ min: 1000, max: 40000 }, [3500, 6500]),
  distance_m: range({ min: 0.1, max: 20 }, [0.5, 1.0]),
  elevation_deg: range({ min: 5, max: 90 }, [30, 85]),
  size_m: range({ min: 0.001, max: 5 }, [0.05, 0.4]),
  spot_angle_deg: range({ min: 1, max: 180 }, [30, 80]),
  /** Length of a `line` light, across the belt (world y); `size_m` is its width. Absent: [0.6, 1.2]. */
  line_length_m: optionalRange({ min: 0.05, max: 5 }),
});

export const WorldRanges = z.strictObject({
  hdris: z
    .array(z.enum(BUILTIN_HDRIS))
    .min(1)
    .max(BUILTIN_HDRIS.length * 4)
    .default([...BUILTIN_HDRIS]),
  /** HDRI strength, normalised per HDRI: 1 gives every HDRI the same light on the belt. */
  strength: range({ min: 0, max: 100 }, [0.5, 1.5]),
  rotation_deg: range({ min: -360, max: 360 }, [0, 360]),
});

export const ColorJitter = z.strictObject({
  /** Hue shift in turns (1 = full circle). */
  hue: range({ min: -0.5, max: 0.5 }, [-0.01, 0.01]),
  saturation_scale: range({ min: 0, max: 4 }, [0.9, 1.1]),
  value_scale: range({ min: 0, max: 4 }, [0.85, 1.15]),
});

/**
 * Kinds of phone case (builtin phones only). A wallet (folio) case is closed over the screen: a
 * phone in one shows neither its screen nor a crack in it. It is drawn only when a spec names it
 * (`case_kinds` defaults to the other three, as before it existed).
 */
export const CASE_KINDS = ['silicone', 'clear', 'leather', 'wallet'] as const;
const DEFAULT_CASE_KINDS = ['silicone', 'clear', 'leather'] as const;

/** What has become of a phone before it reached the belt. Off by default. */
export const Condition = z.strictObject({
  /** Chance that a builtin phone is in a case (0 = never). */
  case_probability: z.number().min(0).max(1).default(0),
  /** Kinds of case to pick from, each equally likely (default: silicone, clear, leather). */
  case_kinds: z
    .array(z.enum(CASE_KINDS))
    .min(1)
    .max(12)
    .default([...DEFAULT_CASE_KINDS]),
  // The wear below is off when absent, and absent from specs that do not name it (their
  // manifests keep their bytes). Drawn on a stream of its own: the rest of a frame stays the same.
  /** Chance that the screen is on, showing a wallpaper. */
  screen_on_probability: z.number().min(0).max(1).optional(),
  /** Chance that the screen is cracked (lines radiating from an impact point). */
  crack_probability: z.number().min(0).max(1).optional(),
  /** Chance of a sticker or asset tag (barcode) on the back or the screen. */
  sticker_probability: z.number().min(0).max(1).optional(),
  /** Chance of scratches and scuffs on the back (light lines, of a drawn strength). */
  scratch_probability: z.number().min(0).max(1).optional(),
  /** Chance of dust and smudges over the screen and the back (of a drawn strength). */
  dust_probability: z.number().min(0).max(1).optional(),
});

export const ProductRanges = z.strictObject({
  yaw_deg: range({ min: -360, max: 360 }, [0, 360]),
  /** Probability that the screen faces the belt (the back is up). */
  face_down_probability: z.number().min(0).max(1).default(0.5),
  /** Offset of the product on the belt, per axis. */
  offset_m: range({ min: -1, max: 1 }, [-0.03, 0.03]),
  color_jitter: ColorJitter.prefault({}),
  /** Cases (more of the phone's wear to come). */
  condition: Condition.optional(),
});

/** A background photo: a file name in the library's backgrounds/ (never a path). */
const BackgroundName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/, "a file name in the library's backgrounds/");

export const BackgroundRanges = z.strictObject({
  /** Grey level of the belt rubber (sRGB, 0-1). */
  belt_value: range({ min: 0, max: 1 }, [0.08, 0.22]),
  texture_scale: range({ min: 0.01, max: 100 }, [0.7, 1.5]),
  roughness: range({ min: 0, max: 1 }, [0.55, 0.9]),
  /** Chance that a frame's belt surface is a photo from the library's backgrounds/ instead. */
  image_probability: z.number().min(0).max(1).default(0),
  /** Background photos to use (file names in backgrounds/); empty: all of them. */
  images: z.array(BackgroundName).max(1000).default([]),
  /** Side of the random square crop, as a fraction of the photo's shorter side. */
  crop_fraction: range({ min: 0.05, max: 1 }, [0.4, 1]),
  /** Rotation of the photo on the belt. */
  rotation_deg: range({ min: -360, max: 360 }, [0, 360]),
  /** Brightness factor of the photo's tint. */
  tint_value: range({ min: 0, max: 4 }, [0.8, 1.2]),
  /** Hue of the photo's tint, in turns away from neutral. */
  tint_hue: range({ min: -0.5, max: 0.5 }, [-0.03, 0.03]),
});

export const SensorRanges = z.strictObject({
  /** Gaussian read noise, standard deviation in [0, 1] pixel units. */
  noise_sigma: range({ min: 0, max: 0.5 }, [0, 0.02]),
  /** Film-like grain: amplitude in [0, 1] pixel units. */
  grain_strength: range({ min: 0, max: 0.5 }, [0, 0.03]),
  /** Grain blob size in pixels. */
  grain_size_px: range({ min: 1, max: 16 }, [1, 2.5]),
  /** Gaussian blur sigma in pixels (defocus, motion on the belt); 0 = none. */
  blur_sigma_px: range({ min: 0, max: 20 }, [0, 0.8]),
  /** Exposure change in stops. */
  exposure_ev: range({ min: -5, max: 5 }, [-0.5, 0.5]),
  // The stages below are off when absent (0), and absent from specs that do not name them, so
  // that those specs' manifests keep their bytes.
  /** Lens vignetting: the corners' light falls by this fraction (0 = none, 0.4 = a cheap lens). */
  vignette: optionalRange({ min: 0, max: 1 }),
  /**
   * White-balance error of the camera's processing, in mireds (1e6 / kelvin) away from neutral:
   * positive renders warmer, negative cooler (0 = none; +-20 a typical auto white balance miss).
   */
  white_balance_mired: optionalRange({ min: -200, max: 200 }),
  /** JPEG compression by the camera, at this quality (1-100; 0 = none), before the dataset's own encoding. */
  jpeg_quality: optionalRange({ min: 0, max: 100, int: true }),
});

/** E-waste riding with the products: cables, chargers, screws, cardboard, earbud cases, other makers' phones. Off by default. */
export const DistractorRanges = z.strictObject({
  /** How many per frame (0 = none). */
  count: range({ min: 0, max: MAX_DISTRACTORS, int: true }, 0),
  /** Kinds to pick from, each equally likely (list one twice to favour it). */
  kinds: z
    .array(z.enum(DISTRACTOR_KINDS))
    .min(1)
    .max(DISTRACTOR_KINDS.length * 4)
    .default([...DISTRACTOR_KINDS]),
  /** Kept this far from the product's centre, metres (touching and partial cover happen near it). */
  clearance_m: range({ min: 0, max: 1 }, 0.07),
  /** Spread beyond the clearance, metres. */
  spread_m: range({ min: 0.01, max: 2 }, [0.05, 0.15]),
  /** Size relative to each kind's nominal size. */
  scale: range({ min: 0.2, max: 5 }, [0.7, 1.3]),
  /**
   * Products that ride along as clutter, never a class (`library:<id>` or `builtin:<model>`, not
   * one of `products`): each joins the kinds to pick from, as likely as one kind; any colour of
   * its palette, either side up, at its real size (`scale` does not apply).
   */
  products: z.array(AssetRef).min(1).max(100).superRefine(checkDistinct).optional(),
});

/**
 * The belt's travel during the exposure: everything on the belt moves by speed x shutter along
 * the belt (the image's x axis at azimuth 0), which smears it. Off by default (speed 0).
 */
export const MotionRanges = z.strictObject({
  /** Belt speed in metres per second (0 = still; sorting lines run at 0.2-2). */
  belt_speed_m_s: range({ min: 0, max: 5 }, 0),
  /** Exposure time in seconds. */
  shutter_s: range({ min: 1e-5, max: 0.1 }, 0.001),
});

/**
 * The belt as a line has it: a finite width between metal side rails (along the travel, world x),
 * seams across it, worn streaks and dirt. Off by default (absent: today's endless clean belt).
 */
export const BeltRanges = z.strictObject({
  /** Share of frames that show it (the others: an endless clean belt, as without `belt`). */
  probability: z.number().min(0).max(1).default(1),
  /** Width between the side rails, metres. */
  width_m: range({ min: 0.1, max: 3 }, [0.3, 0.5]),
  /** Where the belt's middle is across the travel, from the products' middle, metres. */
  centre_offset_m: range({ min: -1, max: 1 }, [-0.06, 0.06]),
  /** Height of the side rails above the belt, metres (0: no rails, only the belt's edges). */
  rail_height_m: range({ min: 0, max: 0.3 }, [0.015, 0.04]),
  /** Chance of a seam (a joint across the belt) in view. */
  seam_probability: z.number().min(0).max(1).default(0.3),
  /** Worn, lighter streaks along the travel: 0 none, 1 strong. */
  wear: range({ min: 0, max: 1 }, [0, 0.5]),
  /** Dark dirt spots: 0 none, 1 strong. */
  dirt: range({ min: 0, max: 1 }, [0, 0.4]),
});

/** Extra members per sample, on request. */
export const Annotations = z.strictObject({
  /** `<key>.mask.png`: 8-bit, 255 where the product is. */
  mask: z.boolean().default(false),
  /** `<key>.depth.png`: 16-bit, camera-space depth (OpenCV z) in millimetres, 0 = nothing hit. */
  depth: z.boolean().default(false),
  /**
   * `<key>.inst.png`: 16-bit, the instance id of each pixel (0 = nothing, k = instance k), and
   * per-instance boxes in the label. Default false (left out of the parsed spec when not given,
   * so specs without it keep their bytes).
   */
  instances: z.boolean().optional(),
});

const Interval = z.tuple([z.number(), z.number()]).refine(([a, b]) => a <= b, { message: 'interval [min, max] needs min <= max' });

/** Conditions kept out of a dataset, so a test set can be rendered under conditions training never saw. */
export const HoldOut = z.strictObject({
  hdris: z
    .array(z.enum(BUILTIN_HDRIS))
    .max(BUILTIN_HDRIS.length * 4)
    .default([]),
  /** Background photo file names. */
  backgrounds: z.array(BackgroundName).max(1000).default([]),
  /** Colour names, for every product. */
  colors: z.array(z.string().min(1).max(100)).max(100).default([]),
  /** Camera intervals no frame may fall into. */
  camera: z
    .strictObject({
      distance_m: Interval.optional(),
      elevation_deg: Interval.optional(),
      azimuth_deg: Interval.optional(),
      focal_length_mm: Interval.optional(),
    })
    .prefault({}),
});
export type HoldOut = z.infer<typeof HoldOut>;

export const Split = z.strictObject({
  /** The split's name, recorded in the manifest and every label (e.g. "train", "test"). */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
    .default('train'),
  hold_out: HoldOut.prefault({}),
});

export const OutputSettings = z.strictObject({
  annotations: Annotations.prefault({}),
  /** Samples per shard. */
  shard_size: z.number().int().min(1).max(1_000_000).default(1000),
  /** What one class is: the model, the model and its colour, or those and the side facing up. */
  class_by: z.enum(['model', 'model_color', 'model_color_side']).default('model_color'),
  /**
   * Put the seconds each frame took into its label. Off by default: wall-clock time differs
   * from run to run, so it would make the same spec give different shard bytes. Timings are
   * always written to `timings.jsonl` beside `dataset.json`.
   */
  label_timing: z.boolean().default(false),
  /** A service job fails once more than this fraction of its frames failed (0 = any failure). */
  max_failed_fraction: z.number().min(0).max(1).default(0.01),
});

/** Most products in one frame (the plan's product and up to five `others`). */
export const MAX_PRODUCTS_PER_FRAME = MAX_INSTANCES;
/**
 * Ways of laying several products out on the belt: `scatter` (apart, on the belt) or `pile`
 * (dropped on one spot and settled by Blender's rigid-body simulation).
 */
export const LAYOUT_MODES = ['scatter', 'pile'] as const;

/**
 * Several products per frame. Absent: one product per frame, exactly as before the section
 * existed (its defaults are not written into the parsed spec).
 */
export const LayoutSettings = z.strictObject({
  /**
   * `scatter`: each product placed apart from the others, at least `min_gap_m` between them.
   * `pile`: each product dropped, tilted, from above a small area around the first and settled
   * by Blender's rigid-body simulation (deterministic for a plan): they lie on and against each
   * other; `min_gap_m` is not used.
   */
  mode: z.enum(LAYOUT_MODES).default('scatter'),
  /** Products per frame, rounded; fewer where they do not fit. */
  products_per_frame: range({ min: 1, max: MAX_PRODUCTS_PER_FRAME }, 1),
  /**
   * Least gap between the circles around two products' footprints (radius: half the
   * footprint's diagonal); negative lets them touch or overlap a little.
   */
  min_gap_m: z.number().min(-0.05).max(1).default(0.01),
});
export type LayoutSettings = z.infer<typeof LayoutSettings>;

/** Every distractor product is listed once. */
function checkDistinct(assets: string[], ctx: z.RefinementCtx): void {
  assets.forEach((a, i) => {
    if (assets.indexOf(a) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${a}" is listed twice` });
  });
}

/** Every product is listed once. */
function checkProducts(products: ProductEntry[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  products.forEach((p, i) => {
    if (seen.has(p.asset)) ctx.addIssue({ code: 'custom', path: [i, 'asset'], message: `"${p.asset}" is listed twice` });
    seen.add(p.asset);
  });
}

function defaultProducts(): ProductEntry[] {
  return builtinCatalog().models.map((m) => ({ asset: `builtin:${m.id}`, colors: [], weight: 1 }));
}

/** A dataset job: what to render, how many frames, and the range of every randomized parameter. */
export const JobSpec = z
  .strictObject({
    version: z.literal(1).default(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "-" and "_", at most 64, no dots')
      .default('dataset'),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    count: z.number().int().min(1).max(MAX_FRAMES).default(100),
    products: z.array(ProductEntry).min(1).max(1000).superRefine(checkProducts).default(defaultProducts),
    render: RenderSettings.prefault({}),
    camera: CameraRanges.prefault({}),
    lights: LightRanges.prefault({}),
    world: WorldRanges.prefault({}),
    product: ProductRanges.prefault({}),
    background: BackgroundRanges.prefault({}),
    sensor: SensorRanges.prefault({}),
    motion: MotionRanges.optional(),
    distractors: DistractorRanges.optional(),
    belt: BeltRanges.optional(),
    output: OutputSettings.prefault({}),
    split: Split.prefault({}),
    /** Several products per frame (optional: absent = one product, as before). */
    layout: LayoutSettings.optional(),
  })
  .superRefine((spec, ctx) => {
    spec.distractors?.products?.forEach((a, i) => {
      if (spec.products.some((p) => p.asset === a))
        ctx.addIssue({
          code: 'custom',
          path: ['distractors', 'products', i],
          message: `"${a}" is one of products (a class); a distractor is never a class`,
        });
    });
  });
export type JobSpec = z.infer<typeof JobSpec>;
/** A spec as a user writes it: every field optional. */
export type JobSpecInput = z.input<typeof JobSpec>;

/** One class of the dataset, with its index and the attributes it stands for. */
export interface ClassEntry {
  index: number;
  name: string;
  model: string;
  color?: string;
  side?: 'front' | 'back';
}

/** The classes of a spec in a fixed order: products as listed, colours in palette order. */
export function classesOf(spec: JobSpec, products: ResolvedProduct[] = resolveProducts(spec)): ClassEntry[] {
  const out: ClassEntry[] = [];
  const add = (e: Omit<ClassEntry, 'index'>) => out.push({ index: out.length, ...e });
  for (const p of products) {
    if (spec.output.class_by === 'model') {
      add({ name: p.className, model: p.id });
      continue;
    }
    for (const c of p.palette) {
      const name = `${p.className}_${slug(c.name)}`;
      if (spec.output.class_by === 'model_color') add({ name, model: p.id, color: c.name });
      else for (const side of ['front', 'back'] as const) add({ name: `${name}_${side}`, model: p.id, color: c.name, side });
    }
  }
  return out;
}

/** The class a frame of this model, colour and side belongs to. */
export function classFor(classes: ClassEntry[], model: string, color: string, side: 'front' | 'back'): ClassEntry {
  const hit = classes.find(
    (c) => c.model === model && (c.color === undefined || c.color === color) && (c.side === undefined || c.side === side),
  );
  if (!hit) throw new Error(`no class for ${model} ${color} ${side}`);
  return hit;
}
