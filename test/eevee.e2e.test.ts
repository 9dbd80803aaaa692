import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { Manifest, SampleLabel } from '@synthline/spec';
import { readTar } from '@synthline/shards';
import { cli, tempDir, tinySpec } from './helpers.ts';

// EEVEE through the whole path, on this machine's Blender (3.4's BLENDER_EEVEE, 4.2+'s
// BLENDER_EEVEE_NEXT; npm test runs it on both). Without a GPU it renders through Mesa's software
// EGL: slow, so two small frames.

async function render(dir: string, engine: 'eevee' | 'cycles') {
  const spec = join(dir, `${engine}.json`);
  await writeFile(spec, JSON.stringify(tinySpec({ count: 2, render: { resolution: [48, 40], samples: 4, engine } })));
  const r = await cli(['render', spec, '--out', join(dir, engine)]);
  assert.equal(r.code, 0, r.all);
  const m = Manifest.parse(JSON.parse(await readFile(join(dir, engine, 'dataset.json'), 'utf8')));
  const out: { label: SampleLabel; png: Buffer }[] = [];
  for (const s of m.shards) {
    for await (const x of readTar(join(dir, engine, s.name))) {
      out.push({
        label: SampleLabel.parse(JSON.parse(x.members.find((mm) => mm.ext === 'json')?.data.toString() ?? '')),
        png: x.members.find((mm) => mm.ext === 'png')?.data ?? Buffer.alloc(0),
      });
    }
  }
  return out;
}

test('EEVEE renders the scene: images with a product in them, labels as Cycles measures them', async () => {
  const dir = await tempDir();
  const eevee = await render(dir, 'eevee');
  const cycles = await render(dir, 'cycles');
  assert.equal(eevee.length, 2);
  for (const [i, s] of eevee.entries()) {
    assert.equal(s.label.render.engine, 'eevee');
    const stats = await sharp(s.png).stats();
    // Not a blank or uniform frame: the belt, the light and the phone vary across the image.
    assert.ok(
      stats.channels.slice(0, 3).every((c) => c.stdev > 2),
      `frame ${i}: channel stdevs ${stats.channels.map((c) => c.stdev.toFixed(1)).join(', ')}`,
    );
    const c = cycles[i]?.label;
    assert.ok(c);
    // The box, K and pose come from the scene's geometry: the engine does not change them.
    assert.deepEqual(s.label.bbox, c.bbox, `frame ${i}: EEVEE and Cycles boxes`);
    assert.deepEqual(s.label.camera.K, c.camera.K);
    assert.equal(s.label.class, c.class);
  }
});
