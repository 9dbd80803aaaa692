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

/** A grid of thumbnails captioned under each one, as JPEG. */
export async function contactSheet(tiles: Tile[], thumb = 192): Promise<Buffer> {
  const cols = Math.max(1, Math.ceil(Math.sqrt(tiles.length)));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const captionH = 34;
  const pad = 4;
  const cellW = thumb + pad;
  const cellH = thumb + captionH + pad;
  const layers: sharp.OverlayOptions[] = [];
  let svg = '';
  for (const [i, t] of tiles.entries()) {
    const x = (i % cols) * cellW + pad / 2;
    const y = Math.floor(i / cols) * cellH + pad / 2;
    const input = await sharp(t.image).resize(thumb, thumb, { fit: 'contain', background: '#000' }).png().toBuffer();
    layers.push({ input, left: x, top: y });
    t.caption.slice(0, 2).forEach((line, j) => {
      svg += `<text x="${x + 3}" y="${y + thumb + 14 + j * 15}">${escapeXml(line.slice(0, 32))}</text>`;
    });
  }
  const width = cols * cellW;
  const height = rows * cellH;
  const text = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<style>text{font-family:'DejaVu Sans',sans-serif;font-size:12px;fill:#eee}</style>${svg}</svg>`,
  );
  return sharp({ create: { width, height, channels: 3, background: '#1c1c1c' } })
    .composite([...layers, { input: text, left: 0, top: 0 }])
    .jpeg({ quality: 88 })
    .toBuffer();
}
