import {
  KEY_DIGITS,
  hexToRgb,
  productColors,
  type FramePlan,
  type JobSpec,
  type NumericRange,
} from '@synthline/spec';
import { Stream } from './random.ts';
import { jitter, kelvinToRgb } from './colour.ts';

/** The sample key of a frame: its index, zero-padded (keys hold no dots). */
export function frameKey(index: number): string {
  return String(index).padStart(KEY_DIGITS, '0');
}

/** Draws a value of a {@link NumericRange}. */
export function draw(r: Stream, range: NumericRange): number {
  if (typeof range === 'number') return range;
  if (Array.isArray(range)) return r.uniform(range[0], range[1]);
  return r.pick(range.choice);
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));
const round3 = (v: [number, number, number]): [number, number, number] => [round(v[0]), round(v[1]), round(v[2])];

/**
 * Plans frame `index` of a job: pure and counter-based, so the same spec and index give the
 * same plan on any machine, in any order, in any subset. Each group of parameters draws from
 * its own stream so that adding a parameter to one group leaves the others unchanged.
 */
export function plan(spec: JobSpec, index: number): FramePlan {
  if (!Number.isInteger(index) || index < 0 || index >= spec.count) {
    throw new RangeError(`frame index ${index} is outside [0, ${spec.count})`);
  }
  const s = (label: string) => new Stream(spec.seed, index, label);

  const rp = s('product');
  const entry = spec.products[rp.weighted(spec.products.map((p) => p.weight))];
  if (!entry) throw new Error('spec has no products');
  const palette = productColors(entry);
  const colour = rp.pick(palette);
  const nominal = hexToRgb(colour.srgb);
  const cj = spec.product.color_jitter;
  const srgb = jitter(nominal, draw(rp, cj.hue), draw(rp, cj.saturation_scale), draw(rp, cj.value_scale));
  const sideUp = rp.chance(spec.product.face_down_probability) ? 'back' : 'front';
  const yaw = draw(rp, spec.product.yaw_deg);
  const offset: [number, number] = [draw(rp, spec.product.offset_m), draw(rp, spec.product.offset_m)];

  const rc = s('camera');
  const cam = spec.camera;
  const camera = {
    distance_m: round(draw(rc, cam.distance_m)),
    elevation_deg: round(draw(rc, cam.elevation_deg)),
    azimuth_deg: round(draw(rc, cam.azimuth_deg)),
    roll_deg: round(draw(rc, cam.roll_deg)),
    focal_length_mm: round(draw(rc, cam.focal_length_mm)),
    sensor_width_mm: round(draw(rc, cam.sensor_width_mm)),
    look_at_m: [
      round(offset[0] + draw(rc, cam.look_at_jitter_m) * (rc.chance(0.5) ? 1 : -1)),
      round(offset[1] + draw(rc, cam.look_at_jitter_m) * (rc.chance(0.5) ? 1 : -1)),
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
    hdri: rw.pick(spec.world.hdris),
    strength: round(draw(rw, spec.world.strength)),
    rotation_deg: round(draw(rw, spec.world.rotation_deg)),
  };

  const rb = s('background');
  const grey = draw(rb, spec.background.belt_value);
  const tint = rb.uniform(0.9, 1.1);
  const background = {
    kind: 'belt' as const,
    belt_srgb: round3([grey, grey, Math.min(1, grey * tint)]),
    texture_scale: round(draw(rb, spec.background.texture_scale)),
    texture_offset: [round(rb.uniform(0, 100)), round(rb.uniform(0, 100))] as [number, number],
    roughness: round(draw(rb, spec.background.roughness)),
  };

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

  const model = entry.asset.slice('builtin:'.length);
  return {
    index,
    key: frameKey(index),
    product: {
      asset: entry.asset,
      model,
      color: { name: colour.name, srgb: round3(srgb), nominal_srgb: round3(nominal) },
      side_up: sideUp,
      yaw_deg: round(yaw),
      offset_m: [round(offset[0]), round(offset[1])],
    },
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
