import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeRgb } from './effects.ts';
import { PngDataError, decodePlainPng } from './png.ts';

const FIXTURES = new URL('../../../bench/fixtures/', import.meta.url);

/** libvips' pixels for a PNG, as decodeRgb gave them before it decoded plain PNGs itself. */
const vips = (png: Buffer) => sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer();

/** Noisy RGB pixels: every filter type wins somewhere when libpng filters adaptively. */
function pixels(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = Math.floor(i / 3) % w;
    const y = Math.floor(i / 3 / w);
    data[i] = (x * 3 + y * 2 + (i % 3) * 60 + (y % 7 === 0 ? s >>> 28 : 0) + (x % 11 === 0 ? s >>> 25 : 0)) & 255;
  }
  return data;
}

/**
 * A PNG of 8-bit RGB pixels whose row `y` uses filter `filterOf(y)`, written here (the filters
 * as the PNG specification defines them) so that each one is covered, the first row included.
 */
function pngWithFilters(data: Buffer, w: number, h: number, filterOf: (y: number) => number): Buffer {
  const stride = w * 3;
  const raw = Buffer.alloc((stride + 1) * h);
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : (data[y * stride + x] as number));
  for (let y = 0; y < h; y++) {
    const f = filterOf(y);
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const [a, b, c] = [at(x - 3, y), at(x, y - 1), at(x - 3, y - 1)];
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f] as number;
      raw[y * (stride + 1) + 1 + x] = (at(x, y) - pred) & 255;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const idat = deflateSync(raw);
  const half = Math.floor(idat.length / 2); // two IDAT chunks, as encoders split them
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('pHYs', Buffer.from([0, 0, 11, 19, 0, 0, 11, 19, 1])),
    chunk('IDAT', idat.subarray(0, half)),
    chunk('IDAT', idat.subarray(half)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A chunk with its CRC (zlib's crc32 is not in Node 20: computed here). */
function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = ~0;
  for (const b of body) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(~c >>> 0, 8 + data.length);
  return out;
}

test("Blender's renders decode to libvips' pixels", async () => {
  for (const name of ['frame-256.png', 'frame-512.png']) {
    const png = readFileSync(new URL(name, FIXTURES));
    const mine = decodePlainPng(png);
    assert.ok(mine, `${name} is a plain 8-bit RGB PNG`);
    assert.ok(mine.data.equals(await vips(png)), `${name}: the same pixels as libvips`);
  }
});

test("Blender 4.3's PNG, with its eXIf, oFFs and tEXt chunks, is the plain kind", async () => {
  // test/fixtures/blender-4.3-16px.png: Debian 13's Blender 4.3 rendering its default scene, 16x16,
  // through blender-scripts' png_settings (3.4 writes no eXIf or oFFs).
  const png = readFileSync(new URL('../../../test/fixtures/blender-4.3-16px.png', import.meta.url));
  const mine = decodePlainPng(png);
  assert.ok(mine, 'decoded without libvips');
  assert.ok(mine.data.equals(await vips(png)));
});

test("every row filter, on the first row and after, decodes to the pixels written and to libvips' pixels", async () => {
  const [w, h] = [61, 47]; // odd sizes: rows that are not a multiple of anything
  const data = pixels(w, h);
  for (let first = 0; first <= 4; first++) {
    // Row 0 takes filter `first` (its row above is zeros); the rest cycle through all five.
    const png = pngWithFilters(data, w, h, (y) => (y === 0 ? first : (y + first) % 5));
    const mine = decodePlainPng(png);
    assert.ok(mine);
    assert.deepEqual([mine.width, mine.height], [w, h]);
    assert.ok(mine.data.equals(data), `first row filter ${first}: the pixels written`);
    assert.ok(mine.data.equals(await vips(png)), `first row filter ${first}: libvips' pixels`);
  }
  for (const compressionLevel of [0, 6, 9]) {
    const png = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .png({ compressionLevel, adaptiveFiltering: true })
      .toBuffer();
    assert.ok(decodePlainPng(png)?.data.equals(data), `libpng's own filters at level ${compressionLevel}`);
  }
});

test('other kinds of PNG are left to libvips, and decodeRgb still decodes them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synthline-png-'));
  const [w, h] = [20, 10];
  const rgb = pixels(w, h);
  const rgba = Buffer.alloc(w * h * 4, 255);
  for (let i = 0; i < w * h; i++) rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
  const kinds: Record<string, Buffer> = {
    rgba: await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toBuffer(),
    interlaced: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png({ progressive: true })
      .toBuffer(),
    sixteen: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer(),
    palette: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png({ palette: true, colours: 8 })
      .toBuffer(),
  };
  // A gamma chunk before the data: could change pixels, so not the plain kind.
  const plain = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
  const gama = Buffer.alloc(4);
  gama.writeUInt32BE(45455, 0);
  kinds.gamma = Buffer.concat([plain.subarray(0, 33), chunk('gAMA', gama), plain.subarray(33)]);
  for (const [name, png] of Object.entries(kinds)) {
    assert.equal(decodePlainPng(png), undefined, `${name} is not the plain kind`);
    const path = join(dir, `${name}.png`);
    await writeFile(path, png);
    const got = await decodeRgb(path);
    assert.deepEqual([got.width, got.height], [w, h]);
    assert.ok(got.data.equals(await vips(png)), `${name}: decodeRgb gives libvips' pixels`);
  }
  assert.equal(decodePlainPng(Buffer.from('not a png at all, just some text here')), undefined);
});

test('a truncated or corrupt plain PNG throws, naming what is wrong', () => {
  const png = readFileSync(new URL('frame-256.png', FIXTURES));
  assert.throws(
    () => decodePlainPng(png.subarray(0, png.length - 5000)),
    (e: Error) => e instanceof PngDataError && /truncated/.test(e.message),
  );
  assert.throws(
    () => decodePlainPng(png.subarray(0, png.length - 12)),
    (e: Error) => e instanceof PngDataError && /no IEND/.test(e.message),
  );
  const corrupt = Buffer.from(png);
  const at = corrupt.length - 200; // inside the last IDAT: the Adler-32 no longer matches
  corrupt.writeUInt8((corrupt[at] as number) ^ 0xff, at);
  assert.throws(
    () => decodePlainPng(corrupt),
    (e: Error) => e instanceof PngDataError && /does not inflate/.test(e.message),
  );
  // Far more data than the header's size (a bomb: 64 MB of zeros behind a 4x4 header) stops early.
  const header = Buffer.alloc(13);
  header.writeUInt32BE(4, 0);
  header.writeUInt32BE(4, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const wrap = (data: Buffer) =>
    Buffer.concat([png.subarray(0, 8), chunk('IHDR', header), chunk('IDAT', deflateSync(data)), chunk('IEND', Buffer.alloc(0))]);
  assert.throws(
    () => decodePlainPng(wrap(Buffer.alloc(64 * 1024 * 1024))),
    (e: Error) => e instanceof PngDataError && /does not inflate/.test(e.message),
  );
  // Too little: the header's size needs more rows than the data holds.
  assert.throws(
    () => decodePlainPng(wrap(Buffer.alloc(20))),
    (e: Error) => e instanceof PngDataError && /holds 20 bytes where 4x4 RGB needs 52/.test(e.message),
  );
});

test('decodeRgb reports a truncated render as an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synthline-png-'));
  const png = readFileSync(new URL('frame-256.png', FIXTURES));
  const path = join(dir, 'cut.png');
  await writeFile(path, png.subarray(0, 40000));
  await assert.rejects(decodeRgb(path), /truncated/);
});
