import {
  KEY_DIGITS,
  MAX_PRODUCTS_PER_FRAME,
  SpecError,
  findModel,
  rangeExtent,
  resolveProducts,
  type FramePlan,
  type JobSpec,
  type NumericRange,
  type ProductIndex,
  type ResolvedProduct,
} from '@synthline/spec';
import { Stream } from '@synthline/base';
import { hsvToRgb, jitter, kelvinToRgb } from './colour.ts';

/** The sample key of a frame: its index, zero-padded (keys hold no dots). */
export function frameKey(index: number): string {
  return String(index).padStart(KEY_DIGITS, '0');
}

/** Draws a value of a {@link NumericRange}, never inside the held-out interval `hold`. */
export function draw(r: Stream, range: NumericRange, hold?: [number, number]): number {
  if (typeof range === 'number') return range;
  if (Array.isArray(range)) {
    const [lo, hi] = range;
    if (!hold || hold[1] <= lo || hold[0] >= hi) return r.uniform(lo, hi);
    // The interval minus the held-out part: up to two pieces, chosen by length.
    const pieces = (
      [
        [lo, Math.max(lo, hold[0])],
        [Math.min(hi, hold[1]), hi],
      ] as [number, number][]
    ).filter(([a, b]) => b > a);
    if (pieces.length === 0) throw new RangeError(`range [${lo}, ${hi}] is entirely held out`);
    const piece = pieces[r.weighted(pieces.map(([a, b]) => b - a))] ?? pieces[0];
    return piece ? r.uniform(piece[0], piece[1]) : lo;
  }
  const allowed = hold ? range.choice.filter((v) => v < hold[0] || v > hold[1]) : range.choice;
  if (allowed.length === 0) throw new RangeError('every choice is held out');
  return r.pick(allowed);
}

/** What a plan needs beside the spec: its products resolved and the library's backgrounds. */
export interface PlanContext {
  products: ResolvedProduct[];
  backgrounds: { name: string; path: string }[];
}

/**
 * Resolves a spec against the builtin catalog and the asset library, and checks that its
 * held-out conditions leave something to draw; throws a SpecError naming each problem.
 */
export function planContext(spec: JobSpec, library?: ProductIndex): PlanContext {
  const products = resolveProducts(spec, library);
  const hold = spec.split.hold_out;
  const problems: { path: string; message: string }[] = [];
  products.forEach((p, i) => {
    if (p.palette.every((c) => hold.colors.includes(c.name))) {
      problems.push({ path: `products[${i}].colors`, message: 'every colour of this product is held out (split.hold_out.colors)' });
    }
  });
  if (spec.world.hdris.every((h) => hold.hdris.includes(h)))
    problems.push({ path: 'world.hdris', message: 'every HDRI is held out (split.hold_out.hdris)' });
  let backgrounds: { name: string; path: string }[] = [];
  if (spec.background.image_probability > 0) {
    const all = library?.backgrounds ?? [];
    const wanted = spec.background.images.length ? spec.background.images : all.map((b) => b.name);
    spec.background.images.forEach((name, i) => {
      if (!all.some((b) => b.name === name))
        problems.push({
          path: `background.images[${i}]`,
          message: `"${name}" is not in the library's backgrounds/ (${all.map((b) => b.name).join(', ') || 'none'})`,
        });
    });
    backgrounds = all.filter((b) => wanted.includes(b.name) && !hold.backgrounds.includes(b.name));
    if (backgrounds.length === 0)
      problems.push({
        path: 'background.image_probability',
        message: 'no background photo to use (the library has none, or all are held out)',
      });
  }
  for (const key of ['distance_m', 'elevation_deg', 'azimuth_deg', 'focal_length_mm'] as const) {
    const h = hold.camera[key];
    const r = spec.camera[key];
    if (!h) continue;
    const [lo, hi] = typeof r === 'number' ? [r, r] : Array.isArray(r) ? r : [Math.min(...r.choice), Math.max(...r.choice)];
    const all = typeof r === 'number' ? [r] : Array.isArray(r) ? null : r.choice;
    const covered = all ? all.every((v) => v >= h[0] && v <= h[1]) : h[0] <= lo && h[1] >= hi;
    if (covered) problems.push({ path: `split.hold_out.camera.${key}`, message: `holds out all of camera.${key} [${lo}, ${hi}]` });
  }
  if (problems.length) throw new SpecError(problems);
  return { products, backgrounds };
}

/** The multiplier of a photo's tint: a hue (turns, its size sets the saturation) at a brightness. */
function tintOf(hue: number, value: number): [number, number, number] {
  const [r, g, b] = hsvToRgb([((hue % 1) + 1) % 1, Math.min(1, Math.abs(hue) * 4), 1]);
  return [r * value, g * value, b * value];
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));

/** Footprint of a library product whose size is not declared (a phone's, roughly). */
const UNKNOWN_FOOTPRINT_M: [number, number] = [0.08, 0.16];
/** Places tried for each further product before it is dropped. */
export const PLACEMENT_TRIES = 200;

