import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { builtinCatalog } from '@synthline/spec';
import { CAPTION_FONT, contactSheet, layoutCaptions, MIN_CAPTION_WIDTH, textWidth } from './contact-sheet.ts';

const SIDES = ['front', 'back'] as const;
/** Every caption a builtin product gets, as the dataset assembler writes them: model id, then "colour / side up". */
const builtinCaptions = builtinCatalog().models.flatMap((m) =>
  m.colors.flatMap((c) => SIDES.map((side) => ({ side, caption: [m.id, `${c.name} / ${side} up`] }))),
);
const longest = (xs: string[]) => xs.reduce((a, b) => (textWidth(b, 10) > textWidth(a, 10) ? b : a));

/** The drawn lines of a caption, with each of its words whole. */
const words = (lines: string[]) => lines.join(' ').split(/\s+/);

for (const width of [16, 72, 96, 128, 192]) {
  test(`at ${width} px tiles every builtin caption fits whole: model, colour and side`, () => {
    const layout = layoutCaptions(
      builtinCaptions.map((c) => c.caption),
      width,
    );
    assert.equal(layout.maxWidth, Math.max(width, MIN_CAPTION_WIDTH) - 6);
    assert.ok(layout.fontPx >= CAPTION_FONT.min && layout.fontPx <= CAPTION_FONT.large);
    for (const [i, { side, caption }] of builtinCaptions.entries()) {
      const lines = layout.lines[i] ?? [];
      for (const line of lines) {
        assert.ok(textWidth(line, layout.fontPx) <= layout.maxWidth, `"${line}" fits ${layout.maxWidth} px at ${layout.fontPx} px`);
      }
      assert.ok(lines.length <= 3, lines.join(' | '));
      assert.ok(words(lines).includes(side), `the side stays whole: ${lines.join(' | ')}`);
      // Nothing is cut: the lines are the caption, possibly wrapped after " / ".
      assert.equal(lines.join(' '), caption.join(' '), lines.join(' | '));
      assert.ok(!lines.some((l) => l.includes('…')));
    }
  });
}

test('the longest builtin names at 96 and 128 px: the colour is whole and the side on a line of its own where it must', () => {
  const model = longest(builtinCatalog().models.map((m) => m.id));
  const colour = longest(builtinCatalog().models.flatMap((m) => m.colors.map((c) => c.name)));
  for (const width of [96, 128]) {
    for (const side of SIDES) {
      const { fontPx, maxWidth, lines } = layoutCaptions([[model, `${colour} / ${side} up`]], width);
      const drawn = lines[0] ?? [];
      assert.ok(fontPx >= 9, `${width} px: readable (${fontPx} px)`);
      for (const line of drawn) assert.ok(textWidth(line, fontPx) <= maxWidth, `${width} px: "${line}" fits`);
      assert.equal(drawn[0], model);
      assert.ok(
        drawn.some((l) => l.includes(colour)),
        `${width} px: ${drawn.join(' | ')}`,
      );
      assert.ok(words(drawn).includes(side), `${width} px: ${drawn.join(' | ')}`);
    }
  }
});

test('a caption too long for any size is cut before the side, never in it', () => {
  const colour = 'An Extraordinarily Long Marketing Colour Name';
  for (const width of [16, 96, 128]) {
    for (const side of SIDES) {
      const { fontPx, maxWidth, lines } = layoutCaptions([['iphone-14-pro-max-ultra-limited-edition', `${colour} / ${side} up`]], width);
      const drawn = lines[0] ?? [];
      assert.equal(fontPx, CAPTION_FONT.min);
      for (const line of drawn) assert.ok(textWidth(line, fontPx) <= maxWidth, `${width} px: "${line}" fits`);
      assert.ok(drawn.includes(`${side} up`), `${width} px: the side whole on its line: ${drawn.join(' | ')}`);
      assert.match(drawn.join(' | '), /An Extra.*… \//, 'the colour is cut with an ellipsis, its start kept');
      assert.match(drawn[0] ?? '', /^iphone-14-pro.*…$/);
    }
  }
  // Lines with no " / " lose their end.
  const plain = layoutCaptions([['x'.repeat(80)]], 96).lines[0]?.[0] ?? '';
  assert.match(plain, /^x+…$/);
});

test('the sheet is drawn at the size the layout asks for, small tiles widened to fit their captions', async () => {
  const image = await sharp({ create: { width: 96, height: 72, channels: 3, background: '#468' } })
    .png()
    .toBuffer();
  const tiles = builtinCaptions.slice(0, 5).map(({ caption }) => ({ image, caption }));
  for (const thumb of [16, 96]) {
    const meta = await sharp(await contactSheet(tiles, thumb)).metadata();
    const layout = layoutCaptions(
      tiles.map((t) => t.caption),
      thumb,
    );
    const lineCount = Math.max(2, ...layout.lines.map((l) => l.length));
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.width, 3 * (Math.max(thumb, MIN_CAPTION_WIDTH) + 4));
    assert.equal(meta.height, 2 * (thumb + lineCount * layout.lineHeight + 8 + 4));
  }
});

test("instance boxes are drawn where the label's boxes are, scaled into the thumbnail", async () => {
  // A grey 200 x 100 image: fitted into a 100 px thumbnail it is scaled by 0.5 and centred
  // vertically (25 px of black above). A box at [40, 20, 100, 60] lands at [20, 35, 50, 30].
  const image = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#404040' } })
    .png()
    .toBuffer();
  const plain = await contactSheet([{ image, caption: ['m', 'c / front up'] }], 100);
  const boxed = await contactSheet([{ image, caption: ['m', 'c / front up'], boxes: [{ box: [40, 20, 100, 60], tag: '1' }] }], 100);
  const raw = async (b: Buffer) => sharp(b).raw().toBuffer({ resolveWithObject: true });
  const a = await raw(plain);
  const b = await raw(boxed);
  const W = b.info.width;
  const at = (buf: Buffer, x: number, y: number) => buf.subarray((y * W + x) * 3, (y * W + x) * 3 + 3);
  const yellowish = (p: Buffer) => (p[0] ?? 0) > 180 && (p[1] ?? 0) > 150 && (p[2] ?? 0) < 120;
  // The tile's image starts at (2, 2): the box's edges at x 22 and 72, y 37 and 67.
  for (const [x, y] of [
    [45, 37],
    [45, 67],
    [22, 55],
    [72, 55],
  ] as const) {
    assert.ok(yellowish(at(b.data, x, y)), `box edge at (${x}, ${y}): ${[...at(b.data, x, y)]}`);
    assert.ok(!yellowish(at(a.data, x, y)), `no box without boxes at (${x}, ${y})`);
  }
  // Inside and outside the box the image is as without it.
  for (const [x, y] of [
    [50, 55],
    [90, 30],
  ] as const)
    assert.ok(Math.abs((at(b.data, x, y)[0] ?? 0) - (at(a.data, x, y)[0] ?? 0)) < 12, `(${x}, ${y}) untouched`);
});
