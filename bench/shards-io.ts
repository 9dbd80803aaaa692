/**
 * Benchmark, not a test: writing and verifying shards. Writes datasets of 1,000 to 16,000
 * samples (a 256x256 PNG of ~60-130 KB, a label and a class each: real encoded images of
 * noise, so sizes are like rendered frames) through the DatasetAssembler, then verifies them
 * with verifyDataset, in a child process each so that peak RSS is measured per run.
 *   npm run bench:shards
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseSpec, type SampleLabel } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { DatasetAssembler } from '@synthline/pipeline';
import { verifyDataset } from '@synthline/shards';

const mode = process.argv[2];
const spec = parseSpec({ name: 'io', count: 16_000, products: [{ asset: 'builtin:iphone-8' }], output: { shard_size: 1000 } });

async function write(dir: string, n: number): Promise<void> {
  // A few distinct images, reused: encoding is not what is measured here.
  const images: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    const raw = Buffer.alloc(256 * 256 * 3);
    for (let k = 0; k < raw.length; k++) raw[k] = (k * 2654435761 + i * 97) >>> 24;
    images.push(
      await sharp(raw, { raw: { width: 256, height: 256, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
  const asm = new DatasetAssembler(spec, dir, [0, n]);
  for (let i = 0; i < n; i++) {
    const p = plan(spec, i);
    const label = {
      key: p.key,
      index: i,
      class: 'iphone-8_silver',
      class_index: 1,
      attributes: { model: 'iphone-8', color: 'Silver', side: 'front' },
      source: 'synthetic',
      asset: p.product.asset,
      image: { format: 'png', width: 256, height: 256 },
      bbox: [10, 10, 100, 100],
      visible_pixels: 5000,
      visible_fraction: 1,
      split: 'train',
      annotations: {},
      pose: {
        side_up: 'front',
        yaw_deg: 0,
        offset_m: [0, 0],
        location_m: [0, 0, 0],
        rotation_euler_deg: [0, 0, 0],
        matrix_world: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
        dimensions_m: [0.07, 0.14, 0.007],
      },
      color: p.product.color,
      camera: {
        K: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        world_to_camera: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
        convention: 'opencv',
        plan: p.camera,
      },
      lights: p.lights,
      world: p.world,
      background: p.background,
      sensor: p.sensor,
      render: p.render,
      blender_version: '3.4.1',
    } as unknown as SampleLabel;
    const image = images[i % images.length] as Buffer;
    await asm.add(
      {
        key: p.key,
        members: [
          { ext: 'png', data: image },
          { ext: 'json', data: Buffer.from(JSON.stringify(label)) },
          { ext: 'cls', data: Buffer.from('1') },
        ],
      },
      label,
      image,
    );
  }
  await asm.finish();
}

if (mode === 'write' || mode === 'verify') {
  const [dir, n] = [process.argv[3] ?? '', Number(process.argv[4])];
  const t = performance.now();
  if (mode === 'write') await write(dir, n);
  else {
    const r = await verifyDataset(dir);
    if (!r.ok) throw new Error(r.problems.join('\n'));
  }
  const seconds = (performance.now() - t) / 1000;
  const bytes = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  console.log(JSON.stringify({ seconds, bytes, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('samples   size      write MB/s  peak RSS    verify MB/s  peak RSS');
  for (const n of [1000, 4000, 16000]) {
    const dir = await mkdtemp(join(tmpdir(), 'synthline-bench-io-'));
    const go = (m: string) =>
      JSON.parse(
        execFileSync('node', ['--import', 'tsx', self, m, dir, String(n)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop() ?? '{}',
      ) as { seconds: number; bytes: number; peakRssMiB: number };
    const w = go('write');
    const v = go('verify');
    const mb = w.bytes / 1e6;
    console.log(
      `${String(n).padStart(7)}   ${mb.toFixed(0).padStart(5)} MB   ${(mb / w.seconds).toFixed(0).padStart(8)}   ${w.peakRssMiB.toFixed(0).padStart(5)} MiB   ${(mb / v.seconds).toFixed(0).padStart(9)}   ${v.peakRssMiB.toFixed(0).padStart(5)} MiB`,
    );
    await rm(dir, { recursive: true, force: true });
  }
}