/**
 * Radius of the circle a product's footprint fits in (half its diagonal on the belt), in metres:
 * builtin phones from the catalog's body, library products from their declared dimensions.
 */
export function footprintRadius(p: ResolvedProduct): number {
  let w: number;
  let h: number;
  const model = p.source === null ? findModel(p.id) : undefined;
  if (model) [w, h] = [model.body.width_mm / 1000, model.body.height_mm / 1000];
  else if (p.source?.dimensions_m) [w, h] = [p.source.dimensions_m[0], p.source.dimensions_m[1]];
  else [w, h] = UNKNOWN_FOOTPRINT_M;
  return Math.hypot(w, h) / 2;
}

type PlanProduct = FramePlan['product'];
type OtherProduct = NonNullable<FramePlan['others']>[number];

/** One product drawn from `r`: which (by weight), its colour, jitter, side and yaw. */
function drawProduct(spec: JobSpec, ctx: PlanContext, r: Stream) {
  const hold = spec.split.hold_out;
  const entry = ctx.products[r.weighted(ctx.products.map((p) => p.weight))];
  if (!entry) throw new Error('spec has no products');
  const colour = r.pick(entry.palette.filter((c) => !hold.colors.includes(c.name)));
  const nominal = colour.rgb;
  const cj = spec.product.color_jitter;
  const srgb = jitter(nominal, draw(r, cj.hue), draw(r, cj.saturation_scale), draw(r, cj.value_scale));
  const sideUp: 'front' | 'back' = r.chance(spec.product.face_down_probability) ? 'back' : 'front';
  const yaw = draw(r, spec.product.yaw_deg);
  return { entry, colour, srgb, nominal, sideUp, yaw };
}

/**
 * The further products of a frame (`layout`), all drawn from the `layout` stream: their number,
 * then each product like the first, placed by rejection sampling so that the circles around
 * any two footprints keep `min_gap_m` apart, in a square around the offset range widened to fit
 * them all. One that finds no place in {@link PLACEMENT_TRIES} tries is dropped.
 */
function drawOthers(
  spec: JobSpec,
  ctx: PlanContext,
  r: Stream,
  first: { entry: ResolvedProduct; offset: [number, number] },
): OtherProduct[] {
  const layout = spec.layout;
  if (!layout) return [];
  const n = Math.min(MAX_PRODUCTS_PER_FRAME, Math.max(1, Math.round(draw(r, layout.products_per_frame))));
  if (n <= 1) return [];
  const gap = layout.min_gap_m;
  const drawn = Array.from({ length: n - 1 }, () => drawProduct(spec, ctx, r));
  const radii = [first.entry, ...drawn.map((d) => d.entry)].map(footprintRadius);
  const [lo, hi] = rangeExtent(spec.product.offset_m);
  const centre = (lo + hi) / 2;
  const half = Math.max(hi - lo, Math.sqrt(n) * (2 * Math.max(...radii) + gap) * 1.2) / 2;
  const placed: { at: [number, number]; r: number }[] = [{ at: first.offset, r: radii[0] ?? 0 }];
  const others: OtherProduct[] = [];
  drawn.forEach((d, j) => {
    const radius = radii[j + 1] ?? 0;
    for (let t = 0; t < PLACEMENT_TRIES; t++) {
      const at: [number, number] = [round(r.uniform(centre - half, centre + half)), round(r.uniform(centre - half, centre + half))];
      if (placed.some((q) => Math.hypot(at[0] - q.at[0], at[1] - q.at[1]) < q.r + radius + gap)) continue;
      placed.push({ at, r: radius });
      others.push({ id: others.length + 2, ...productOf(d, at) });
      return;
    }
  });
  return others;
}

function productOf(d: ReturnType<typeof drawProduct>, offset: [number, number]): PlanProduct {
  return {
    asset: d.entry.asset,
    model: d.entry.id,
    source: d.entry.source,
    color: { name: d.colour.name, srgb: round3(d.srgb), nominal_srgb: round3(d.nominal) },
    side_up: d.sideUp,
    yaw_deg: round(d.yaw),
    offset_m: [round(offset[0]), round(offset[1])],
  };
}
const round3 = (v: [number, number, number]): [number, number, number] => [round(v[0]), round(v[1]), round(v[2])];

/**
 * Plans frame `index` of a job: pure and counter-based, so the same spec and index give the
 * same plan on any machine, in any order, in any subset. Each group of parameters draws from
 * its own stream so that adding a parameter to one group leaves the others unchanged.
 */
