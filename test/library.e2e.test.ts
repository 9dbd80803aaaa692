import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { execa } from 'execa';
import sharp from 'sharp';
import { loadApiEnv } from '@synthline/config';
import { Manifest, SampleLabel } from '@synthline/spec';
import { findBlender } from '@synthline/blender';
import { readTar } from '@synthline/shards';
import { startPrivateRedis } from '@synthline/cli/private-redis';
import { startApi } from '@synthline/api';
import { ROOT, cli, tempDir } from './helpers.ts';

// A real asset library: the Khronos glTF sample models from shared/assets, plus one file of every
// other supported format made here (OBJ, STL, PLY as text; FBX and .blend exported by Blender),
// and broken products that must be refused with a clear message.
// Copies of shared/assets (their sources and licences: test/fixtures/khronos/SOURCES.md).
const SHARED = join(ROOT, 'test', 'fixtures', 'khronos');
let lib: string;

const RED = { name: 'Signal Red', srgb: '#D01818' };
const BLUE = { name: 'Deep Blue', srgb: '#1830C0' };

/** An axis-aligned box of half-sizes (hx, hy, hz) as triangles. */
function boxTriangles(hx: number, hy: number, hz: number): [number, number, number][][] {
  const v = (x: number, y: number, z: number): [number, number, number] => [x * hx, y * hy, z * hz];
  const quads = [
    [v(-1, -1, -1), v(-1, 1, -1), v(1, 1, -1), v(1, -1, -1)],
    [v(-1, -1, 1), v(1, -1, 1), v(1, 1, 1), v(-1, 1, 1)],
    [v(-1, -1, -1), v(1, -1, -1), v(1, -1, 1), v(-1, -1, 1)],
    [v(-1, 1, -1), v(-1, 1, 1), v(1, 1, 1), v(1, 1, -1)],
    [v(-1, -1, -1), v(-1, -1, 1), v(-1, 1, 1), v(-1, 1, -1)],
    [v(1, -1, -1), v(1, 1, -1), v(1, 1, 1), v(1, -1, 1)],
  ];
  return quads
    .flatMap(
      ([a, b, c, d]) =>
        [
          [a, b, c],
          [a, c, d],
        ] as [number, number, number][][],
    )
    .map((t) => t.map((p) => p ?? [0, 0, 0]));
}

const obj = (hx: number, hy: number, hz: number) => {
  const tris = boxTriangles(hx, hy, hz);
  const verts = tris
    .flat()
    .map((p) => `v ${p.join(' ')}`)
    .join('\n');
  const faces = tris.map((_, i) => `f ${i * 3 + 1} ${i * 3 + 2} ${i * 3 + 3}`).join('\n');
  return `o box\nusemtl Paint\n${verts}\n${faces}\n`;
};
const stl = (hx: number, hy: number, hz: number) =>
  `solid box\n${boxTriangles(hx, hy, hz)
    .map((t) => `facet normal 0 0 0\nouter loop\n${t.map((p) => `vertex ${p.join(' ')}`).join('\n')}\nendloop\nendfacet`)
    .join('\n')}\nendsolid box\n`;
const ply = (hx: number, hy: number, hz: number) => {
  const tris = boxTriangles(hx, hy, hz);
  return `ply\nformat ascii 1.0\nelement vertex ${tris.length * 3}\nproperty float x\nproperty float y\nproperty float z\nelement face ${tris.length}\nproperty list uchar int vertex_indices\nend_header\n${tris
    .flat()
    .map((p) => p.join(' '))
    .join('\n')}\n${tris.map((_, i) => `3 ${i * 3} ${i * 3 + 1} ${i * 3 + 2}`).join('\n')}\n`;
};

async function product(id: string, file: string, data: string | Buffer | null, json: object | null) {
  const dir = join(lib, 'products', id);
  await mkdir(dir, { recursive: true });
  if (data !== null) await writeFile(join(dir, file), data);
  if (json) await writeFile(join(dir, 'product.json'), JSON.stringify(json));
  return join(dir, file);
}

