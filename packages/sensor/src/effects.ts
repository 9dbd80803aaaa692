import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { Stream } from '@synthline/base';
import type { FramePlan, ImageFormat } from '@synthline/spec';
import { decodePlainPng } from './png.ts';

/** An 8-bit RGB image in memory. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes an image file to 8-bit RGB; throws if it does not decode. The file is read at once
 * (this runs on a SensorPool thread); Blender's plain 8-bit RGB PNG is decoded here
 * ({@link decodePlainPng}), anything else by libvips.
 */
export async function decodeRgb(path: string): Promise<RawImage> {
  const file = readFileSync(path);
  const plain = decodePlainPng(file);
  if (plain) return plain;
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
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

/**
 * Applies the plan's sensor effects in camera order: exposure, blur (optics), vignetting (the
 * lens), grain (film-like, blobs of `grain_size_px`, luminance only), read noise (per pixel and
 * channel), then the camera's processing: a white-balance error and its JPEG compression (these
 * three only where the plan has them). Every random
 * pattern comes from the plan's sensor seed, so the same plan gives the same pixels.
 *
 * The arithmetic is fixed: each value is a float32 (`Math.fround`) after each step, as when it
 * lived in a Float32Array, and the normal draws come in one order (the grain's grid first, then
 * one per channel value), so these bytes equal those of every earlier release for the same plan.
 */
export async function applySensor(img: RawImage, s: FramePlan['sensor']): Promise<RawImage> {
  const { width, height } = img;
  let data: Buffer = Buffer.from(img.data);
  if (s.exposure_ev !== 0) {
    const lut = exposureLut(s.exposure_ev);
    for (let i = 0; i < data.length; i++) data[i] = lut[data[i] as number] as number;
  }
  if (s.blur_sigma_px >= 0.3) {
    // libvips needs sigma >= 0.3; below that a blur changes nothing visible.
    data = await sharp(data, { raw: { width, height, channels: 3 } })
      .blur(s.blur_sigma_px)
      .raw()
      .toBuffer();
  }
  if (s.vignette) vignette(data, width, height, s.vignette);
  if (s.grain_strength > 0 || s.noise_sigma > 0) addNoise(data, width, height, s);
  if (s.white_balance_gain) whiteBalance(data, s.white_balance_gain);
  if (s.jpeg_quality) data = await jpegRoundTrip(data, width, height, s.jpeg_quality);
  return { data, width, height };
}

/**
 * Lens vignetting, in linear light: a pixel's light falls with the square of its distance from
 * the centre, by `strength` at the corners. In place; before the sensor's grain and noise, as the
 * lens comes before the sensor.
 */
function vignette(data: Buffer, width: number, height: number, strength: number): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const corner = cx * cx + cy * cy || 1;
  const lin = new Float64Array(256);
  for (let i = 0; i < 256; i++) lin[i] = toLinear(i / 255);
  for (let y = 0, i = 0; y < height; y++) {
    const dy = (y - cy) * (y - cy);
    for (let x = 0; x < width; x++, i += 3) {
      const gain = 1 - (strength * ((x - cx) * (x - cx) + dy)) / corner;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(clamp(toSrgb((lin[data[i + c] as number] as number) * gain), 0, 1) * 255);
    }
  }
}

/** A white-balance error: per-channel gains in linear light, through one lookup table per channel. In place. */
function whiteBalance(data: Buffer, gain: [number, number, number]): void {
  const luts = gain.map((g) => {
    const lut = new Uint8Array(256);
    for (let i = 0; i < 256; i++) lut[i] = Math.round(clamp(toSrgb(toLinear(i / 255) * g), 0, 1) * 255);
    return lut;
  });
  for (let i = 0; i < data.length; i += 3) {
    for (let c = 0; c < 3; c++) data[i + c] = (luts[c] as Uint8Array)[data[i + c] as number] as number;
  }
}

