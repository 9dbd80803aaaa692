import sharp from 'sharp';

/** One tile of a contact sheet: an encoded image and up to two caption lines. */
export interface Tile {
  image: Buffer;
  /**
   * What the image shows, one line each (at most two are drawn). In a line such as
   * `Midnight Green / back up` the part after the last " / " is what tells look-alike classes
   * apart and is never cut; the part before it gives way first.
   */
  caption: string[];
  /** Boxes to draw over the image ([x, y, w, h] in its pixels), each with a short tag (an instance id). */
  boxes?: { box: [number, number, number, number]; tag: string }[];
}

/** Colours of drawn boxes, by position in the tile's list (instance 1 first). */
const BOX_COLOURS = ['#ffd400', '#00e5ff', '#ff4fd8', '#7dff4f', '#ff8a3d', '#b38cff'];

/** How many tiles a contact sheet shows at most. */
export const CONTACT_SHEET_TILES = 36;

/** `n` indices spread evenly over a list of `total` items, first and last included. */
export function spread(total: number, n = CONTACT_SHEET_TILES): number[] {
  if (total <= n) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** The font captions are drawn in (librsvg through sharp); {@link textWidth} knows its glyph widths. */
const FONT_FAMILY = "'DejaVu Sans',sans-serif";
/** Advance widths of DejaVu Sans Book, in 1/2048 em, for ' ' (U+0020) to '~' (U+007E), from DejaVuSans.ttf's hmtx. */
const ADVANCE = [
  651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303,
  1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532,
  1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260,
  721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303,
  1716,
];
/** Any other character (the ellipsis included) counts as a whole em, as wide as DejaVu Sans' widest glyphs. */
const OTHER_ADVANCE = 2048;
const ELLIPSIS = '…';
/** Kerning and rounding may make drawn text a little wider than the sum of its advances. */
const SLACK = 1.03;

/** Estimated width in pixels of `text` set in the caption font at `fontPx`: deterministic, no font engine asked. */
export function textWidth(text: string, fontPx: number): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    units += code >= 0x20 && code <= 0x7e ? (ADVANCE[code - 0x20] ?? OTHER_ADVANCE) : OTHER_ADVANCE;
  }
  return ((units * fontPx) / 2048) * SLACK;
}

/** Largest and smallest caption font sizes in pixels; the largest for tiles of 160 px and more. */
export const CAPTION_FONT = { large: 12, small: 10, min: 8 } as const;
/** Space left and right of a caption inside its tile. */
const CAPTION_INSET = 3;
/** Captions get at least this width: below it tiles are widened, thumbnails centred in them. */
export const MIN_CAPTION_WIDTH = 96;
/** A caption takes at most this many lines once wrapped. */
const MAX_CAPTION_LINES = 3;
/** Where a caption line may wrap: after " /", the rest (the distinguishing part) going on the next line. */
const SEPARATOR = ' / ';

/** How a sheet's captions are set: one font size for all, each caption's lines as drawn. */
export interface CaptionLayout {
  fontPx: number;
  /** Distance between baselines. */
  lineHeight: number;
  /** The width every line fits in, by {@link textWidth}. */
  maxWidth: number;
  /** Per caption, its lines as drawn. */
  lines: string[][];
}

/**
 * Sets captions under tiles `tileWidth` wide (widened to {@link MIN_CAPTION_WIDTH}), one font
 * size for all. In order of preference: every line whole at the default size (12 px on tiles of
 * 160 px and more, else 10 px) or 1 px smaller; lines that do not fit wrapped after " / "
 * (model; colour; the side on a line of its own), at the largest size down to
 * {@link CAPTION_FONT}.min where that fits; last, at the smallest size, lines that still do not
 * fit cut with an ellipsis, the part before the last " /" first, so that the side stays whole.
 */
export function layoutCaptions(captions: readonly (readonly string[])[], tileWidth: number): CaptionLayout {
  const maxWidth = Math.max(tileWidth, MIN_CAPTION_WIDTH) - 2 * CAPTION_INSET;
  const given = captions.map((c) => c.slice(0, 2));
  const largest = tileWidth >= 160 ? CAPTION_FONT.large : CAPTION_FONT.small;
  const result = (fontPx: number, lines: string[][]): CaptionLayout => ({
    fontPx,
    lineHeight: Math.ceil(fontPx * 1.25),
    maxWidth,
    lines,
  });
  const fitsAt = (fontPx: number) => (line: string) => textWidth(line, fontPx) <= maxWidth;
  for (let fontPx = largest; fontPx >= largest - 1; fontPx--) {
    if (given.every((c) => c.every(fitsAt(fontPx)))) return result(fontPx, given);
  }
  for (let fontPx = largest; fontPx >= CAPTION_FONT.min; fontPx--) {
    const fits = fitsAt(fontPx);
    const wrapped = given.map((c) => wrap(c, fits));
    if (wrapped.every((c) => c.length <= MAX_CAPTION_LINES && c.every(fits))) return result(fontPx, wrapped);
  }
  const fontPx = CAPTION_FONT.min;
  const fits = fitsAt(fontPx);
  return result(
    fontPx,
    given.map((c) => {
      const wrapped = wrap(c, fits);
      return (wrapped.length <= MAX_CAPTION_LINES ? wrapped : c).map((line) => (fits(line) ? line : shorten(line, fits)));
    }),
  );
}

