import {
  KEY_DIGITS,
  MAX_PRODUCTS_PER_FRAME,
  SpecError,
  findModel,
  rangeExtent,
  resolveDistractorProducts,
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
  /** `distractors.products`, resolved (empty when the spec names none). */
  distractorProducts?: ResolvedProduct[];
  backgrounds: { name: string; path: string }[];
}

/**
 * Resolves a spec against the builtin catalog and the asset library, and checks that its
 * held-out conditions leave something to draw; throws a SpecError naming each problem.
 */
export function planContext(spec: JobSpec, library?: ProductIndex): PlanContext {
  const products = resolveProducts(spec, library);
  const distractorProducts = resolveDistractorProducts(spec, library);
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
  return { products, backgrounds, ...(distractorProducts.length ? { distractorProducts } : {}) };
}

/** The multiplier of a photo's tint: a hue (turns, its size sets the saturation) at a brightness. */
function tintOf(hue: number, value: number): [number, number, number] {
  const [r, g, b] = hsvToRgb([((hue % 1) + 1) % 1, Math.min(1, Math.abs(hue) * 4), 1]);
  return [r * value, g * value, b * value];
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));

/** A line light's length when the spec does not say (`lights.line_length_m`). */
const DEFAULT_LINE_LENGTH_M: [number, number] = [0.6, 1.2];

/** The belt's travel during the exposure, when the spec's `motion` moves it (its own stream). */
function planMotion(spec: JobSpec, r: Stream): { motion?: NonNullable<FramePlan['motion']> } {
  if (!spec.motion) return {};
  const speed = round(draw(r, spec.motion.belt_speed_m_s));
  const shutter = round(draw(r, spec.motion.shutter_s), 7);
  return speed > 0 ? { motion: { belt_speed_m_s: speed, shutter_s: shutter, travel_m: round(speed * shutter, 7) } } : {};
}

/**
 * The channel gains of a camera whose white balance is off by `mired` (positive: it assumed a
 * cooler light than the scene's, so the picture comes out warmer): the ratio of the colour of
 * 6500 K shifted by `mired` to that of 6500 K, scaled so that green keeps its level.
 */
export function whiteBalanceGain(mired: number): [number, number, number] {
  const neutral = kelvinToRgb(6500);
  const kelvin = Math.min(40000, Math.max(1000, 1e6 / (1e6 / 6500 + mired)));
  const shifted = kelvinToRgb(kelvin);
  const g = (shifted[1] ?? 1) / (neutral[1] ?? 1);
  return [0, 1, 2].map((i) => round((shifted[i] ?? 1) / (neutral[i] ?? 1) / g)) as [number, number, number];
}

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
 * them all. One that finds no place in {@link PLACEMENT_TRIES} tries is dropped. In a pile,
 * their places are drawn from `pile` instead, around the first product's, overlapping.
 */