before(async () => {
  lib = await tempDir('synthline-lib-');
  const colors = [RED, BLUE];
  await mkdir(join(lib, 'products', 'box'), { recursive: true });
  await copyFile(join(SHARED, 'Box.gltf'), join(lib, 'products', 'box', 'Box.gltf'));
  await writeFile(
    join(lib, 'products', 'box', 'product.json'),
    JSON.stringify({ name: 'Box', dimensions_mm: [80, 80, 80], color_slots: ['Material_0'], colors }),
  );
  await mkdir(join(lib, 'products', 'boxtex'), { recursive: true });
  await copyFile(join(SHARED, 'BoxTextured.gltf'), join(lib, 'products', 'boxtex', 'BoxTextured.gltf'));
  await writeFile(
    join(lib, 'products', 'boxtex', 'product.json'),
    JSON.stringify({ name: 'Textured box', dimensions_mm: [60, 60, 60], colors }),
  );
  // Made here: a 100 x 60 x 20 mm block in each text format, modelled in metres.
  await product('block-obj', 'block.obj', obj(0.05, 0.03, 0.01), { name: 'OBJ block', colors, color_slots: ['Paint'] });
  await product('block-stl', 'block.stl', stl(0.05, 0.03, 0.01), { name: 'STL block', colors });
  await product('block-ply', 'block.ply', ply(0.05, 0.03, 0.01), { name: 'PLY block', colors });
  // FBX and .blend exported by Blender itself (a test may write Python; the service never does).
  const fbx = join(lib, 'products', 'block-fbx', 'block.fbx');
  const blend = join(lib, 'products', 'block-blend', 'block.blend');
  await mkdir(join(lib, 'products', 'block-fbx'), { recursive: true });
  await mkdir(join(lib, 'products', 'block-blend'), { recursive: true });
  const expr = [
    'import bpy',
    'bpy.ops.wm.read_factory_settings(use_empty=True)',
    'bpy.ops.mesh.primitive_cube_add(size=1.0)',
    'o = bpy.context.active_object',
    'o.scale = (0.1, 0.06, 0.02)',
    `bpy.ops.export_scene.fbx(filepath=${JSON.stringify(fbx)})`,
    `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blend)})`,
  ].join('\n');
  await execa(findBlender(), ['-b', '--factory-startup', '--python-expr', expr], {
    env: {
      ...process.env,
      PATH: (process.env.PATH ?? '')
        .split(':')
        .filter((p) => !p.includes('/.pyenv/'))
        .join(':'),
    },
  });
  await writeFile(join(lib, 'products', 'block-fbx', 'product.json'), JSON.stringify({ name: 'FBX block', colors }));
  await writeFile(join(lib, 'products', 'block-blend', 'product.json'), JSON.stringify({ name: 'Blend block', colors }));
  // Broken products.
  await product('corrupt', 'model.glb', Buffer.from('this is not a glTF binary at all, just text'), { name: 'Corrupt', colors });
  await product('empty', 'model.obj', '# nothing here\n', { name: 'Empty', colors });
  await product('unsupported', 'model.3ds', Buffer.alloc(64, 1), { name: 'Unsupported', colors });
  await product('nojson', 'block.obj', obj(0.05, 0.03, 0.01), null);
  await product('nocolors', 'block.obj', obj(0.05, 0.03, 0.01), { name: 'No colours' });
});

