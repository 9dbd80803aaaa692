import sharp from 'sharp';
import { Stream } from '@synthline/base';
import type { FramePlan, ImageFormat } from '@synthline/spec';

/** An 8-bit RGB image in memory. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Decodes an image file to 8-bit RGB; throws if it does not decode. */
export async function decodeRgb(path: string): Promise<RawImage> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${path}: expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const toSrgb = (c: number) => (c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055);
const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Exposure in stops, applied in linear light through a lookup table. */
function exposureLut(ev: number): Uint8Array {
  const gain = 2 ** ev;
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = Math.round(clamp(toSrgb(toLinear(i / 255) * gain), 0, 1) * 255);
  return lut;
}

/** Standard normal draws (Box-Muller), two per pair of uniforms. */
function gaussians(r: Stream, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r.float();
    const v = r.float();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * Applies the plan's sensor effects in camera order: exposure, blur (optics), grain (film-like,
 * blobs of `grain_size_px`, luminance only), read noise (per pixel and channel). Every random
 * pattern comes from the plan's sensor seed, so the same plan gives the same pixels.
 */
export async function applySensor(img: RawImage, s: FramePlan['sensor']): Promise<RawImage> {
  const { width, height } = img;
  let data: Buffer = Buffer.from(img.data);
  if (s.exposure_ev !== 0) {
    const lut = exposureLut(s.exposure_ev);
    for (let i = 0; i < data.length; i++) data[i] = lut[data[i] ?? 0] ?? 0;
  }
  if (s.blur_sigma_px >= 0.3) {
    // libvips needs sigma >= 0.3; below that a blur changes nothing visible.
    data = await sharp(data, { raw: { width, height, channels: 3 } })
      .blur(s.blur_sigma_px)
      .raw()
      .toBuffer();
  }
  if (s.grain_strength > 0 || s.noise_sigma > 0) {
    const r = new Stream(s.seed, 0, 'sensor-noise');
    const f = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) f[i] = (data[i] ?? 0) / 255;
    if (s.grain_strength > 0) addGrain(f, width, height, s.grain_strength, Math.max(1, s.grain_size_px), r);
    if (s.noise_sigma > 0) {
      const g = gaussians(r, f.length);
      for (let i = 0; i < f.length; i++) f[i] = (f[i] ?? 0) + (g[i] ?? 0) * s.noise_sigma;
    }
    for (let i = 0; i < f.length; i++) data[i] = Math.round(clamp(f[i] ?? 0, 0, 1) * 255);
  }
  return { data, width, height };
}

/** Adds a smooth noise field sampled on a grid `size` pixels apart, equal on all channels. */
function addGrain(f: Float32Array, width: number, height: number, strength: number, size: number, r: Stream): void {
  const gw = Math.ceil(width / size) + 2;
  const gh = Math.ceil(height / size) + 2;
  const grid = gaussians(r, gw * gh);
  for (let y = 0; y < height; y++) {
    const gy = y / size;
    const y0 = Math.floor(gy);
    const ty = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / size;
      const x0 = Math.floor(gx);
      const tx = gx - x0;
      const a = grid[y0 * gw + x0] ?? 0;
      const b = grid[y0 * gw + x0 + 1] ?? 0;
      const c = grid[(y0 + 1) * gw + x0] ?? 0;
      const d = grid[(y0 + 1) * gw + x0 + 1] ?? 0;
      const v = ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty) * strength;
      const i = (y * width + x) * 3;
      f[i] = (f[i] ?? 0) + v;
      f[i + 1] = (f[i + 1] ?? 0) + v;
      f[i + 2] = (f[i + 2] ?? 0) + v;
    }
  }
}

/** Encodes RGB pixels; no metadata is written, so equal pixels give equal bytes. */
export async function encode(img: RawImage, format: ImageFormat, quality: number): Promise<Buffer> {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  switch (format) {
    case 'png':
      return s.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
    case 'jpeg':
      return s.jpeg({ quality, mozjpeg: false }).toBuffer();
    case 'webp':
      return s.webp({ quality, effort: 2 }).toBuffer();
  }
}