function drawOthers(
  spec: JobSpec,
  ctx: PlanContext,
  r: Stream,
  first: { entry: ResolvedProduct; offset: [number, number] },
  pile: Stream,
): OtherProduct[] {
  const layout = spec.layout;
  if (!layout) return [];
  const n = Math.min(MAX_PRODUCTS_PER_FRAME, Math.max(1, Math.round(draw(r, layout.products_per_frame))));
  if (n <= 1) return [];
  const gap = layout.min_gap_m;
  const drawn = Array.from({ length: n - 1 }, () => drawProduct(spec, ctx, r));
  const radii = [first.entry, ...drawn.map((d) => d.entry)].map(footprintRadius);
  if (layout.mode === 'pile') {
    // Dropped on one spot: around the first product, within half the largest footprint's radius.
    const spread = Math.max(...radii) / 2;
    return drawn.map((d, j) => {
      const at: [number, number] = [0, 1].map((k) => round((first.offset[k] ?? 0) + pile.uniform(-spread, spread))) as [number, number];
      return { id: j + 2, ...productOf(d, at) };
    });
  }
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

/** Simulated frames (of 1/24 s), substeps per frame and solver iterations of a pile's settle. */
export const PILE_FRAMES = 96;
export const PILE_SUBSTEPS = 10;
export const PILE_SOLVER_ITERATIONS = 10;
/** Largest tilt of a dropped product about world x and y, degrees. */
export const PILE_TILT_DEG = 25;
/** Least clearance between two dropped products' bounding spheres (and the belt), metres. */
const PILE_CLEARANCE_M = 0.005;

function productEntry(ctx: PlanContext, p: PlanProduct): ResolvedProduct {
  const e = ctx.products.find((x) => x.asset === p.asset);
  if (!e) throw new Error(`no product ${p.asset}`);
  return e;
}

/**
 * How a pile is dropped (from `r`): each product in id order, tilted, its centre high enough
 * that the sphere around it (radius: its footprint's, plus a centimetre for its thickness)
 * clears the belt and every product dropped before it, plus up to 2 cm more.
 */
function planPile(r: Stream, entries: ResolvedProduct[], products: PlanProduct[]): NonNullable<FramePlan['pile']> {
  const placed: { at: [number, number]; h: number; r: number }[] = [];
  const drops = products.map((p, i) => {
    const radius = footprintRadius(entries[i] as ResolvedProduct) + 0.01;
    const tilt: [number, number] = [round(r.uniform(-PILE_TILT_DEG, PILE_TILT_DEG)), round(r.uniform(-PILE_TILT_DEG, PILE_TILT_DEG))];
    let h = radius + PILE_CLEARANCE_M;
    for (const q of placed) {
      const d = Math.hypot(p.offset_m[0] - q.at[0], p.offset_m[1] - q.at[1]);
      const need = radius + q.r + PILE_CLEARANCE_M;
      if (d < need) h = Math.max(h, q.h + Math.sqrt(need * need - d * d));
    }
    h += r.uniform(0, 0.02);
    placed.push({ at: p.offset_m, h, r: radius });
    return { id: i + 1, height_m: round(h), tilt_deg: tilt };
  });
  return { frames: PILE_FRAMES, substeps: PILE_SUBSTEPS, solver_iterations: PILE_SOLVER_ITERATIONS, drops };
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
  const rpile = s('pile');
  const others = drawOthers(spec, ctx, s('layout'), { entry: first.entry, offset: product.offset_m }, rpile);
  // A pile of one is a product lying on the belt as usual: no drop.
  const pile =
    spec.layout?.mode === 'pile' && others.length > 0
      ? planPile(rpile, [first.entry, ...others.map((o) => productEntry(ctx, o))], [product, ...others])
      : undefined;
  // The camera looks at the middle of the products (with several).
  const all = [product, ...others];
  const aim: [number, number] =
    others.length === 0 ? offset : ([0, 1].map((k) => all.reduce((a, p) => a + (p.offset_m[k] ?? 0), 0) / all.length) as [number, number]);

  const condition = planPhoneCondition(spec, s('condition'), s('wear'), first.entry.source === null);
  // Each further phone's condition from streams of its own instance (the first's are unchanged).
  const worn = others.map((o) => {
    const c = planPhoneCondition(spec, s(`condition-${o.id}`), s(`wear-${o.id}`), o.source === null);
    return c ? { ...o, condition: c } : o;
  });

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
    ...planLens(spec, s('lens')),
  };

  const rl = s('lights');
  const L = spec.lights;
  const lightCount = Math.round(draw(rl, L.count));
  const lights = Array.from({ length: lightCount }, () => {
    const kelvin = round(draw(rl, L.color_temperature_k), 1);
    const kind = rl.pick(L.types);
    // A line light is an area light drawn long; its length is drawn last, so that specs without
    // line lights draw exactly as before.
    const type = kind === 'line' ? 'area' : kind;
    const light = {
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
    return kind === 'line' ? { ...light, length_m: round(draw(rl, L.line_length_m ?? DEFAULT_LINE_LENGTH_M)) } : light;
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
  // The camera-line stages draw from a stream of their own and appear only when asked for, so a
  // spec without them plans (and renders) exactly as before.
  const rv = s('sensor-line');
  const vignette = sn.vignette === undefined ? 0 : round(draw(rv, sn.vignette));
  if (vignette > 0) Object.assign(sensor, { vignette });
  const mired = sn.white_balance_mired === undefined ? 0 : draw(rv, sn.white_balance_mired);
  if (mired !== 0) Object.assign(sensor, { white_balance_gain: whiteBalanceGain(mired) });
  const jpeg = sn.jpeg_quality === undefined ? 0 : Math.round(draw(rv, sn.jpeg_quality));
  if (jpeg > 0) Object.assign(sensor, { jpeg_quality: jpeg });

  // The belt's travel: a stream of its own, and in the plan only when the belt moves.
  const motion = planMotion(spec, s('motion'));

  const distractors = planDistractors(spec, ctx, s('distractors'), offset);
  const beltLine = planBelt(spec, s('belt-line'), aim);

  return {
    index,
    key: frameKey(index),
    product: condition ? { ...product, condition } : product,
    ...(others.length > 0 ? { others: worn } : {}),
    ...(pile ? { pile } : {}),
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
    ...motion,
    ...(distractors.length ? { distractors } : {}),
    ...(beltLine ? { belt: beltLine } : {}),
    debug: { crash: false },
  };
}

/** The lens's radial distortion (`camera.distortion_k1`, `_k2`), on its own stream; none when both are 0. */
function planLens(spec: JobSpec, r: Stream): { distortion?: { k1: number; k2: number } } {
  const { distortion_k1: a, distortion_k2: b } = spec.camera;
  if (a === undefined && b === undefined) return {};
  const k1 = a === undefined ? 0 : round(draw(r, a));
  const k2 = b === undefined ? 0 : round(draw(r, b));
  return k1 === 0 && k2 === 0 ? {} : { distortion: { k1, k2 } };
}

/** The belt's edges, rails, seam, wear and dirt (`belt`), on its own stream; the seam in view near the products. */
function planBelt(spec: JobSpec, r: Stream, aim: [number, number]): FramePlan['belt'] {
  const B = spec.belt;
  if (!B || !r.chance(B.probability)) return undefined;
  const width = round(draw(r, B.width_m));
  const centre = round(aim[1] + draw(r, B.centre_offset_m));
  const rail = round(draw(r, B.rail_height_m));
  const seam = r.chance(B.seam_probability) ? round(aim[0] + r.uniform(-0.15, 0.15)) : null;
  return {
    width_m: width,
    centre_y_m: centre,
    rail_height_m: rail,
    seam_x_m: seam,
    wear: round(draw(r, B.wear)),
    dirt: round(draw(r, B.dirt)),
    pattern_offset_m: [round(r.uniform(0, 100)), round(r.uniform(0, 100))],
  };
}

/** Nominal colours of each distractor kind (sRGB): what such things usually are. */
const DISTRACTOR_COLOURS: Record<string, [number, number, number][]> = {
  cable: [
    [0.92, 0.92, 0.9],
    [0.08, 0.08, 0.08],
    [0.2, 0.35, 0.8],
  ],
  charger: [
    [0.93, 0.93, 0.92],
    [0.1, 0.1, 0.1],
  ],
  screw: [
    [0.62, 0.63, 0.65],
    [0.15, 0.15, 0.16],
  ],
  cardboard: [
    [0.62, 0.47, 0.3],
    [0.72, 0.6, 0.45],
  ],
  earbuds_case: [
    [0.95, 0.95, 0.94],
    [0.12, 0.12, 0.12],
  ],
  // Other makers' phones: the backs they usually come in.
  generic_phone: [
    [0.1, 0.1, 0.11],
    [0.85, 0.86, 0.88],
    [0.15, 0.25, 0.5],
    [0.35, 0.55, 0.45],
    [0.55, 0.2, 0.25],
  ],
};

/**
 * The frame's clutter: `distractors.count` things of the spec's kinds, each at a distance from
 * the product of clearance plus a spread, a random bearing and yaw, a scale and a usual colour;
 * a cable also gets a wiggly path. Drawn on its own stream (none when the count is 0).
 */
function planDistractors(spec: JobSpec, ctx: PlanContext, r: Stream, product: [number, number]): NonNullable<FramePlan['distractors']> {
  const D = spec.distractors;
  if (!D) return [];
  const n = Math.round(draw(r, D.count));
  const extra = ctx.distractorProducts ?? [];
  return Array.from({ length: n }, () => {
    // The spec's products join the kinds (the pick is the same as before when it names none).
    const k = extra.length ? Math.floor(r.uniform(0, D.kinds.length + extra.length)) : -1;
    const entry = k >= D.kinds.length ? extra[k - D.kinds.length] : undefined;
    const kind: (typeof D.kinds)[number] = k >= 0 ? (D.kinds[Math.min(k, D.kinds.length - 1)] ?? 'cable') : r.pick(D.kinds);
    const dist = draw(r, D.clearance_m) + draw(r, D.spread_m);
    const bearing = r.uniform(0, 2 * Math.PI);
    const at: [number, number] = [round(product[0] + Math.cos(bearing) * dist), round(product[1] + Math.sin(bearing) * dist)];
    if (entry) {
      const c = r.pick(entry.palette);
      const yaw = round(r.uniform(0, 360));
      return {
        kind: 'product' as const,
        offset_m: at,
        yaw_deg: yaw,
        scale: 1,
        srgb: round3(c.rgb),
        path_m: [],
        product: {
          asset: entry.asset,
          model: entry.id,
          color: { name: c.name, srgb: round3(c.rgb), nominal_srgb: round3(c.rgb) },
          side_up: r.chance(0.5) ? ('back' as const) : ('front' as const),
          source: entry.source,
          yaw_deg: yaw,
          offset_m: at,
        },
      };
    }
    const colours: [number, number, number][] = DISTRACTOR_COLOURS[kind] ?? [[0.5, 0.5, 0.5]];
    const srgb = r.pick(colours);
    const scale = round(draw(r, D.scale));
    const yaw = round(r.uniform(0, 360));
    const path_m: [number, number][] = [];
    if (kind === 'cable') {
      // A cable 0.25-0.45 m long, bending as it lies.
      const length = r.uniform(0.25, 0.45) * scale;
      let heading = r.uniform(0, 2 * Math.PI);
      let x = 0;
      let y = 0;
      const points: [number, number][] = [[0, 0]];
      for (let k = 1; k < 8; k++) {
        heading += r.uniform(-0.9, 0.9);
        x += (Math.cos(heading) * length) / 7;
        y += (Math.sin(heading) * length) / 7;
        points.push([x, y]);
      }
      const cx = points.reduce((a, p) => a + p[0], 0) / points.length;
      const cy = points.reduce((a, p) => a + p[1], 0) / points.length;
      for (const p of points) path_m.push([round(Math.max(-1, Math.min(1, p[0] - cx))), round(Math.max(-1, Math.min(1, p[1] - cy)))]);
    }
    return {
      kind,
      offset_m: at,
      yaw_deg: yaw,
      scale,
      srgb: round3(srgb),
      path_m,
      ...(kind === 'generic_phone' ? { screen_up: r.chance(0.5) } : {}),
    };
  });
}

/** Case colours by kind (sRGB): silicone in the usual colours, a clear one, leathers. */
const CASE_COLOURS: Record<string, [number, number, number][]> = {
  silicone: [
    [0.12, 0.2, 0.55],
    [0.08, 0.08, 0.09],
    [0.7, 0.1, 0.12],
    [0.9, 0.62, 0.68],
    [0.25, 0.45, 0.3],
    [0.92, 0.9, 0.86],
    [0.95, 0.55, 0.15],
  ],
  clear: [[0.96, 0.96, 0.96]],
  wallet: [
    [0.1, 0.08, 0.07],
    [0.42, 0.24, 0.12],
    [0.55, 0.1, 0.12],
    [0.14, 0.2, 0.35],
  ],
  leather: [
    [0.35, 0.2, 0.1],
    [0.09, 0.07, 0.06],
    [0.6, 0.42, 0.25],
  ],
};

type Condition = NonNullable<FramePlan['product']['condition']>;

/**
 * A builtin phone's case (stream `rc`) and wear (stream `rw`), or undefined when as new. A wallet
 * case is closed over the screen: a lit or cracked screen is not there to see (the draws stay
 * as they were, so the rest of the wear is the same with any case).
 */
function planPhoneCondition(spec: JobSpec, rc: Stream, rw: Stream, builtin: boolean): Condition | undefined {
  const c: Condition = { ...planCondition(spec, rc, builtin), ...planWear(spec, rw, builtin) };
  if (c.case?.kind === 'wallet') {
    delete c.screen;
    delete c.crack;
  }
  return Object.keys(c).length ? c : undefined;
}

/** The phone's condition: a case with `case_probability` (builtin phones), drawn on its own stream. */
function planCondition(spec: JobSpec, r: Stream, builtin: boolean): Pick<Condition, 'case'> {
  const c = spec.product.condition;
  if (!c || !builtin || c.case_probability <= 0 || !r.chance(c.case_probability)) return {};
  const kind = r.pick(c.case_kinds);
  return { case: { kind, srgb: round3(r.pick(CASE_COLOURS[kind] ?? [[0.5, 0.5, 0.5]])) } };
}

/** Wallpaper colours of a lit screen (sRGB): the usual dark and bright gradients. */
const WALLPAPERS: [[number, number, number], [number, number, number]][] = [
  [
    [0.05, 0.1, 0.35],
    [0.55, 0.2, 0.6],
  ],
  [
    [0.9, 0.45, 0.2],
    [0.95, 0.8, 0.4],
  ],
  [
    [0.1, 0.35, 0.3],
    [0.6, 0.85, 0.7],
  ],
  [
    [0.02, 0.02, 0.03],
    [0.25, 0.25, 0.3],
  ],
];
const STICKER_COLOURS: [number, number, number][] = [
  [0.95, 0.95, 0.93],
  [0.98, 0.85, 0.2],
  [0.85, 0.85, 0.88],
];

/**
 * A phone's wear (builtin phones): a lit screen, a crack, a sticker, each with its spec's
 * probability, all from the `wear` stream (nothing drawn when the spec names none).
 */
function planWear(spec: JobSpec, r: Stream, builtin: boolean): Omit<Condition, 'case'> {
  const c = spec.product.condition;
  if (!c || !builtin) return {};
  const out: Omit<Condition, 'case'> = {};
  const P = (p: number | undefined) => (p ?? 0) > 0 && r.chance(p ?? 0);
  if (P(c.screen_on_probability)) {
    const [a, b] = r.pick(WALLPAPERS);
    out.screen = { wallpaper: [round3(a), round3(b)] };
  }
  if (P(c.crack_probability)) {
    const clamp = (v: number) => round(Math.max(-0.46, Math.min(0.46, v)), 4);
    const impact: [number, number] = [clamp(r.uniform(-0.3, 0.3)), clamp(r.uniform(-0.35, 0.35))];
    const n = 4 + Math.floor(r.uniform(0, 6));
    const lines: [number, number][][] = [];
    for (let k = 0; k < n; k++) {
      // A ray from the impact, bending a little at each step, in screen fractions (the screen is
      // about twice as tall as wide: steps in y are halved to keep the pattern round).
      let angle = (2 * Math.PI * (k + r.uniform(-0.3, 0.3))) / n;
      let [x, y] = impact;
      const steps = 3 + Math.floor(r.uniform(0, 4));
      const length = r.uniform(0.12, 0.4);
      const line: [number, number][] = [[x, y]];
      for (let j = 0; j < steps; j++) {
        angle += r.uniform(-0.4, 0.4);
        x = clamp(x + (Math.cos(angle) * length) / steps);
        y = clamp(y + (Math.sin(angle) * length) / steps / 2);
        line.push([x, y]);
      }
      lines.push(line);
    }
    out.crack = { impact, lines };
  }
  if (P(c.sticker_probability)) {
    const tag = r.chance(0.5);
    const size: [number, number] = tag
      ? [round(r.uniform(0.025, 0.04)), round(r.uniform(0.01, 0.016))]
      : [round(r.uniform(0.015, 0.03)), round(r.uniform(0.015, 0.03))];
    out.sticker = {
      side: r.chance(0.75) ? 'back' : 'front',
      center: [round(r.uniform(-0.2, 0.2), 4), round(r.uniform(-0.3, 0.3), 4)],
      size_m: size,
      srgb: round3(r.pick(STICKER_COLOURS)),
      stripes: tag ? 12 + Math.floor(r.uniform(0, 12)) : 0,
    };
  }
  if (P(c.scratch_probability)) {
    const n = 4 + Math.floor(r.uniform(0, 14));
    const at = () => round(r.uniform(-0.45, 0.45), 4);
    const lines = Array.from({ length: n }, () => {
      const [x, y] = [at(), at()];
      const angle = r.uniform(0, Math.PI);
      const len = r.uniform(0.05, 0.35);
      const clamp = (v: number) => round(Math.max(-0.48, Math.min(0.48, v)), 4);
      return [
        [x, y],
        [clamp(x + Math.cos(angle) * len), clamp(y + (Math.sin(angle) * len) / 2)],
      ] as [[number, number], [number, number]];
    });
    out.scratches = { strength: round(r.uniform(0.3, 1)), lines };
  }
  if (P(c.dust_probability))
    out.dust = { strength: round(r.uniform(0.3, 1)), pattern_offset: [round(r.uniform(0, 100)), round(r.uniform(0, 100))] };
  return out;
}