test('assets scan probes every product and names what is wrong with the bad ones', async () => {
  const r = await cli(['assets', 'scan', '--library', lib]);
  assert.equal(r.code, 1, r.all); // some products are unusable
  const out = r.stdout;
  for (const id of ['box', 'boxtex', 'block-obj', 'block-stl', 'block-ply', 'block-fbx', 'block-blend']) {
    assert.match(out, new RegExp(`^ok   library:${id} `, 'm'), `${id} scans ok:\n${out}`);
  }
  assert.match(out, /FAIL library:corrupt[\s\S]*?error: .+/);
  assert.match(out, /FAIL library:empty[\s\S]*?error: .*(no mesh|empty)/i);
  assert.match(out, /FAIL library:unsupported[\s\S]*?error: unsupported model format: model\.3ds/);
  assert.match(out, /FAIL library:nojson[\s\S]*?error: product\.json is missing/);
  assert.match(out, /FAIL library:nocolors[\s\S]*?error: product\.json: colors: /);
  assert.match(out, /library:block-stl[\s\S]*?warning: the model has no materials/, 'nothing to recolour is a warning');
  assert.match(out, /library:box .*80\.0 x 80\.0 x 80\.0 mm/);
  // A thumbnail of each usable product, as it lies on the belt; none of an unusable one.
  assert.match(out, /^thumbnails of 7 product\(s\) in /m);
  for (const id of ['box', 'block-obj', 'block-blend']) {
    const png = await readFile(join(lib, '.synthline', 'thumbnails', `${id}.png`));
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [160, 120], id);
    // The product in the middle differs from the belt at the corner.
    const at = (x: number, y: number) => [0, 1, 2].map((c) => data[(y * 160 + x) * 3 + c] ?? 0);
    const d = at(80, 60).reduce((t, v, c) => t + Math.abs(v - (at(4, 4)[c] ?? 0)), 0);
    assert.ok(d > 30, `${id}: the product shows in its thumbnail (${at(80, 60)} against ${at(4, 4)})`);
  }
  assert.equal(existsSync(join(lib, '.synthline', 'thumbnails', 'corrupt.png')), false);
});

test('a spec naming a bad or unknown library product is refused before anything renders', async () => {
  await cli(['assets', 'scan', '--library', lib]);
  const dir = await tempDir('synthline-libspec-');
  const spec = join(dir, 'spec.json');
  await writeFile(
    spec,
    JSON.stringify({
      count: 2,
      products: [{ asset: 'library:corrupt' }, { asset: 'library:nope' }, { asset: 'library:box', colors: ['Green'] }],
    }),
  );
  const r = await cli(['render', spec, '--out', join(dir, 'out'), '--library', lib]);
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /products\[0\]\.asset: library product "corrupt" failed its scan/);
  assert.match(r.stderr, /products\[1\]\.asset: no product "nope"/);
  assert.match(r.stderr, /products\[2\]\.colors\[0\]: "Green" is not a colour of Box/);
});

