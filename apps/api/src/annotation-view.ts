import sharp from 'sharp';

/** Colours of instances 1, 2, ... (then round again): distinct on a dark belt. */
const PALETTE: [number, number, number][] = [
  [255, 196, 0],
  [0, 200, 255],
  [255, 64, 160],
  [120, 230, 60],
  [170, 110, 255],
  [255, 120, 40],
];

/**
 * What an annotation's values look like to a person, as RGBA over the picture: a mask tinted,
 * instance k in the k-th palette colour, depth from near (bright) to far (dark) across the
 * frame's own range. Pure: `values` one sample per pixel (8-bit mask, 16-bit mm or ids).
 */
export function overlayPixels(kind: 'mask' | 'depth' | 'instances', values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  if (kind === 'depth')
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? 0;
      if (v > 0 && v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const span = Math.max(1, hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v === 0) continue; // nothing there: transparent
    let rgb: [number, number, number];
    let alpha = 150;
    if (kind === 'mask') rgb = [255, 196, 0];
    else if (kind === 'instances') rgb = PALETTE[(v - 1) % PALETTE.length] ?? [255, 255, 255];
    else {
      const g = Math.round(255 * (1 - (v - lo) / span));
      rgb = [g, g, Math.min(255, g + 40)];
      alpha = 230;
    }
    out[i * 4] = rgb[0];
    out[i * 4 + 1] = rgb[1];
    out[i * 4 + 2] = rgb[2];
    out[i * 4 + 3] = alpha;
  }
  return out;
}

/** An annotation PNG (8-bit mask, 16-bit depth or instance map) as a viewable RGBA PNG. */
export async function overlayPng(kind: 'mask' | 'depth' | 'instances', png: Buffer): Promise<Buffer> {
  const wide = kind !== 'mask';
  const { data, info } = await sharp(png)
    .toColourspace(wide ? 'grey16' : 'b-w')
    .raw(wide ? { depth: 'ushort' } : {})
    .toBuffer({ resolveWithObject: true });
  const values = wide ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
  return sharp(overlayPixels(kind, values), { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toBuffer();
}
