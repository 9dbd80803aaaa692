import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { parseSpec, type Manifest } from '@synthline/spec';
import { renderDataset } from '@synthline/pipeline';
import { TarWriter, readManifest, readTar, type Sample } from '@synthline/shards';
import { MixManifest } from '@synthline/mix';
import { cli, tempDir } from './helpers.ts';

/**
 * Real photos mixed with a dataset rendered by Blender: one small synthline dataset is rendered
 * once (40 frames, 3 classes), real photos are made with sharp, and every mix runs through the
 * CLI as its own process.
 */

let work: string;
let synDir: string;
let syn: Manifest;
/** Synthetic samples per class, and the classes picked for the tests (largest first). */
let have: Record<string, number>;
let big: [string, string];
let small: string;
/** The ImageFolder of real photos for the two big classes, and its counts. */
let realDir: string;
let realCounts: Record<string, number>;
let synSamples: Map<string, Sample>;

const FORMATS = ['jpeg', 'png', 'webp'] as const;
const EXT = { jpeg: 'jpg', png: 'png', webp: 'webp' } as const;
let photoNo = 0;

/** A distinct small "photo" in one of the three formats. */
async function photo(format: (typeof FORMATS)[number]): Promise<Buffer> {
  photoNo++;
  return sharp({
    create: { width: 40 + (photoNo % 7), height: 32, channels: 3, background: { r: (photoNo * 37) % 256, g: (photoNo * 91) % 256, b: 90 } },
  })
    .toFormat(format)
    .toBuffer();
}

/** `<root>/<class>/photo_<i>.<ext>` for each class, formats in turn. */
async function imageFolder(root: string, counts: Record<string, number>): Promise<void> {
  for (const [cls, n] of Object.entries(counts)) {
    await mkdir(join(root, cls), { recursive: true });
    for (let i = 0; i < n; i++) {
      const format = FORMATS[i % 3] ?? 'png';
      await writeFile(join(root, cls, `photo_${i}.${EXT[format]}`), await photo(format));
    }
  }
}

async function samplesOf(dir: string, shards: { name: string }[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const s of shards) for await (const x of readTar(join(dir, s.name))) out.push(x);
  return out;
}

