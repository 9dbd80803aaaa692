import { z } from 'zod';
import { BUILTIN_HDRIS } from './catalog.ts';
import { ProductSource } from './products.ts';

/** Light types a plan may use; the render server keeps a pool of {@link MAX_LIGHTS} of each. */
export const LIGHT_TYPES = ['point', 'area', 'spot'] as const;
/** Most lights in one frame. */
export const MAX_LIGHTS = 4;
/** Kinds of procedural e-waste that ride the belt with the products (never a class). */
export const DISTRACTOR_KINDS = ['cable', 'charger', 'screw', 'cardboard', 'earbuds_case', 'generic_phone'] as const;
/** Most distractors in one frame. */
export const MAX_DISTRACTORS = 12;
/** Render engines a plan may ask for. */
export const ENGINES = ['cycles', 'eevee'] as const;

const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
const Mat = z.array(z.array(z.number()));
/** Each component within [lo, hi]. */
const vec2 = (lo: number, hi: number) => z.tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)]);
const vec3 = (lo: number, hi: number) => z.tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi), z.number().min(lo).max(hi)]);
/** An sRGB colour as floats in [0, 1]. */
const Srgb = vec3(0, 1);

/** Most products (instances) in one frame: `product` and up to five `others`. */
export const MAX_INSTANCES = 6;

const Bbox = z.tuple([z.number(), z.number(), z.number(), z.number()]);
/** A point on a phone's face as fractions of its width and height from its centre. */
const FacePoint = vec2(-0.5, 0.5);

/** What has become of a phone before it reached the belt (each part absent when not applied). */
export const PlanCondition = z.object({
  /** A case; a wallet (folio) case is closed over the screen. */
  case: z.object({ kind: z.enum(['silicone', 'clear', 'leather', 'wallet']), srgb: Srgb }).optional(),
  /** The screen is on, showing a wallpaper: a gradient between two colours. */
  screen: z.object({ wallpaper: z.tuple([Srgb, Srgb]) }).optional(),
  /** A cracked screen: lines (points on the screen) radiating from the impact. */
  crack: z.object({ impact: FacePoint, lines: z.array(z.array(FacePoint).min(2).max(8)).min(1).max(16) }).optional(),
  /** A sticker or asset tag on the back or the screen: centre, size, colour, and its barcode's stripes. */
  sticker: z
    .object({
      side: z.enum(['front', 'back']),
      center: FacePoint,
      size_m: vec2(0.002, 0.1),
      srgb: Srgb,
      stripes: z.number().int().min(0).max(64),
    })
    .optional(),
  /** Scratches on the back: straight lines (two points each) of a strength (0-1: how much they show). */
  scratches: z
    .object({
      strength: z.number().min(0).max(1),
      lines: z
        .array(z.tuple([FacePoint, FacePoint]))
        .min(1)
        .max(32),
    })
    .optional(),
  /** Dust and smudges over the screen and the back: a strength and where the pattern starts. */
  dust: z.object({ strength: z.number().min(0).max(1), pattern_offset: vec2(-1e3, 1e3) }).optional(),
});

/** One product of a frame: what it is, its colour and its pose on the belt. */
const PlanProduct = z.object({
  asset: z.string().min(1),
  model: z.string().min(1),
  color: z.object({ name: z.string().min(1), srgb: Srgb, nominal_srgb: Vec3 }),
  side_up: z.enum(['front', 'back']),
  /** Where Blender finds a library product's model; null for builtin phones. */
  source: ProductSource.nullable(),
  yaw_deg: z.number(),
  offset_m: vec2(-10, 10),
  /** What has become of the phone; absent: as new. */
  condition: PlanCondition.optional(),
});

// The limits below are what Blender can render, not what a spec may ask for (the spec's ranges are
// narrower): they travel into the JSON Schema that the render server checks every plan against.

/**
 * Everything Blender needs to render one frame, decided in TypeScript by the planner.
 * The wire format of docs/render-protocol.md; lengths in metres, angles in degrees,
 * colours as sRGB floats in [0, 1].
 */