/** The lines of a caption, each that does not fit broken after a " / " (as few times as it can). */
function wrap(caption: readonly string[], fits: (line: string) => boolean): string[] {
  return caption.flatMap((line) => {
    const parts: string[] = [];
    let rest = line;
    // Greedily: the longest head that fits, else the shortest one.
    while (!fits(rest)) {
      const cuts = [...rest.matchAll(/ \/ /g)].map((m) => m.index);
      const at = cuts.findLast((i) => fits(rest.slice(0, i + 2))) ?? cuts[0];
      if (at === undefined) break;
      parts.push(rest.slice(0, at + 2));
      rest = rest.slice(at + SEPARATOR.length);
    }
    parts.push(rest);
    return parts;
  });
}

/**
 * `line` cut with an ellipsis to fit: the text before its last " /" is cut first, what follows
 * stays whole where it can; a line without one loses its end.
 */
function shorten(line: string, fits: (line: string) => boolean): string {
  const at = line.lastIndexOf(' /');
  if (at > 0) {
    const head = [...line.slice(0, at)];
    const tail = line.slice(at);
    for (let n = head.length - 1; n >= 0; n--) {
      const s = `${head.slice(0, n).join('').trimEnd()}${ELLIPSIS}${tail}`;
      if (fits(s)) return s;
    }
  }
  const chars = [...line];
  for (let n = chars.length - 1; n > 0; n--) {
    const s = `${chars.slice(0, n).join('').trimEnd()}${ELLIPSIS}`;
    if (fits(s)) return s;
  }
  return ELLIPSIS;
}

/**
 * A grid of thumbnails, each captioned under it, as JPEG. Thumbnails are `thumb` pixels square;
 * captions are set by {@link layoutCaptions} to fit the tiles.
 */
export async function contactSheet(tiles: Tile[], thumb = 192): Promise<Buffer> {
  const cols = Math.max(1, Math.ceil(Math.sqrt(tiles.length)));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const layout = layoutCaptions(
    tiles.map((t) => t.caption),
    thumb,
  );
  const lineCount = Math.max(2, ...layout.lines.map((l) => l.length));
  const pad = 4;
  const tileW = Math.max(thumb, MIN_CAPTION_WIDTH);
  const captionH = lineCount * layout.lineHeight + 8;
  const cellW = tileW + pad;
  const cellH = thumb + captionH + pad;
  const width = cols * cellW;
  const height = rows * cellH;
  // The grid is drawn into one raw canvas here: compositing dozens of layers in libvips costs
  // more than the copying.
  const canvas = Buffer.alloc(width * height * 3, 0x1c);
  let svg = '';
  for (const [i, t] of tiles.entries()) {
    const x = (i % cols) * cellW + pad / 2;
    const y = Math.floor(i / cols) * cellH + pad / 2;
    const left = x + Math.floor((tileW - thumb) / 2);
    const px = await sharp(t.image).resize(thumb, thumb, { fit: 'contain', background: '#000' }).removeAlpha().raw().toBuffer();
    for (let row = 0; row < thumb; row++) px.copy(canvas, ((y + row) * width + left) * 3, row * thumb * 3, (row + 1) * thumb * 3);
    if (t.boxes?.length) {
      // The image is fitted into the square thumbnail ('contain'): scaled by its longer side, centred.
      const meta = await sharp(t.image).metadata();
      const [iw, ih] = [meta.width ?? thumb, meta.height ?? thumb];
      const k = thumb / Math.max(iw, ih);
      const ox = left + (thumb - Math.round(iw * k)) / 2;
      const oy = y + (thumb - Math.round(ih * k)) / 2;
      t.boxes.forEach(({ box: [bx, by, bw, bh], tag }, j) => {
        const colour = BOX_COLOURS[j % BOX_COLOURS.length];
        const [rx, ry] = [ox + bx * k, oy + by * k];
        svg += `<rect x="${rx.toFixed(1)}" y="${ry.toFixed(1)}" width="${(bw * k).toFixed(1)}" height="${(bh * k).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="1.5"/>`;
        svg += `<text class="tag" x="${(rx + 2).toFixed(1)}" y="${(ry + 9).toFixed(1)}" fill="${colour}">${escapeXml(tag)}</text>`;
      });
    }
    (layout.lines[i] ?? []).forEach((line, j) => {
      const baseline = y + thumb + 3 + layout.fontPx + j * layout.lineHeight;
      svg += `<text x="${x + CAPTION_INSET}" y="${baseline}">${escapeXml(line)}</text>`;
    });
  }
  const text = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<style>text{font-family:${FONT_FAMILY};font-size:${layout.fontPx}px;fill:#eee}text.tag{font-size:9px}</style>${svg}</svg>`,
  );
  return sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: text, left: 0, top: 0 }])
    .jpeg({ quality: 88 })
    .toBuffer();
}