const mixManifest = async (dir: string) => MixManifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));
const labelOf = (s: Sample) =>
  JSON.parse(s.members.find((m) => m.ext === 'json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;
const imageOf = (s: Sample) => s.members.find((m) => ['png', 'jpg', 'webp'].includes(m.ext));

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

before(async () => {
  work = await tempDir('synthline-mix-');
  synDir = join(work, 'syn');
  await renderDataset({
    spec: parseSpec({
      name: 'syn',
      seed: 3,
      count: 40,
      products: [
        { asset: 'builtin:iphone-13', colors: ['Blue', 'Midnight'] },
        { asset: 'builtin:iphone-8', colors: ['Gold'] },
      ],
      render: { resolution: [48, 48], samples: 2 },
      output: { shard_size: 16 },
    }),
    outDir: synDir,
  });
  syn = await readManifest(synDir);
  have = syn.counts.per_class;
  const bySize = Object.keys(have).sort((a, b) => (have[b] ?? 0) - (have[a] ?? 0));
  assert.deepEqual([...bySize].sort(), ['iphone-13_blue', 'iphone-13_midnight', 'iphone-8_gold']);
  big = [bySize[0] ?? '', bySize[1] ?? ''];
  small = bySize[2] ?? '';
  // At 1:5, as many real photos as the synthetic samples allow (at most 3).
  realCounts = Object.fromEntries(big.map((c) => [c, Math.min(3, Math.floor((have[c] ?? 0) / 5))]));
  for (const c of big) assert.ok((realCounts[c] ?? 0) >= 1, `${c} has ${have[c]} synthetic samples, enough for a real photo at 1:5`);
  realDir = join(work, 'real');
  await imageFolder(realDir, realCounts);
  synSamples = new Map((await samplesOf(synDir, syn.shards)).map((s) => [s.key, s]));
});

test('mix at 1:5 takes exactly five synthetic samples per real photo in each class', async () => {
  const out = join(work, 'mixes', 'first');
  const r = await cli(['mix', '--real', realDir, '--synthetic', synDir, '--ratio', '1:5', '--out', out, '--shard-size', '7']);
  assert.equal(r.code, 0, r.all);
  const m = await mixManifest(out);
  const realTotal = big.reduce((n, c) => n + (realCounts[c] ?? 0), 0);
  assert.deepEqual(m.counts.per_source, { real: realTotal, synthetic: 5 * realTotal });
  for (const c of big) assert.deepEqual(m.counts.per_class[c], { real: realCounts[c], synthetic: 5 * (realCounts[c] ?? 0) });
  assert.deepEqual(m.ratio, {
    requested: { real: 1, synthetic: 5 },
    achieved: { real: realTotal, synthetic: 5 * realTotal, synthetic_per_real: 5 },
    exact: true,
  });
  assert.deepEqual(m.shortfalls, []);
  assert.deepEqual(m.adjustments, []);
  // The synthetic class without real photos is left out, and said so.
  assert.deepEqual(
    m.excluded_classes.map((x) => [x.name, x.reason]),
    [[small, 'no_real_images']],
  );
  assert.match(r.stdout, new RegExp(`classes left out \\(1\\):\\n  ${small}: no real images`));
  assert.deepEqual(
    m.classes.map((c) => c.index),
    [0, 1],
  );
  assert.deepEqual(new Set(m.classes.map((c) => c.name)), new Set(big));
  assert.equal(m.inputs.synthetic.shards.length, syn.shards.length);
  assert.deepEqual(
    m.inputs.synthetic.shards.map((s) => s.sha256),
    syn.shards.map((s) => s.sha256),
  );
  assert.equal(m.inputs.seed, 0);
  assert.ok(m.shards.every((s) => /^first-\d{6}\.tar$/.test(s.name)));
  assert.deepEqual(m.shards.map((s) => s.samples).slice(0, -1), Array(m.shards.length - 1).fill(7));

  const samples = await samplesOf(out, m.shards);
  assert.equal(samples.length, 6 * realTotal);
  assert.deepEqual(
    samples.map((s) => Number(s.key.slice(1))),
    samples.map((_, i) => i),
    'keys number the positions',
  );
  const count: Record<string, number> = {};
  for (const s of samples) {
    const label = labelOf(s);
    const img = imageOf(s);
    assert.ok(img, `${s.key} has an image`);
    assert.equal(label.key, s.key);
    assert.equal(s.members.find((x) => x.ext === 'cls')?.data.toString(), String(label.class_index));
    assert.equal(m.classes[Number(label.class_index)]?.name, label.class);
    const key = `${label.class}/${label.source}`;
    count[key] = (count[key] ?? 0) + 1;
    if (label.source === 'real') {
      assert.match(s.key, /^r\d{8}$/);
      // A real photo is copied byte for byte, in its own format.
      const file = await readFile(join(realDir, String(label.original_path)));
      assert.deepEqual(img.data, file);
      assert.equal(String(label.original_path).split('.').pop()?.replace('jpeg', 'jpg'), img.ext);
    } else {
      assert.equal(label.source, 'synthetic');
      assert.match(s.key, /^s\d{8}$/);
      const original = synSamples.get(String(label.original_key));
      assert.ok(original, `synthetic ${s.key} names its original ${label.original_key}`);
      assert.deepEqual(imageOf(original)?.data, img.data);
      const { key: _k, class_index: _c, original_key: _o, original_class_index: oci, ...rest } = label;
      const { key: _k2, class_index: ci2, ...orig } = labelOf(original);
      assert.deepEqual(rest, orig, 'the rest of the synthetic label is as rendered');
      assert.equal(oci, ci2);
    }
  }
  for (const c of big) {
    assert.equal(count[`${c}/real`], realCounts[c]);
    assert.equal(count[`${c}/synthetic`], 5 * (realCounts[c] ?? 0));
  }
  const v = await cli(['verify', out]);
  assert.equal(v.code, 0, v.all);
  assert.match(v.stdout, new RegExp(`ok: ${6 * realTotal} samples .*synthline\\.mix/1`));
  assert.ok(existsSync(join(out, 'contact-sheet.jpg')));
  // verify still checks ordinary synthline datasets.
  const vs = await cli(['verify', synDir]);
  assert.equal(vs.code, 0, vs.all);
});

test('the same inputs and seed give byte-identical shards; another seed another order', async () => {
  const runs: Record<string, Awaited<ReturnType<typeof mixManifest>>> = {};
  for (const [name, seed] of [
    ['a', '9'],
    ['b', '9'],
    ['c', '10'],
  ] as const) {
    const out = join(work, 'seeds', name, 'mix');
    const r = await cli(['mix', '--real', realDir, '--synthetic', synDir, '--ratio', '1:5', '--out', out, '--seed', seed]);
    assert.equal(r.code, 0, r.all);
    runs[name] = await mixManifest(out);
  }
  assert.deepEqual(runs.a?.shards, runs.b?.shards);
  assert.deepEqual(runs.c?.counts, runs.a?.counts);
  assert.notDeepEqual(
    runs.c?.shards.map((s) => s.sha256),
    runs.a?.shards.map((s) => s.sha256),
  );
  const order = async (name: string) =>
    (await samplesOf(join(work, 'seeds', name, 'mix'), runs[name]?.shards ?? [])).map((s) => {
      const l = labelOf(s);
      return `${l.source}:${l.original_path ?? l.original_key}`;
    });
  assert.notDeepEqual(await order('c'), await order('a'));
  assert.equal(runs.a?.inputs.seed, 9);
});

test('real classes unknown to the synthetic dataset are refused, all of them listed', async () => {
  const dir = join(work, 'real-unknown');
  await imageFolder(dir, { [big[0]]: 1, 'iphone-99_red': 1, 'pixel-7_snow': 2 });
  const out = join(work, 'never-unknown');
  const r = await cli(['mix', '--real', dir, '--synthetic', synDir, '--ratio', '1:5', '--out', out]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /real classes not in the synthetic dataset.*: iphone-99_red, pixel-7_snow\n/);
  for (const c of Object.keys(have)) assert.ok(r.stderr.includes(c), `lists synthetic class ${c}:\n${r.stderr}`);
  assert.equal(existsSync(out), false);
});

test('a class short of synthetic samples fails with need and have; --best-effort lowers it and reports', async () => {
  const dir = join(work, 'real-short');
  const want = Math.floor((have[small] ?? 0) / 5) + 1;
  await imageFolder(dir, { ...realCounts, [small]: want });
  const out = join(work, 'short');
  const r = await cli(['mix', '--real', dir, '--synthetic', synDir, '--ratio', '1:5', '--out', out]);
  assert.equal(r.code, 1, r.all);
  assert.ok(r.stderr.includes(`${small}: ${want} real need ${5 * want} synthetic, have ${have[small]}`), r.stderr);
  assert.match(r.stderr, /--best-effort/);
  assert.equal(existsSync(join(out, 'dataset.json')), false);

  const b = await cli(['mix', '--real', dir, '--synthetic', synDir, '--ratio', '1:5', '--out', out, '--best-effort']);
  assert.equal(b.code, 0, b.all);
  const kept = want - 1;
  assert.ok(
    b.stdout.includes(`${small}: real ${want} -> ${kept} (${want} real need ${5 * want} synthetic at 1:5, only ${have[small]} available)`),
    b.stdout,
  );
  const m = await mixManifest(out);
  assert.equal(m.best_effort, true);
  assert.deepEqual(m.shortfalls, [
    { class: small, real: want, synthetic_needed: 5 * want, synthetic_available: have[small], real_possible: kept },
  ]);
  assert.deepEqual(
    m.adjustments.map((a) => [a.class, a.kind]),
    [[small, 'real_reduced']],
  );
  if (kept > 0) {
    assert.deepEqual(m.counts.per_class[small], { real: kept, synthetic: 5 * kept });
    assert.equal(m.allocation.find((a) => a.class === small)?.reduced, true);
  } else {
    assert.deepEqual(
      m.excluded_classes.map((x) => [x.name, x.reason]),
      [[small, 'too_few_synthetic']],
    );
  }
  for (const c of big) assert.deepEqual(m.counts.per_class[c], { real: realCounts[c], synthetic: 5 * (realCounts[c] ?? 0) });
  assert.equal(m.ratio.exact, true);
  const v = await cli(['verify', out]);
  assert.equal(v.code, 0, v.all);
});

test('real photos given as WebDataset shards mix the same way, by .cls with dataset.json or by .json class', async () => {
  const dir = join(work, 'real-wds');
  await mkdir(dir);
  const names = Object.keys(realCounts);
  const w = new TarWriter(join(dir, 'photos-000000.tar'));
  let n = 0;
  for (const [i, c] of names.entries()) {
    for (let k = 0; k < (realCounts[c] ?? 0); k++) {
      const byIndex = n++ % 2 === 0;
      await w.add({
        key: `photo${n}`,
        members: [
          { ext: 'jpg', data: await photo('jpeg') },
          byIndex
            ? { ext: 'cls', data: Buffer.from(String(i)) }
            : { ext: 'json', data: Buffer.from(JSON.stringify({ class: c, camera: 'belt-2' })) },
        ],
      });
    }
  }
  await w.finish();
  await writeFile(join(dir, 'dataset.json'), JSON.stringify({ classes: names.map((name, index) => ({ index, name })) }));
  const out = join(work, 'mix-wds');
  const r = await cli(['mix', '--real', dir, '--synthetic', synDir, '--ratio', '1:5', '--out', out]);
  assert.equal(r.code, 0, r.all);
  const m = await mixManifest(out);
  assert.equal(m.inputs.real.kind, 'webdataset');
  assert.equal(m.inputs.real.shards[0]?.name, 'photos-000000.tar');
  for (const c of big) assert.deepEqual(m.counts.per_class[c], { real: realCounts[c], synthetic: 5 * (realCounts[c] ?? 0) });
  const reals = (await samplesOf(out, m.shards)).map(labelOf).filter((l) => l.source === 'real');
  assert.equal(reals.length, n);
  for (const l of reals) {
    assert.equal(l.original_path, 'photos-000000.tar');
    assert.match(String(l.original_key), /^photo\d+$/);
  }
  assert.ok(
    reals.some((l) => (l.original_label as { camera?: string } | undefined)?.camera === 'belt-2'),
    "a photo's own label is kept",
  );
  assert.equal((await cli(['verify', out])).code, 0);
});

test('an output folder that holds anything is refused unless --overwrite; a dry run writes nothing', async () => {
  const out = join(work, 'mixes', 'first');
  const before = await mixManifest(out);
  const r = await cli(['mix', '--real', realDir, '--synthetic', synDir, '--ratio', '1:5', '--out', out, '--shard-size', '7']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not empty .*--overwrite/);
  const o = await cli([
    'mix',
    '--real',
    realDir,
    '--synthetic',
    synDir,
    '--ratio',
    '1:5',
    '--out',
    out,
    '--shard-size',
    '7',
    '--overwrite',
  ]);
  assert.equal(o.code, 0, o.all);
  assert.deepEqual((await mixManifest(out)).shards, before.shards);

  const dry = join(work, 'dry');
  const d = await cli(['mix', '--real', realDir, '--synthetic', synDir, '--ratio', '1:5', '--out', dry, '--dry-run']);
  assert.equal(d.code, 0, d.all);
  assert.match(d.stdout, /would mix/);
  assert.equal(existsSync(dry), false);

  const bad = await cli(['mix', '--real', realDir, '--synthetic', synDir, '--ratio', '1-5', '--out', dry]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ratio: expected R:S/);
  const missing = await cli(['mix', '--real', realDir, '--out', dry]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing --synthetic, --ratio/);
});

test('a synthetic shard that does not match its sha256 stops the mix, named', async () => {
  const bad = join(work, 'syn-bad');
  await cp(synDir, bad, { recursive: true });
  const shard = join(bad, syn.shards[1]?.name ?? '');
  const bytes = await readFile(shard);
  bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
  await writeFile(shard, bytes);
  const out = join(work, 'never-bad');
  const r = await cli(['mix', '--real', realDir, '--synthetic', bad, '--ratio', '1:5', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--synthetic shard syn-000001\.tar: sha256 [0-9a-f]{64} differs from dataset\.json's/);
  assert.equal(existsSync(out), false);
});

test('verify finds a tampered mix', async () => {
  const src = join(work, 'mixes', 'first');
  const dir = join(work, 'tampered');
  await cp(src, dir, { recursive: true });
  const m = await mixManifest(dir);
  const shard = join(dir, m.shards[0]?.name ?? '');
  const bytes = await readFile(shard);
  bytes[600] = (bytes[600] ?? 0) ^ 0xff;
  await writeFile(shard, bytes);
  const v = await cli(['verify', dir]);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /INVALID/);
  assert.match(v.stdout, /first-000000\.tar: sha256/);
});

test('export writes an ImageFolder tree, split by source and with labels if asked', async () => {
  const from = join(work, 'mixes', 'first');
  const m = await mixManifest(from);
  const samples = await samplesOf(from, m.shards);

  const split = join(work, 'export-split');
  const r = await cli(['export', '--format', 'imagefolder', '--from', from, '--out', split, '--split-by', 'source', '--with-labels']);
  assert.equal(r.code, 0, r.all);
  const expected: string[] = ['export.json'];
  for (const s of samples) {
    const l = labelOf(s);
    const base = `${l.source}/${l.class}/${s.key}`;
    expected.push(`${base}.${imageOf(s)?.ext}`, `${base}.json`);
    assert.deepEqual(await readFile(join(split, `${base}.${imageOf(s)?.ext}`)), imageOf(s)?.data);
  }
  assert.deepEqual(await filesUnder(split), expected.sort());
  const index = JSON.parse(await readFile(join(split, 'export.json'), 'utf8')) as { roots: string[]; counts: { images: number } };
  assert.deepEqual(index.roots, ['real', 'synthetic']);
  assert.equal(index.counts.images, samples.length);

  const flat = join(work, 'export-flat');
  assert.equal((await cli(['export', '--format', 'imagefolder', '--from', from, '--out', flat])).code, 0);
  assert.deepEqual(
    await filesUnder(flat),
    ['export.json', ...samples.map((s) => `${labelOf(s).class}/${s.key}.${imageOf(s)?.ext}`)].sort(),
  );
  const again = await cli(['export', '--format', 'imagefolder', '--from', from, '--out', flat]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not empty/);
  assert.equal((await cli(['export', '--format', 'imagefolder', '--from', from, '--out', flat, '--overwrite'])).code, 0);

  // A plain synthline dataset exports too: every sample under its class.
  const fromSyn = join(work, 'export-syn');
  assert.equal((await cli(['export', '--format', 'imagefolder', '--from', synDir, '--out', fromSyn])).code, 0);
  const files = (await filesUnder(fromSyn)).filter((f) => f !== 'export.json');
  assert.equal(files.length, syn.counts.samples);
  for (const [c, n] of Object.entries(have)) assert.equal(files.filter((f) => f.startsWith(`${c}/`)).length, n);
  const foreign = await cli(['export', '--from', synDir, '--out', realDir, '--overwrite']);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /replaces only a folder that export wrote/);
});
