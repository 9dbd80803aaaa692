/**
 * COCO's uncompressed run-length encoding of a binary mask: runs over the pixels in column-major
 * order (down each column, left to right), starting with a run of 0s (possibly empty), then
 * alternating. `size` is [height, width], as pycocotools writes it.
 */
export interface CocoRle {
  size: [number, number];
  counts: number[];
}

/** The RLE of the pixels of `mask` (row-major, `channels` bytes a pixel) whose first channel is not 0. */
export function encodeRle(mask: Uint8Array, width: number, height: number, channels = 1): CocoRle {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const on = (mask[(y * width + x) * channels] ?? 0) !== 0 ? 1 : 0;
      if (on !== current) {
        counts.push(run);
        run = 0;
        current = on;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** The mask (row-major, one byte a pixel: 1 or 0) an RLE describes; throws on a malformed one. */
export function decodeRle(rle: CocoRle): Uint8Array {
  const [height, width] = rle.size;
  const out = new Uint8Array(width * height);
  let i = 0;
  let value = 0;
  for (const n of rle.counts) {
    if (!Number.isInteger(n) || n < 0 || i + n > width * height) throw new Error('RLE counts do not fit its size');
    for (let k = 0; k < n; k++, i++) {
      if (value) out[(i % height) * width + Math.floor(i / height)] = 1;
    }
    value ^= 1;
  }
  if (i !== width * height) throw new Error(`RLE counts cover ${i} pixels, its size ${width * height}`);
  return out;
}

/** Pixels set in an RLE. */
export function rleArea(rle: CocoRle): number {
  return rle.counts.reduce((n, c, i) => (i % 2 === 1 ? n + c : n), 0);
}
