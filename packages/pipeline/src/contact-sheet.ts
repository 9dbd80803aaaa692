import sharp from 'sharp';

/** One tile of a contact sheet: an encoded image and up to two caption lines. */
export interface Tile {
  image: Buffer;
  caption: string[];
}

/** How many tiles a contact sheet shows at most. */
export const CONTACT_SHEET_TILES = 36;

/** `n` indices spread evenly over a list of `total` items, first and last included. */
export function spread(total: number, n = CONTACT_SHEET_TILES): number[] {
  if (total <= n) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** A grid of thumbnails captioned under each one, as JPEG; captions are cut to the thumbnail's width. */
export async function contactSheet(tiles: Tile[], thumb = 192): Promise<Buffer> {
  const cols = Math.max(1, Math.ceil(Math.sqrt(tiles.length)));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const captionH = 34;
  const pad = 4;
  const cellW = thumb + pad;
  const cellH = thumb + captionH + pad;
  const width = cols * cellW;
  const height = rows * cellH;
  // The grid is drawn into one raw canvas here: compositing dozens of layers in libvips costs
  // more than the copying.
  const canvas = Buffer.alloc(width * height * 3, 0x1c);
  const fontPx = thumb < 160 ? 10 : 12;
  const chars = Math.floor(thumb / (fontPx * 0.6));
  let svg = '';
  for (const [i, t] of tiles.entries()) {
    const x = (i % cols) * cellW + pad / 2;
    const y = Math.floor(i / cols) * cellH + pad / 2;
    const px = await sharp(t.image).resize(thumb, thumb, { fit: 'contain', background: '#000' }).removeAlpha().raw().toBuffer();
    for (let row = 0; row < thumb; row++) px.copy(canvas, ((y + row) * width + x) * 3, row * thumb * 3, (row + 1) * thumb * 3);
    t.caption.slice(0, 2).forEach((line, j) => {
      svg += `<text x="${x + 3}" y="${y + thumb + 14 + j * 15}">${escapeXml(line.slice(0, chars))}</text>`;
    });
  }
  const text = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<style>text{font-family:'DejaVu Sans',sans-serif;font-size:${fontPx}px;fill:#eee}</style>${svg}</svg>`,
  );
  return sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: text, left: 0, top: 0 }])
    .jpeg({ quality: 88 })
    .toBuffer();
}
