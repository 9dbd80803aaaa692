import { inflateSync } from 'node:zlib';
import type { RawImage } from './effects.ts';

/** The PNG signature's first four bytes. */
const SIGNATURE = 0x89504e47;
/** Ancillary chunks that do not change an image's pixels as libvips loads them. */
const NEUTRAL = new Set(['pHYs', 'oFFs', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'eXIf']);
/** Larger images are left to libvips (its own limits apply). */
const MAX_PIXELS = 64 * 1024 * 1024;

/** A PNG that claims to be the plain kind but whose data is broken (truncated, corrupt). */
export class PngDataError extends Error {
  override name = 'PngDataError';
}

/**
 * Decodes the PNG Blender writes (8-bit RGB, not interlaced, no colour profile, gamma or
 * transparency chunk) straight to RGB pixels: an inflate of its stored blocks and the row filters
 * undone, without libvips' pipeline (half its time) or a trip through the thread pool. The pixels
 * equal libvips' for such a file. Anything else (another depth or colour type, interlacing, a
 * chunk that could change the pixels) gives `undefined`, for libvips to decode. Broken data
 * (a truncated file, a bad checksum, the wrong amount of pixel data) throws {@link PngDataError}.
 */
export function decodePlainPng(buf: Buffer): RawImage | undefined {
  if (buf.length < 8 + 25 || buf.readUInt32BE(0) !== SIGNATURE || buf.readUInt32BE(4) !== 0x0d0a1a0a) return undefined;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  let idatBytes = 0;
  let ended = false;
  for (let o = 8; o + 12 <= buf.length; ) {
    const len = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    const end = o + 12 + len;
    if (end > buf.length) throw new PngDataError(`the ${type} chunk runs past the end of the file (truncated?)`);
    if (o === 8) {
      // IHDR: width, height, bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace.
      if (type !== 'IHDR' || len !== 13) throw new PngDataError('the first chunk is not a 13-byte IHDR');
      width = buf.readUInt32BE(o + 8);
      height = buf.readUInt32BE(o + 12);
      const [depth, colour, compression, filter, interlace] = buf.subarray(o + 16, o + 21);
      if (depth !== 8 || colour !== 2 || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) return undefined;
    } else if (type === 'IDAT') {
      idat.push(buf.subarray(o + 8, o + 8 + len));
      idatBytes += len;
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (!NEUTRAL.has(type)) return undefined;
    o = end;
  }
  if (!ended) throw new PngDataError('no IEND chunk (truncated?)');
  const stride = width * 3;
  const rows = (stride + 1) * height;
  let raw: Buffer;
  try {
    // inflate checks the stream's Adler-32: corrupt pixel data throws here; and it stops past the
    // size the header gives (no inflating a hostile stream without bound).
    raw = inflateSync(idat.length === 1 ? (idat[0] as Buffer) : Buffer.concat(idat, idatBytes), {
      chunkSize: rows + 1024,
      maxOutputLength: rows + 1,
    });
  } catch (err) {
    throw new PngDataError(`the image data does not inflate: ${(err as Error).message}`);
  }
  if (raw.length !== rows) throw new PngDataError(`the image data holds ${raw.length} bytes where ${width}x${height} RGB needs ${rows}`);
  return { data: unfilter(raw, stride, height), width, height };
}

/** Undoes PNG's per-row filters (none, sub, up, average, Paeth) of 3-byte pixels. */
function unfilter(raw: Buffer, stride: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(stride * height);
  for (let y = 0; y < height; y++) {
    const s = y * (stride + 1) + 1; // this row's first data byte in `raw`
    const d = y * stride; // and in `out`
    const p = d - stride; // the row above in `out` (only read when y > 0)
    const filter = raw[s - 1];
    if (filter === 0 || (filter === 2 && y === 0)) {
      raw.copy(out, d, s, s + stride);
    } else if (filter === 1 || (filter === 4 && y === 0)) {
      // Sub; Paeth on the first row is Sub (its above and upper-left are 0).
      for (let x = 0; x < 3; x++) out[d + x] = raw[s + x] as number;
      for (let x = 3; x < stride; x++) out[d + x] = ((raw[s + x] as number) + (out[d + x - 3] as number)) & 255;
    } else if (filter === 2) {
      for (let x = 0; x < stride; x++) out[d + x] = ((raw[s + x] as number) + (out[p + x] as number)) & 255;
    } else if (filter === 3 && y === 0) {
      for (let x = 0; x < 3; x++) out[d + x] = raw[s + x] as number;
      for (let x = 3; x < stride; x++) out[d + x] = ((raw[s + x] as number) + ((out[d + x - 3] as number) >> 1)) & 255;
    } else if (filter === 3) {
      for (let x = 0; x < 3; x++) out[d + x] = ((raw[s + x] as number) + ((out[p + x] as number) >> 1)) & 255;
      for (let x = 3; x < stride; x++)
        out[d + x] = ((raw[s + x] as number) + (((out[d + x - 3] as number) + (out[p + x] as number)) >> 1)) & 255;
    } else if (filter === 4) {
      for (let x = 0; x < 3; x++) out[d + x] = ((raw[s + x] as number) + (out[p + x] as number)) & 255;
      for (let x = 3; x < stride; x++) {
        const a = out[d + x - 3] as number;
        const b = out[p + x] as number;
        const c = out[p + x - 3] as number;
        const pa = b > c ? b - c : c - b; // |p - a| where p = a + b - c
        const pb = a > c ? a - c : c - a;
        const pc = a + b - c - c > 0 ? a + b - c - c : c + c - a - b;
        out[d + x] = ((raw[s + x] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
    } else {
      throw new PngDataError(`row ${y} has filter type ${filter}, which PNG does not define`);
    }
  }
  return out;
}
