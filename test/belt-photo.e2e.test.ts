import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { parseSpec, type FramePlan } from '@synthline/spec';
import { plan, planContext } from '@synthline/planner';
import { RenderSlot, type SlotEvent } from '@synthline/blender';
import { AssetLibrary, scanLibrary } from '@synthline/library';
import { ROOT, tempDir } from './helpers.ts';

// One render server process switching the belt between its two materials (the procedural belt
// and belt_photo) across frames that import library models. The material a frame leaves unused
// has no user; an import purges orphans, and the next frame assigning it again crashed Blender
// (3.4 and 4.3: SIGSEGV, or SIGABRT for belt_photo) when the purge had freed it. RenderSlot
// hides a crash by retrying the frame on a fresh process, so the test counts processes and
// crashes, not only results.

const KHRONOS = join(ROOT, 'test', 'fixtures', 'khronos');
const COLORS = [{ name: 'Signal Red', srgb: '#D01818' }];

/** A library with two glTF products (each frame imports a model new to the process) and a belt photo. */
async function library(): Promise<AssetLibrary> {
  const root = await tempDir('synthline-beltlib-');
  for (const [id, file, mm] of [
    ['box', 'Box.gltf', 80],
    ['boxtex', 'BoxTextured.gltf', 60],
  ] as const) {
    await mkdir(join(root, 'products', id), { recursive: true });
    await copyFile(join(KHRONOS, file), join(root, 'products', id, file));
    await writeFile(join(root, 'products', id, 'product.json'), JSON.stringify({ name: id, dimensions_mm: [mm, mm, mm], colors: COLORS }));
  }
  // Yellow and blue stripes: nothing like the procedural belt, easy to find in the image.
  const w = 128;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) px.set(Math.floor(x / 16) % 2 ? [200, 180, 40] : [30, 60, 160], (y * w + x) * 3);
  await mkdir(join(root, 'backgrounds'), { recursive: true });
  await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toFile(join(root, 'backgrounds', 'stripes.png'));
  return AssetLibrary.open(root);
}

/** Frame 0 of a spec with one product, on the belt photo or the procedural belt. */
function frame(lib: AssetLibrary, asset: string, photo: boolean): FramePlan {
  const spec = parseSpec({
    name: 'belt',
    seed: 3,
    count: 1,
    products: [{ asset }],
    render: { resolution: [64, 64], samples: 4 },
    background: { image_probability: photo ? 1 : 0 },
  });
  return plan(spec, 0, planContext(spec, lib));
}

test('the belt photo, then a new library model on the procedural belt, and back, in one process', async () => {
  const lib = await library();
  const events: SlotEvent[] = [];
  const slot = new RenderSlot({ onEvent: (e) => events.push(e) });
  try {
    const entries = await scanLibrary(lib, slot);
    assert.deepEqual(
      entries.map((e) => [e.id, e.ok]),
      [
        ['box', true],
        ['boxtex', true],
      ],
    );
    await lib.saveScan(entries);
    const frames = [
      // The photo material goes on the belt; the procedural one is left without a user.
      { what: 'builtin phone on the belt photo', p: frame(lib, 'builtin:iphone-8', true) },
      // Importing box purges orphans, then the procedural material goes back on the belt.
      { what: 'library box on the procedural belt', p: frame(lib, 'library:box', false) },
      // Importing boxtex purges orphans with the photo material unused, then it is used again.
      { what: 'library boxtex on the belt photo', p: frame(lib, 'library:boxtex', true) },
      { what: 'builtin phone on the procedural belt', p: frame(lib, 'builtin:iphone-8', false) },
    ];
    const dir = await tempDir('synthline-belt-');
    for (const [i, { what, p }] of frames.entries()) {
      assert.equal(p.background.kind, what.includes('photo') ? 'image' : 'belt', what);
      const image = join(dir, `${i}.png`);
      const result = await slot.render(p, { image, mask: null });
      const crashed = events.flatMap((e) => (e.type === 'crashed' ? [e.error.message] : []));
      assert.deepEqual(crashed, [], `${what}: rendered without crashing Blender`);
      assert.equal(slot.starts, 1, `${what}: rendered on the process that rendered the frames before`);
      assert.ok(result.visible_pixels > 50, `${what}: the product is visible`);
      // The stripes' blue and yellow show around the product on the photo, never on the procedural belt.
      const rgb = await sharp(await readFile(image))
        .removeAlpha()
        .raw()
        .toBuffer();
      let stripes = 0;
      for (let j = 0; j < rgb.length; j += 3) {
        const [r = 0, g = 0, b = 0] = [rgb[j], rgb[j + 1], rgb[j + 2]];
        if ((b > r + 40 && b > g + 20) || (r > b + 60 && g > b + 60)) stripes++;
      }
      const share = stripes / (rgb.length / 3);
      if (p.background.kind === 'image') assert.ok(share > 0.2, `${what}: the photo is on the belt (${share.toFixed(2)} striped)`);
      else assert.ok(share < 0.05, `${what}: the procedural belt, not the photo (${share.toFixed(2)} striped)`);
    }
  } finally {
    await slot.close();
  }
});