export const FramePlan = z.object({
  index: z.number().int().min(0),
  key: z.string().min(1),
  product: PlanProduct,
  /**
   * The frame's other products (`layout.products_per_frame` > 1), instance ids 2, 3, ... in
   * order; absent on single-product frames. The plan's `product` is instance 1.
   */
  others: z
    .array(PlanProduct.extend({ id: z.number().int().min(2).max(MAX_INSTANCES) }))
    .max(MAX_INSTANCES - 1)
    .optional(),
  /**
   * A pile (`layout.mode` pile): each instance is dropped from its pose (offset, yaw, side) lifted
   * to `height_m` and tilted, and Blender's rigid-body simulation settles them all on the belt in
   * `frames` steps of 1/24 s, `substeps` each; the settled poses are rendered and measured.
   * Absent: products lie where the plan puts them.
   */
  pile: z
    .object({
      frames: z.number().int().min(1).max(1000),
      substeps: z.number().int().min(1).max(100),
      solver_iterations: z.number().int().min(1).max(100),
      drops: z
        .array(
          z.object({
            /** The instance (1 = the plan's product, then `others`' ids). */
            id: z.number().int().min(1).max(MAX_INSTANCES),
            /** Height of the product's centre above the belt when dropped, metres. */
            height_m: z.number().min(0).max(10),
            /** Tilt about world x, then y, after the side and yaw, degrees. */
            tilt_deg: vec2(-90, 90),
          }),
        )
        .min(1)
        .max(MAX_INSTANCES),
    })
    .optional(),
  camera: z.object({
    distance_m: z.number().min(1e-3).max(1e3),
    elevation_deg: z.number().min(-90).max(90),
    azimuth_deg: z.number(),
    roll_deg: z.number(),
    focal_length_mm: z.number().min(1).max(5000),
    sensor_width_mm: z.number().min(1).max(200),
    look_at_m: vec3(-100, 100),
    /** Radial lens distortion, OpenCV's k1 and k2 on normalised coordinates; absent: none. */
    distortion: z.object({ k1: z.number().min(-1).max(1), k2: z.number().min(-1).max(1) }).optional(),
  }),
  lights: z
    .array(
      z.object({
        type: z.enum(LIGHT_TYPES),
        energy_w: z.number().min(0).max(1e6),
        color_temperature_k: z.number(),
        rgb: Srgb,
        distance_m: z.number().min(1e-3).max(1e3),
        elevation_deg: z.number().min(-90).max(90),
        azimuth_deg: z.number(),
        size_m: z.number().min(0).max(100),
        spot_angle_deg: z.number().min(1).max(180),
        /** An area light this long across the belt (world y), `size_m` wide: a line light. Absent: square. */
        length_m: z.number().min(0).max(100).optional(),
      }),
    )
    .max(MAX_LIGHTS),
  world: z.object({ hdri: z.enum(BUILTIN_HDRIS), strength: z.number().min(0).max(1e3), rotation_deg: z.number() }),
  background: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('belt'),
      belt_srgb: Srgb,
      texture_scale: z.number().min(1e-3).max(1e3),
      texture_offset: vec2(-1e4, 1e4),
      roughness: z.number().min(0).max(1),
    }),
    z.object({
      kind: z.literal('image'),
      /** File name in the library's backgrounds/. */
      name: z.string(),
      image: z.string(),
      /** [u0, v0, u1, v1] as fractions of the photo's width and height. */
      crop: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)]),
      rotation_deg: z.number(),
      /** Multiplier of the photo's colour (may exceed 1). */
      tint_srgb: vec3(0, 16),
      roughness: z.number().min(0).max(1),
    }),
  ]),
  render: z.object({
    engine: z.enum(ENGINES),
    samples: z
      .number()
      .int()
      .min(1)
      .max(2 ** 24),
    resolution: z.tuple([z.number().int().min(1).max(16384), z.number().int().min(1).max(16384)]),
    /** Cycles takes a signed 32-bit seed. */
    seed: z
      .number()
      .int()
      .min(-(2 ** 31))
      .max(2 ** 31 - 1),
    denoise: z.boolean(),
  }),
  /** Sensor effects, applied in TypeScript after Blender returns the image. */
  sensor: z.object({
    noise_sigma: z.number(),
    grain_strength: z.number(),
    grain_size_px: z.number(),
    blur_sigma_px: z.number(),
    exposure_ev: z.number(),
    /** Seed of the noise and grain patterns. */
    seed: z.number().int(),
    // Present only when the spec asks for them (absent: not applied; old plans are unchanged).
    /** Light falloff at the corners, a fraction. */
    vignette: z.number().min(0).max(1).optional(),
    /** Per-channel gains of a white-balance error (green 1). */
    white_balance_gain: vec3(0, 4).optional(),
    /** The camera's JPEG quality, 1-100. */
    jpeg_quality: z.number().int().min(1).max(100).optional(),
  }),
  /** Clutter on the belt: procedural e-waste, never a class; absent: none. */
  distractors: z
    .array(
      z.object({
        /** A procedural kind, or `product`: one of the spec's `distractors.products` (see `product`). */
        kind: z.enum([...DISTRACTOR_KINDS, 'product']),
        /** Centre on the belt, metres from the origin. */
        offset_m: vec2(-10, 10),
        yaw_deg: z.number(),
        /** Size relative to the kind's nominal size. */
        scale: z.number().min(0.1).max(10),
        srgb: Srgb,
        /** A cable's path, points relative to its centre (metres); empty for other kinds. */
        path_m: z.array(vec2(-1, 1)).max(16),
        /** A generic phone lying screen up (its black glass shows); absent for other kinds. */
        screen_up: z.boolean().optional(),
        /** The product riding as clutter (kind `product`): posed like a product, object index 0. */
        product: PlanProduct.optional(),
      }),
    )
    .max(MAX_DISTRACTORS)
    .optional(),
  /** The belt's edges, rails, seam, wear and dirt (`belt`); absent: an endless clean belt. */
  belt: z
    .object({
      width_m: z.number().min(0.05).max(10),
      /** The belt's middle across the travel (world y), metres. */
      centre_y_m: z.number().min(-10).max(10),
      rail_height_m: z.number().min(0).max(1),
      /** Where a seam crosses the belt (world x, metres); null: none in view. */
      seam_x_m: z.number().min(-10).max(10).nullable(),
      wear: z.number().min(0).max(1),
      dirt: z.number().min(0).max(1),
      /** Shift of the wear and dirt patterns, metres. */
      pattern_offset_m: vec2(-1e3, 1e3),
    })
    .optional(),
  /** The belt's travel during the exposure (motion blur along world x); absent: a still frame. */
  motion: z
    .object({
      belt_speed_m_s: z.number().min(0).max(10),
      shutter_s: z.number().min(0).max(1),
      /** How far the belt moves while the shutter is open, metres. */
      travel_m: z.number().min(0).max(1),
    })
    .optional(),
  /** Test hooks: `crash` aborts Blender on this frame; `allocate_mb` grabs that much memory first. */
  debug: z.object({ crash: z.boolean(), allocate_mb: z.number().int().min(0).max(1_000_000).optional() }),
});
export type FramePlan = z.infer<typeof FramePlan>;