test('library products render centred, at their declared size, recoloured, with masks and depth', async () => {
  await cli(['assets', 'scan', '--library', lib]);
  const dir = await tempDir('synthline-librender-');
  const specPath = join(dir, 'spec.json');
  const products = ['box', 'boxtex', 'block-obj', 'block-stl', 'block-ply', 'block-fbx', 'block-blend'].map((id) => ({
    asset: `library:${id}`,
    colors: ['Signal Red'],
  }));
  await writeFile(
    specPath,
    JSON.stringify({
      name: 'lib',
      seed: 4,
      count: 21,
      products,
      render: { resolution: [96, 96], samples: 8 },
      camera: { distance_m: 0.4, elevation_deg: 90, look_at_jitter_m: 0, roll_deg: 0 },
      product: { offset_m: 0, color_jitter: { hue: 0, saturation_scale: 1, value_scale: 1 } },
      sensor: { noise_sigma: 0, grain_strength: 0, blur_sigma_px: 0, exposure_ev: 0 },
      output: { annotations: { mask: true, depth: true } },
    }),
  );
  const out = join(dir, 'out');
  const r = await cli(['render', specPath, '--out', out, '--library', lib]);
  assert.equal(r.code, 0, r.all);
  assert.equal((await cli(['verify', out])).code, 0);
  const m = Manifest.parse(JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8')));
  const seen = new Set<string>();
  for (const shard of m.shards) {
    for await (const s of readTar(join(out, shard.name))) {
      const by = new Map(s.members.map((x) => [x.ext, x.data]));
      const label = SampleLabel.parse(JSON.parse(by.get('json')?.toString() ?? ''));
      seen.add(label.attributes.model);
      assert.deepEqual([...by.keys()], ['png', 'json', 'cls', 'mask.png', 'depth.png']);
      const mask = await sharp(by.get('mask.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
      let x0 = 96,
        y0 = 96,
        x1 = -1,
        y1 = -1,
        n = 0,
        red = 0,
        blue = 0;
      const rgb = await sharp(by.get('png')).removeAlpha().raw().toBuffer();
      for (let y = 0; y < 96; y++)
        for (let x = 0; x < 96; x++) {
          if ((mask.data[y * 96 + x] ?? 0) < 128) continue;
          n++;
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
          red += rgb[(y * 96 + x) * 3] ?? 0;
          blue += rgb[(y * 96 + x) * 3 + 2] ?? 0;
        }
      const what = `${label.attributes.model} (frame ${label.index})`;
      assert.ok(n > 50, `${what}: visible`);
      assert.deepEqual(label.bbox, [x0, y0, x1 - x0 + 1, y1 - y0 + 1], `${what}: bbox equals the mask's extent`);
      assert.equal(label.visible_pixels, n);
      // Centred: the camera looks straight down at the origin, where the product lies.
      const cx = (x0 + x1) / 2,
        cy = (y0 + y1) / 2;
      assert.ok(Math.abs(cx - 47.5) <= 3 && Math.abs(cy - 47.5) <= 3, `${what}: centred, bbox centre ${cx},${cy}`);
      // Declared size: seen straight down from 0.4 m, the top face (x by y of the product's box,
      // its height z nearer the camera) covers (x * y) * (f / (0.4 - z))^2 pixels, whatever the yaw.
      const f = label.camera.K[0]?.[0] ?? 0;
      const [dx, dy, dz] = label.pose.dimensions_m;
      const want = dx * dy * (f / (0.4 - dz)) ** 2;
      assert.ok(
        Math.abs(n - want) <= want * 0.2,
        `${what}: ${n} pixels, expected about ${want.toFixed(0)} for ${[dx, dy, dz].map((d) => (d * 1000).toFixed(1))} mm`,
      );
      // Recoloured where declared (the textured box multiplies its texture by the colour).
      if (label.attributes.model !== 'boxtex') assert.ok(red > 1.5 * blue, `${what}: red product (r ${red / n}, b ${blue / n})`);
      // Depth: 16-bit millimetres; the belt straight below is about 400 mm away.
      assert.equal((await sharp(by.get('depth.png')).metadata()).depth, 'ushort', '16-bit depth');
      const { min, max } = (await sharp(by.get('depth.png')).stats()).channels[0] ?? { min: 0, max: 0 };
      assert.ok(max > 390 && max < 410, `${what}: the belt (farthest) is ${max} mm away`);
      assert.ok(min < max - 5 && min > 300, `${what}: the product's top is nearer, ${min} mm`);
    }
  }
  assert.equal(seen.size, 7, `every product rendered: ${[...seen].join(', ')}`);
  const dims = (id: string) => m.classes.find((c) => c.model === id);
  assert.ok(dims('box'));
});

test('the API lists the library and refuses jobs with unusable assets at submit', async () => {
  await cli(['assets', 'scan', '--library', lib]);
  const redis = await startPrivateRedis();
  const api = await startApi(
    loadApiEnv({
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: `lib${process.pid}`,
      SYNTHLINE_OUTPUT: await tempDir(),
      SYNTHLINE_LIBRARY: lib,
      PORT: '0',
      LOG_LEVEL: 'silent',
    }),
  );
  try {
    const assets = (await (await fetch(`${api.url}/v1/assets`)).json()) as {
      products: { asset: string; usable: boolean; reason: string | null; thumbnail: string | null }[];
    };
    const usable = Object.fromEntries(assets.products.map((p) => [p.asset, p.usable]));
    assert.equal(usable['library:box'], true);
    assert.equal(usable['library:corrupt'], false);
    assert.match(assets.products.find((p) => p.asset === 'library:unsupported')?.reason ?? '', /unsupported model format/);
    // Thumbnails: served for a usable product, named where there is none, refused for a bad id.
    const links = Object.fromEntries(assets.products.map((p) => [p.asset, p.thumbnail]));
    assert.equal(links['library:box'], '/v1/assets/box/thumbnail');
    assert.equal(links['library:corrupt'], null);
    const thumb = await fetch(`${api.url}${links['library:box']}`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await thumb.arrayBuffer()), await readFile(join(lib, '.synthline', 'thumbnails', 'box.png')));
    const corrupt = await fetch(`${api.url}/v1/assets/corrupt/thumbnail`);
    assert.equal(corrupt.status, 404);
    assert.match(((await corrupt.json()) as { detail: string }).detail, /no usable product library:corrupt/);
    assert.equal((await fetch(`${api.url}/v1/assets/..%2Fetc/thumbnail`)).status, 400);

    const post = (body: unknown) =>
      fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ count: 4, products: [{ asset: 'library:box' }, { asset: 'library:corrupt' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = (await bad.json()) as { errors: { path: string; message: string }[] };
    assert.deepEqual(
      problem.errors.map((e) => e.path),
      ['products[1].asset'],
    );
    assert.match(problem.errors[0]?.message ?? '', /failed its scan/);
    const queue = (await import('@synthline/queue')).createRedis(redis.url);
    assert.equal(await queue.exists(`lib${process.pid}:render:wait`), 0, 'nothing was enqueued');
    queue.disconnect();
    for (const [id, why] of [
      ['empty', /failed its scan: .*no mesh/],
      ['unsupported', /unusable: unsupported model format/],
      ['nojson', /product\.json is missing/],
    ] as const) {
      const res = await post({ count: 4, products: [{ asset: `library:${id}` }] });
      assert.equal(res.status, 400, id);
      const p = (await res.json()) as { errors: { path: string; message: string }[] };
      assert.equal(p.errors[0]?.path, 'products[0].asset');
      assert.match(p.errors[0]?.message ?? '', why);
    }
    const ok = await post({ count: 4, products: [{ asset: 'library:box' }] });
    assert.equal(ok.status, 202);
  } finally {
    await api.close();
    await redis.dispose();
  }
});

test('background photos from the library, and held-out conditions recorded in the manifest', async () => {
  await mkdir(join(lib, 'backgrounds'), { recursive: true });
  // A striped "belt photo": recognisably not the procedural belt.
  const w = 128;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) px.set(Math.floor(x / 16) % 2 ? [200, 180, 40] : [30, 60, 160], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toFile(join(lib, 'backgrounds', 'stripes.png'));
  const dir = await tempDir('synthline-bg-');
  const specPath = join(dir, 'spec.json');
  await writeFile(
    specPath,
    JSON.stringify({
      name: 'bg',
      count: 4,
      products: [{ asset: 'builtin:iphone-8' }],
      render: { resolution: [64, 64], samples: 4 },
      background: { image_probability: 1 },
      world: { hdris: ['studio', 'night'] },
      split: { name: 'train', hold_out: { hdris: ['night'] } },
    }),
  );
  const r = await cli(['render', specPath, '--out', join(dir, 'out'), '--library', lib]);
  assert.equal(r.code, 0, r.all);
  const m = Manifest.parse(JSON.parse(await readFile(join(dir, 'out', 'dataset.json'), 'utf8')));
  assert.deepEqual(m.split, { name: 'train', hold_out: { hdris: ['night'], backgrounds: [], colors: [], camera: {} } });
  for await (const s of readTar(join(dir, 'out', m.shards[0]?.name ?? ''))) {
    const label = SampleLabel.parse(JSON.parse(s.members.find((x) => x.ext === 'json')?.data.toString() ?? ''));
    assert.equal(label.background.kind, 'image');
    assert.equal(label.world.hdri, 'studio');
    assert.equal(label.split, 'train');
    // The stripes' blue and yellow show around the phone.
    const { channels } = await sharp(s.members[0]?.data).stats();
    assert.ok((channels[2]?.max ?? 0) > 80 && (channels[0]?.max ?? 0) > 80, 'the photo is on the belt');
  }
});

test('--library wins over SYNTHLINE_LIBRARY, which is read (and checked) only without the flag', async () => {
  const empty = await tempDir('synthline-emptylib-');
  const flagged = await cli(['assets', 'scan', '--library', empty], { SYNTHLINE_LIBRARY: 'ftp://example.com/lib' });
  assert.equal(flagged.code, 0, flagged.all);
  assert.match(flagged.stderr, new RegExp(`scanning 0 product\\(s\\) in ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const unflagged = await cli(['assets', 'scan'], { SYNTHLINE_LIBRARY: 'ftp://example.com/lib' });
  assert.notEqual(unflagged.code, 0, unflagged.all);
  assert.match(unflagged.stderr, /invalid environment:\n {2}SYNTHLINE_LIBRARY: must be a folder or an s3:\/\/bucket\/prefix URL/);
});
