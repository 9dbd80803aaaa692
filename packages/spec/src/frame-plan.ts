import { z } from 'zod';
import { ProductSource } from './products.ts';

const Vec2 = z.tuple([z.number(), z.number()]);
const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
const Mat = z.array(z.array(z.number()));

/**
 * Everything Blender needs to render one frame, decided in TypeScript by the planner.
 * The wire format of docs/render-protocol.md; lengths in metres, angles in degrees,
 * colours as sRGB floats in [0, 1].
 */
export const FramePlan = z.object({
  index: z.number().int().min(0),
  key: z.string(),
  product: z.object({
    asset: z.string(),
    model: z.string(),
    color: z.object({ name: z.string(), srgb: Vec3, nominal_srgb: Vec3 }),
    side_up: z.enum(['front', 'back']),
    /** Where Blender finds a library product's model; null for builtin phones. */
    source: ProductSource.nullable(),
    yaw_deg: z.number(),
    offset_m: Vec2,
  }),
  camera: z.object({
    distance_m: z.number(),
    elevation_deg: z.number(),
    azimuth_deg: z.number(),
    roll_deg: z.number(),
    focal_length_mm: z.number(),
    sensor_width_mm: z.number(),
    look_at_m: Vec3,
  }),
  lights: z.array(
    z.object({
      type: z.enum(['point', 'area', 'spot']),
      energy_w: z.number(),
      color_temperature_k: z.number(),
      rgb: Vec3,
      distance_m: z.number(),
      elevation_deg: z.number(),
      azimuth_deg: z.number(),
      size_m: z.number(),
      spot_angle_deg: z.number(),
    }),
  ),
  world: z.object({ hdri: z.string(), strength: z.number(), rotation_deg: z.number() }),
  background: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('belt'),
      belt_srgb: Vec3,
      texture_scale: z.number(),
      texture_offset: Vec2,
      roughness: z.number(),
    }),
    z.object({
      kind: z.literal('image'),
      /** File name in the library's backgrounds/. */
      name: z.string(),
      image: z.string(),
      /** [u0, v0, u1, v1] as fractions of the photo's width and height. */
      crop: z.tuple([z.number(), z.number(), z.number(), z.number()]),
      rotation_deg: z.number(),
      /** Multiplier of the photo's colour (may exceed 1). */
      tint_srgb: Vec3,
      roughness: z.number(),
    }),
  ]),
  render: z.object({
    engine: z.enum(['cycles', 'eevee']),
    samples: z.number().int(),
    resolution: z.tuple([z.number().int(), z.number().int()]),
    seed: z.number().int(),
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
  }),
  /** Test hooks: `crash` aborts Blender on this frame; `allocate_mb` grabs that much memory first. */
  debug: z.object({ crash: z.boolean(), allocate_mb: z.number().int().min(0).max(1_000_000).optional() }),
});
export type FramePlan = z.infer<typeof FramePlan>;

/** Where Blender writes a frame's files; added to the plan on the wire by the driver. */
export const FrameOutputs = z.object({
  image: z.string(),
  mask: z.string().nullable().optional(),
  depth: z.string().nullable().optional(),
});
export type FrameOutputs = z.infer<typeof FrameOutputs>;

/** What Blender measured after rendering a frame (docs/render-protocol.md, RenderResult). */
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
  }),
  seconds: z.number(),
  blender_version: z.string(),
  rss_bytes: z.number(),
  /** The device that rendered the frame: `cpu`, `cuda:0 NVIDIA A10`, ... (the render server's choice). */
  device: z.string().default(''),
});
export type RenderResult = z.infer<typeof RenderResult>;