export function plan(spec: JobSpec, index: number, ctx: PlanContext = planContext(spec)): FramePlan {
  if (!Number.isInteger(index) || index < 0 || index >= spec.count) {
    throw new RangeError(`frame index ${index} is outside [0, ${spec.count})`);
  }
  const s = (label: string) => new Stream(spec.seed, index, label);

  const hold = spec.split.hold_out;
  const rp = s('product');
  const first = drawProduct(spec, ctx, rp);
  const offset: [number, number] = [draw(rp, spec.product.offset_m), draw(rp, spec.product.offset_m)];
  const product = productOf(first, offset);
  // Several products: everything about them from their own stream, so specs without `layout`
  // (or with one product per frame) keep their plans.
  const others = drawOthers(spec, ctx, s('layout'), { entry: first.entry, offset: product.offset_m });
  // The camera looks at the middle of the products (with several).
  const all = [product, ...others];
  const aim: [number, number] =
    others.length === 0 ? offset : ([0, 1].map((k) => all.reduce((a, p) => a + (p.offset_m[k] ?? 0), 0) / all.length) as [number, number]);

  const rc = s('camera');
  const cam = spec.camera;
  const camera = {
    distance_m: round(draw(rc, cam.distance_m, hold.camera.distance_m)),
    elevation_deg: round(draw(rc, cam.elevation_deg, hold.camera.elevation_deg)),
    azimuth_deg: round(draw(rc, cam.azimuth_deg, hold.camera.azimuth_deg)),
    roll_deg: round(draw(rc, cam.roll_deg)),
    focal_length_mm: round(draw(rc, cam.focal_length_mm, hold.camera.focal_length_mm)),
    sensor_width_mm: round(draw(rc, cam.sensor_width_mm)),
    look_at_m: [
      round(aim[0] + draw(rc, cam.look_at_jitter_m) * (rc.chance(0.5) ? 1 : -1)),
      round(aim[1] + draw(rc, cam.look_at_jitter_m) * (rc.chance(0.5) ? 1 : -1)),
      0,
    ] as [number, number, number],
  };

  const rl = s('lights');
  const L = spec.lights;
  const lightCount = Math.round(draw(rl, L.count));
  const lights = Array.from({ length: lightCount }, () => {
    const kelvin = round(draw(rl, L.color_temperature_k), 1);
    const type = rl.pick(L.types);
    return {
      type,
      energy_w: round(draw(rl, type === 'area' ? L.area_energy_w : L.energy_w), 3),
      color_temperature_k: kelvin,
      rgb: round3(kelvinToRgb(kelvin)),
      distance_m: round(draw(rl, L.distance_m)),
      elevation_deg: round(draw(rl, L.elevation_deg)),
      azimuth_deg: round(rl.uniform(0, 360)),
      size_m: round(draw(rl, L.size_m)),
      spot_angle_deg: round(draw(rl, L.spot_angle_deg)),
    };
  });

  const rw = s('world');
  const world = {
    hdri: rw.pick(spec.world.hdris.filter((h) => !hold.hdris.includes(h))),
    strength: round(draw(rw, spec.world.strength)),
    rotation_deg: round(draw(rw, spec.world.rotation_deg)),
  };

  const rb = s('background');
  const grey = draw(rb, spec.background.belt_value);
  const tint = rb.uniform(0.9, 1.1);
  const belt = {
    kind: 'belt' as const,
    belt_srgb: round3([grey, grey, Math.min(1, grey * tint)]),
    texture_scale: round(draw(rb, spec.background.texture_scale)),
    texture_offset: [round(rb.uniform(0, 100)), round(rb.uniform(0, 100))] as [number, number],
    roughness: round(draw(rb, spec.background.roughness)),
  };
  // A photo instead of the procedural belt: its own stream, so specs without photos are unchanged.
  const ri = s('background-image');
  let background: FramePlan['background'] = belt;
  if (ctx.backgrounds.length > 0 && ri.chance(spec.background.image_probability)) {
    const bg = ri.pick(ctx.backgrounds);
    const f = draw(ri, spec.background.crop_fraction);
    const u0 = ri.uniform(0, 1 - f);
    const v0 = ri.uniform(0, 1 - f);
    const value = draw(ri, spec.background.tint_value);
    background = {
      kind: 'image',
      name: bg.name,
      image: bg.path,
      crop: [round(u0), round(v0), round(u0 + f), round(v0 + f)],
      rotation_deg: round(draw(ri, spec.background.rotation_deg)),
      // A colour multiplier: white at hue 0, more saturated the further the hue turns.
      tint_srgb: round3(tintOf(draw(ri, spec.background.tint_hue), value)),
      roughness: belt.roughness,
    };
  }

  const rs = s('sensor');
  const sn = spec.sensor;
  const sensor = {
    noise_sigma: round(draw(rs, sn.noise_sigma)),
    grain_strength: round(draw(rs, sn.grain_strength)),
    grain_size_px: round(draw(rs, sn.grain_size_px)),
    blur_sigma_px: round(draw(rs, sn.blur_sigma_px)),
    exposure_ev: round(draw(rs, sn.exposure_ev)),
    seed: rs.nextU32(),
  };

  return {
    index,
    key: frameKey(index),
    product,
    ...(others.length > 0 ? { others } : {}),
    camera,
    lights,
    world,
    background,
    render: {
      engine: spec.render.engine,
      samples: spec.render.samples,
      resolution: spec.render.resolution,
      // Cycles takes a signed 32-bit seed.
      seed: s('render').nextU32() & 0x7fffffff,
      denoise: spec.render.denoise,
    },
    sensor,
    debug: { crash: false },
  };
}
