/**
 * Renders one spec with two Blenders and compares what a classifier would see: the labels (field
 * by field, the Blender version and timings aside), the bounding boxes, and the images per channel.
 * The figures of docs/blender-versions.md come from it:
 *
 *   node --import tsx scripts/compare-blender-versions.ts --spec examples/quickstart.json \
 *     --count 24 --a /usr/bin/blender --b "$(bash scripts/blender-4.sh)" [--json out.json]
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Manifest, SampleLabel, parseSpec } from '@synthline/spec';
import { renderDataset } from '@synthline/pipeline';
import { readTar } from '@synthline/shards';

/** Label fields that say which Blender rendered, how long it took or how much memory it held: expected to differ. */
const RUN_FIELDS = new Set(['blender_version', 'seconds', 'render_s', 'rss_bytes', 'timing', 'device']);

interface Sample {
  label: Record<string, unknown>;
  image: Buffer;
}

async function render(blender: string, spec: ReturnType<typeof parseSpec>): Promise<{ samples: Sample[]; version: string }> {
  const out = await mkdtemp(join(tmpdir(), 'synthline-versions-'));
  await renderDataset({ spec, outDir: out, slot: { blender, threads: 0 } });
  const m = Manifest.parse(JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8')));
  const samples: Sample[] = [];
  for (const s of m.shards) {
    for await (const x of readTar(join(out, s.name))) {
      const json = x.members.find((mm) => mm.ext === 'json');
      const img = x.members.find((mm) => mm.ext === 'png' || mm.ext === 'jpg');
      if (!json || !img) throw new Error(`${s.name}: a sample without a label or an image`);
      samples.push({ label: JSON.parse(json.data.toString()) as Record<string, unknown>, image: img.data });
    }
  }
  const version = SampleLabel.parse(samples[0]?.label).blender_version;
  return { samples, version };
}

/** Paths of the leaves where two labels differ, run fields aside. */
function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  const leaf = path.split('.').pop() ?? '';
  if (RUN_FIELDS.has(leaf)) return [];
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a)) ? [] : [path];
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  return [...keys].flatMap((k) =>
    diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
  );
}

async function channels(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

async function main() {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string', default: 'examples/quickstart.json' },
      count: { type: 'string', default: '24' },
      a: { type: 'string' },
      b: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (!values.a || !values.b) throw new Error('--a and --b: the two Blender executables to compare');
  const raw = JSON.parse(await readFile(values.spec, 'utf8')) as Record<string, unknown>;
  const spec = parseSpec({ ...raw, count: Number(values.count) });
  const A = await render(values.a, spec);
  const B = await render(values.b, spec);
  const fieldDiffs = new Map<string, number>();
  let bboxEqual = 0;
  let bboxMaxPx = 0;
  const sum = [0, 0, 0];
  const max = [0, 0, 0];
  let pixels = 0;
  for (let i = 0; i < A.samples.length; i++) {
    const a = A.samples[i] as Sample;
    const b = B.samples[i] as Sample;
    for (const p of diffPaths(a.label, b.label)) fieldDiffs.set(p, (fieldDiffs.get(p) ?? 0) + 1);
    const ba = a.label.bbox as number[] | null;
    const bb = b.label.bbox as number[] | null;
    if (JSON.stringify(ba) === JSON.stringify(bb)) bboxEqual++;
    if (ba && bb) bboxMaxPx = Math.max(bboxMaxPx, ...ba.map((v, k) => Math.abs(v - (bb[k] as number))));
    const ia = await channels(a.image);
    const ib = await channels(b.image);
    for (let p = 0; p < ia.data.length; p += ia.channels) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs((ia.data[p + c] as number) - (ib.data[p + c] as number));
        sum[c] = (sum[c] as number) + d;
        max[c] = Math.max(max[c] as number, d);
      }
      pixels++;
    }
  }
  const result = {
    spec: values.spec,
    frames: A.samples.length,
    resolution: spec.render.resolution,
    samples: spec.render.samples,
    a: A.version,
    b: B.version,
    label_fields_differing: Object.fromEntries(fieldDiffs),
    bbox_equal: bboxEqual,
    bbox_max_abs_px: bboxMaxPx,
    mean_abs_diff_per_channel_0_255: sum.map((s) => Math.round((s / pixels) * 100) / 100),
    max_abs_diff_per_channel_0_255: max,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
}

await main();