/** The camera's own JPEG compression: encoded at `quality` and decoded back (its blocks and ringing stay). */
async function jpegRoundTrip(data: Buffer, width: number, height: number, quality: number): Promise<Buffer> {
  const jpeg = await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
  return sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer();
}

/** `fround(k / 255)` for each byte k: a channel value as a float32 in [0, 1]. */
const UNIT = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/**
 * A float32 channel value back to a byte: `Math.round(clamp(f, 0, 1) * 255)`, without
 * `Math.round` (about 15 times slower here than the add and truncation). The same result for
 * every float32 f: the product of a float32 and 255 is exact in a double (32 significant bits),
 * so `x + 0.5` is exact too wherever it could reach the next integer, and truncating it is
 * rounding half up, as `Math.round` rounds a non-negative number.
 */
export const toByte = (f: number): number => ((f < 0 ? 0 : f > 1 ? 1 : f) * 255 + 0.5) | 0;

/**
 * Grain, then read noise, in one pass over the pixels, in place. Grain is a smooth field sampled
 * on a grid `grain_size_px` apart (bilinear), equal on all channels; read noise one normal draw
 * per channel value.
 */
function addNoise(data: Buffer, width: number, height: number, s: FramePlan['sensor']): void {
  const r = new Stream(s.seed, 0, 'sensor-noise');
  const fround = Math.fround;
  // Module-level constants as locals: V8's optimised code checks a module binding at each use.
  const unit = UNIT;
  const byte = toByte;
  const grain = s.grain_strength > 0;
  const strength = s.grain_strength;
  const size = Math.max(1, s.grain_size_px);
  const gw = Math.ceil(width / size) + 2;
  let grid = new Float32Array(0);
  const x0s = new Int32Array(width);
  const txs = new Float64Array(width);
  if (grain) {
    grid = new Float32Array(gw * (Math.ceil(height / size) + 2));
    r.fillNormals(grid);
    for (let x = 0; x < width; x++) {
      const gx = x / size;
      const x0 = Math.floor(gx);
      x0s[x] = x0;
      txs[x] = gx - x0;
    }
  }
  const sigma = s.noise_sigma;
  const noisy = sigma > 0;
  // The noise draws come in blocks of whole rows (an even count, so that no Box-Muller pair is
  // split between blocks: the last block alone may be odd, as the whole image's count may be).
  const perRow = width * 3;
  let rowsPerBlock = Math.max(1, Math.floor(8192 / perRow));
  if (perRow % 2 === 1 && rowsPerBlock % 2 === 1) rowsPerBlock++;
  const block = new Float32Array(noisy ? Math.min(rowsPerBlock, height) * perRow : 0);
  for (let y = 0, i = 0; y < height; y++) {
    let j = (y % rowsPerBlock) * perRow; // this row's first draw in the block
    if (noisy && j === 0) r.fillNormals(block.subarray(0, Math.min(rowsPerBlock, height - y) * perRow));
    const gy = y / size;
    const y0 = Math.floor(gy);
    const ty = gy - y0;
    for (let x = 0; x < width; x++, i += 3, j += 3) {
      let v = 0;
      if (grain) {
        const x0 = x0s[x] as number;
        const tx = txs[x] as number;
        const k = y0 * gw + x0;
        const a = grid[k] as number;
        const b = grid[k + 1] as number;
        const c = grid[k + gw] as number;
        const d = grid[k + gw + 1] as number;
        v = ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty) * strength;
      }
      let f0 = unit[data[i] as number] as number;
      let f1 = unit[data[i + 1] as number] as number;
      let f2 = unit[data[i + 2] as number] as number;
      if (grain) {
        f0 = fround(f0 + v);
        f1 = fround(f1 + v);
        f2 = fround(f2 + v);
      }
      if (noisy) {
        f0 = fround(f0 + (block[j] as number) * sigma);
        f1 = fround(f1 + (block[j + 1] as number) * sigma);
        f2 = fround(f2 + (block[j + 2] as number) * sigma);
      }
      data[i] = byte(f0);
      data[i + 1] = byte(f1);
      data[i + 2] = byte(f2);
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