/** A PNG file name (Blender writes 8- and 16-bit PNGs). */
const PngPath = z.string().regex(/\.[pP][nN][gG]$/, 'a .png path');

/** Where Blender writes a frame's files (absolute paths); added to the plan on the wire by the driver. */
export const FrameOutputs = z.object({
  image: PngPath,
  mask: z.string().nullable().optional(),
  depth: PngPath.nullable().optional(),
  /** The instance-id map: 16-bit grey, 0 = nothing, k = instance k (the product is 1). */
  instances: PngPath.nullable().optional(),
});
export type FrameOutputs = z.infer<typeof FrameOutputs>;

/** What Blender measured after rendering a frame (docs/render-protocol.md, RenderResult). */
/** [x, y, w, h] of a phone's crack and sticker in the image, null when not seen. */
const WearBoxes = z.object({ crack: Bbox.nullable().optional(), sticker: Bbox.nullable().optional() });

export const RenderResult = z.object({
  index: z.number().int(),
  image: z.string(),
  mask: z.string().nullable(),
  depth: z.string().nullable().default(null),
  depth_units: z.string().default('mm'),
  /** Fraction of the product's silhouette inside the image (1 = wholly in frame). */
  visible_fraction: z.number().default(1),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  visible_pixels: z.number(),
  camera: z.object({ K: Mat, world_to_camera: Mat, convention: z.string() }),
  product: z.object({
    matrix_world: Mat,
    location_m: Vec3,
    rotation_euler_deg: Vec3,
    dimensions_m: Vec3,
    /** Model units -> metres applied to a library product; 1 for builtin phones. */
    scale: z.number().optional(),
    /** Largest relative disagreement of a library product's declared and scaled size; null when not declared. */
    scale_residual: z.number().nullable().optional(),
  }),
  /**
   * Every instance (the product is id 1, then `others`), measured from the object-index pass;
   * present only when the plan has `others` or asks for `outputs.instances`.
   */
  instances: z
    .array(
      z.object({
        id: z.number().int().min(1),
        /** [x, y, w, h] of its visible pixels; null when none is visible. */
        bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
        visible_pixels: z.number(),
        /** Visible pixels / pixels of its whole silhouette (without occlusion, inside the image). */
        visible_fraction: z.number(),
        /** Ids of the instances whose pixels cover part of its silhouette. */
        occluded_by: z.array(z.number().int()),
        /** Where its crack and sticker show, as `wear` below (present when its plan has them). */
        wear: WearBoxes.optional(),
        location_m: Vec3,
        rotation_euler_deg: Vec3,
        dimensions_m: Vec3,
        matrix_world: Mat,
      }),
    )
    .optional(),
  /**
   * Where the phone's wear shows in the image: [x, y, w, h] of the crack and the sticker, null
   * when it faces away from the camera or lies outside the image; present when the plan has them.
   */
  wear: WearBoxes.optional(),
  seconds: z.number(),
  /** Seconds of `seconds` the rigid-body settle of a pile took; absent without a pile. */
  settle_seconds: z.number().optional(),
  blender_version: z.string(),
  rss_bytes: z.number(),
  /** The device that rendered the frame: `cpu`, `cuda:0 NVIDIA A10`, ... (the driver's choice, applied by the render server). */
  device: z.string().default(''),
});
export type RenderResult = z.infer<typeof RenderResult>;
