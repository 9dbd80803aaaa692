import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { parseSpec, type JobSpec } from '@synthline/spec';
import { CLI, cli, tempDir } from './helpers.ts';

// `synthline evaluate` with Debian's PyTorch (/usr/bin/python3, python3-torch) on small sets made
// here: photos of solid colours (trivially separable), the same photos under shuffled labels, and
// a tiny render of two phones; errors for a test class training lacks, an empty folder and a
// Python without torch. Probes are tiny (32-64 px, 2-3 epochs, one thread).

let root: string;
const COLOURS: Record<string, [number, number, number]> = { red: [200, 40, 40], green: [40, 170, 60], blue: [40, 60, 200] };

/** A tiny seeded generator, so the photos are the same on every run. */
function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** An ImageFolder: `n` photos per colour, each its colour with jitter; `labelOf` picks the folder. */
async function colourFolder(dir: string, n: number, seed: number, labelOf = (colour: string, _i: number) => colour, names = COLOURS) {
  const rnd = lcg(seed);
  for (const [colour, c] of Object.entries(names)) {
    for (let i = 0; i < n; i++) {
      const [r, g, b] = c.map((v) => Math.max(0, Math.min(255, Math.round(v + (rnd() - 0.5) * 70))));
      const folder = join(dir, labelOf(colour, i));
      await mkdir(folder, { recursive: true });
      await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: r ?? 0, g: g ?? 0, b: b ?? 0 } } })
        .png()
        .toFile(join(folder, `${colour}-${i}.png`));
    }
  }
}

const FAST = ['--size', '32', '--epochs', '3', '--threads', '1', '--seed', '3'];

async function report(dir: string) {
  return JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
}

const spec = (name: string, seed: number, count: number, extra: Record<string, unknown>) => ({
  name,
  seed,
  count,
  products: [
    { asset: 'builtin:iphone-13', colors: ['Blue'] },
    { asset: 'builtin:iphone-8', colors: ['Gold'] },
  ],
  render: { resolution: [64, 48], samples: 4 },
  output: { shard_size: 10 },
  sensor: { noise_sigma: [0, 0.02] },
  ...extra,
});

before(async () => {
  root = await tempDir('synthline-evaluate-');
  await colourFolder(join(root, 'colours-train'), 16, 1);
  await colourFolder(join(root, 'colours-test'), 8, 2);
  // Shuffled labels that carry nothing: each colour's photos spread evenly over the three labels.
  const names = Object.keys(COLOURS);
  await colourFolder(join(root, 'shuffled-train'), 16, 1, (colour, i) => names[(names.indexOf(colour) + i) % 3] as string);
  // A tiny render: training without the night HDRI, a test set of another seed lit by night or studio.
  await writeFile(
    join(root, 'train.json'),
    JSON.stringify(spec('evtrain', 3, 20, { split: { name: 'train', hold_out: { hdris: ['night'] } } })),
  );
  await writeFile(
    join(root, 'test.json'),
    JSON.stringify(spec('evtest', 99, 12, { world: { hdris: ['night', 'studio'] }, split: { name: 'test' } })),
  );
  for (const s of ['train', 'test']) {
    const r = await cli(['render', join(root, `${s}.json`), '--out', join(root, `render-${s}`)]);
    assert.equal(r.code, 0, r.all);
  }
});

test('trivially separable photos: accuracy >= 0.9, every report file, the same metrics on a second run', async () => {
  const out = join(root, 'sep');
  const r = await cli(['evaluate', '--train', join(root, 'colours-train'), '--test', join(root, 'colours-test'), '--out', out, ...FAST]);
  assert.equal(r.code, 0, r.all);
  const rep = await report(out);
  assert.equal(rep.format, 'synthline.evaluation/1');
  assert.deepEqual(rep.classes, ['blue', 'green', 'red']);
  assert.equal(rep.accuracy.n, 24);
  assert.ok(rep.accuracy.accuracy >= 0.9, `accuracy ${rep.accuracy.accuracy}`);
  assert.ok(rep.accuracy.ci95[0] <= rep.accuracy.accuracy && rep.accuracy.accuracy <= rep.accuracy.ci95[1]);
  assert.equal(rep.training_curve.length, 3);
  assert.equal(
    rep.confusion.flat().reduce((a: number, b: number) => a + b, 0),
    24,
  );
  assert.deepEqual(
    rep.per_class.map((c: { n: number }) => c.n),
    [8, 8, 8],
  );
  for (const f of ['report.html', 'per-class.png', 'confusion.png', 'training-curve.png', 'parameters.png', 'predictions.jsonl']) {
    const bytes = await readFile(join(out, f));
    assert.ok(bytes.length > 100, f);
  }
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<(img|link|script)[^>]+(src|href)="(?!data:)/, 'self-contained');
  // Photos have no rendered parameters: every parameter is one "missing" bin of the whole test set.
  for (const p of rep.parameters)
    assert.deepEqual(
      p.bins.map((b: { label: string; n: number }) => [b.label, b.n]),
      [['missing', 24]],
    );
  // Seeded: the same inputs give the same predictions and metrics.
  const again = join(root, 'sep-again');
  assert.equal(
    (await cli(['evaluate', '--train', join(root, 'colours-train'), '--test', join(root, 'colours-test'), '--out', again, ...FAST])).code,
    0,
  );
  assert.equal(await readFile(join(again, 'predictions.jsonl'), 'utf8'), await readFile(join(out, 'predictions.jsonl'), 'utf8'));
  assert.deepEqual(
    (await report(again)).training_curve.map((e: { loss: number }) => e.loss),
    rep.training_curve.map((e: { loss: number }) => e.loss),
  );
});

test('shuffled labels: test accuracy stays near chance (1/3)', async () => {
  const out = join(root, 'shuffled');
  const r = await cli(['evaluate', '--train', join(root, 'shuffled-train'), '--test', join(root, 'colours-test'), '--out', out, ...FAST]);
  assert.equal(r.code, 0, r.all);
  const rep = await report(out);
  assert.ok(rep.accuracy.accuracy >= 0.05 && rep.accuracy.accuracy <= 0.62, `accuracy ${rep.accuracy.accuracy} is not near chance`);
});

test('a rendered test set: accuracy binned by every rendered parameter, each adding up to the test set; worst bins and their contact sheet', async () => {
  const out = join(root, 'rendered');
  const r = await cli([
    'evaluate',
    '--train',
    join(root, 'render-train'),
    '--test',
    join(root, 'render-test'),
    '--target',
    'side',
    '--out',
    out,
    '--size',
    '48',
    '--epochs',
    '2',
    '--threads',
    '1',
  ]);
  assert.equal(r.code, 0, r.all);
  const rep = await report(out);
  assert.deepEqual(rep.classes, ['back', 'front']);
  assert.equal(rep.accuracy.n, 12);
  const names = rep.parameters.map((p: { name: string }) => p.name);
  for (const n of [
    'camera_distance_m',
    'camera_elevation_deg',
    'focal_length_mm',
    'light_count',
    'light_energy_w',
    'hdri',
    'background',
    'exposure_ev',
    'noise_sigma',
    'blur_sigma_px',
    'side',
  ])
    assert.ok(names.includes(n), `no ${n} in ${names}`);
  for (const p of rep.parameters) {
    const total = p.bins.reduce((s: number, b: { n: number }) => s + b.n, 0);
    const right = p.bins.reduce((s: number, b: { correct: number }) => s + b.correct, 0);
    assert.equal(total, 12, `${p.name}'s bins add up to ${total}`);
    assert.equal(right, rep.accuracy.correct, p.name);
  }
  const hdri = rep.parameters.find((p: { name: string }) => p.name === 'hdri');
  assert.deepEqual(hdri.bins.map((b: { label: string }) => b.label).sort(), ['night', 'studio']);
  // A worst bin, when there is one, comes with its misclassified samples on a contact sheet.
  if (rep.worst_bins.length > 0 && rep.worst_bins.some((w: { misclassified: number }) => w.misclassified > 0)) {
    const meta = await sharp(join(out, 'misclassified.jpg')).metadata();
    assert.equal(meta.format, 'jpeg');
  }
});

test('--suggest: the training spec written back with weight moved toward the worse model, all else equal; refusals before training', async () => {
  const next = join(root, 'suggested', 'next.json');
  const run = (extra: string[], train = join(root, 'render-train'), out = join(root, 'suggest-out')) =>
    cli([
      'evaluate',
      '--train',
      train,
      '--test',
      join(root, 'render-test'),
      '--out',
      out,
      '--target',
      'model',
      '--size',
      '48',
      '--epochs',
      '2',
      '--threads',
      '1',
      ...extra,
    ]);
  // Refused before any training: nothing is written to --out.
  let r = await run(['--suggest', next], join(root, 'colours-train'), join(root, 'suggest-photos'));
  assert.equal(r.code, 1, r.all);
  assert.match(
    r.stderr,
    /--suggest writes back the spec the training set was rendered from, but --train .*colours-train is an ImageFolder of photos/,
  );
  r = await run(['--suggest', next, '--target', 'side']);
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /--suggest .* needs a target that the product decides \(class, model or color\); --target side is not one/);
  await mkdir(join(root, 'suggested'));
  await writeFile(next, '{"earlier": true}\n');
  r = await run(['--suggest', next]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /--suggest .*next\.json already exists; pass --overwrite to replace it/);
  assert.equal(await readFile(next, 'utf8'), '{"earlier": true}\n');
  for (const out of ['suggest-photos', 'suggest-out'])
    await assert.rejects(readFile(join(root, out, 'report.json')), { code: 'ENOENT' }, `${out}: refused before training`);
  r = await cli(['evaluate', 'sweep', '--suggest', next]);
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /unknown option --suggest/);

  r = await run(['--suggest', next, '--overwrite']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /suggested spec .*next\.json/);
  const manifest = JSON.parse(await readFile(join(root, 'render-train', 'dataset.json'), 'utf8'));
  const before = parseSpec(manifest.spec);
  const after = parseSpec(JSON.parse(await readFile(next, 'utf8')));
  const strip = (s: JobSpec) => ({ ...s, products: s.products.map(({ weight: _, ...p }) => p) });
  assert.deepEqual(strip(after), strip(before), 'every field but the weights as it was, the seed included');
  const rep = await report(join(root, 'suggest-out'));
  const sug = rep.suggestion;
  assert.equal(sug.spec, next);
  assert.equal(sug.from, join(root, 'render-train', 'dataset.json'));
  const acc = new Map(rep.per_class.map((c: { class: string; accuracy: number }) => [c.class, c.accuracy]));
  const moves = before.products.map((p, i) => {
    const model = p.asset.replace('builtin:', '');
    const entry = sug.products[i];
    assert.equal(entry.asset, p.asset);
    assert.equal(entry.old_weight, p.weight);
    assert.equal(entry.new_weight, after.products[i]?.weight);
    assert.deepEqual(entry.classes, [{ class: model, share: 1 }]);
    assert.ok(Math.abs(entry.error - (1 - (acc.get(model) as number))) < 1e-4, `${model}: error ${entry.error}`);
    return { accuracy: acc.get(model) as number, ratio: entry.new_weight / entry.old_weight };
  });
  const [a, b] = moves as [(typeof moves)[0], (typeof moves)[0]];
  if (a.accuracy === b.accuracy) assert.equal(a.ratio, b.ratio, 'equal accuracies: no move');
  else assert.equal(a.accuracy < b.accuracy, a.ratio > b.ratio, `the worse model gains weight: ${JSON.stringify(moves)}`);
  assert.equal(sug.changed, a.accuracy !== b.accuracy);
  for (const c of sug.classes) assert.ok(Math.abs(c.accuracy - (acc.get(c.class) as number)) < 1e-9, c.class);
  const html = await readFile(join(root, 'suggest-out', 'report.html'), 'utf8');
  assert.match(html, /<h2>Suggested spec<\/h2>/);
  assert.match(html, /builtin:iphone-13<\/td><td>1 &rarr; <b>/);
});

test('the ratio sweep gives one row per ratio, each trained with the same number of steps', async () => {
  // Photos named after the rendered classes, so the mix pairs them.
  const pal = { 'iphone-13_blue': [60, 90, 200], 'iphone-8_gold': [220, 200, 170] } as Record<string, [number, number, number]>;
  await colourFolder(join(root, 'real-train'), 4, 5, (c) => c, pal);
  await colourFolder(join(root, 'real-test'), 4, 6, (c) => c, pal);
  const out = join(root, 'sweep');
  const r = await cli([
    'evaluate',
    'sweep',
    '--real',
    join(root, 'real-train'),
    '--synthetic',
    join(root, 'render-train'),
    '--test',
    join(root, 'real-test'),
    '--ratios',
    '1:0,1:1,0:1',
    '--out',
    out,
    '--size',
    '32',
    '--epochs',
    '1',
    '--threads',
    '1',
  ]);
  assert.equal(r.code, 0, r.all);
  const s = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8'));
  assert.deepEqual(
    s.rows.map((x: { ratio: string }) => x.ratio),
    ['1:0', '1:1', '0:1'],
  );
  assert.deepEqual(
    s.rows.map((x: { per_source: Record<string, number> }) => [x.per_source.real ?? 0, x.per_source.synthetic ?? 0]),
    [
      [8, 0],
      [8, 8],
      [0, 20],
    ],
  );
  for (const row of s.rows) assert.equal(row.steps, s.steps);
  assert.match(await readFile(join(out, 'sweep.html'), 'utf8'), /1:1/);
  assert.equal((await sharp(join(out, 'sweep.png')).metadata()).format, 'png');
  assert.match(r.stdout, /1:0 .*\n.*1:1 .*\n.*0:1 /);
});

test('errors: a test class training lacks, an empty folder, no PyTorch, no interpreter: each named, with the fix', async () => {
  const extra = join(root, 'test-extra');
  await colourFolder(extra, 2, 7, (c) => c, { ...COLOURS, yellow: [220, 220, 40] });
  let r = await cli(['evaluate', '--train', join(root, 'colours-train'), '--test', extra, '--out', join(root, 'e1'), ...FAST]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /test set has class value\(s\) the training set lacks.*: yellow \(2 test sample/);
  assert.match(r.stderr, /fix: add them to the training set/);

  const empty = join(root, 'empty');
  await mkdir(join(empty, 'red'), { recursive: true });
  r = await cli(['evaluate', '--train', empty, '--test', join(root, 'colours-test'), '--out', join(root, 'e2'), ...FAST]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /--train .*empty holds no images: put photos in one folder per class/);
  const bare = join(root, 'bare');
  await mkdir(bare);
  r = await cli(['evaluate', '--train', join(root, 'colours-train'), '--test', bare, '--out', join(root, 'e3'), ...FAST]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /--test .*bare is neither an ImageFolder tree/);

  // Debian's Python without its site packages: a real interpreter that cannot import torch.
  const noTorch = join(root, 'python-without-torch');
  await writeFile(noTorch, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  await chmod(noTorch, 0o755);
  r = await cli(
    ['evaluate', '--train', join(root, 'colours-train'), '--test', join(root, 'colours-test'), '--out', join(root, 'e4'), ...FAST],
    {
      SYNTHLINE_PYTHON: noTorch,
    },
  );
  assert.equal(r.code, 1, r.all);
  assert.match(
    r.stderr,
    /cannot import PyTorch: No module named 'torch'\. Install it \(Debian\/Ubuntu: apt-get install python3-torch python3-torchvision\)/,
  );
  r = await cli(
    ['evaluate', '--train', join(root, 'colours-train'), '--test', join(root, 'colours-test'), '--out', join(root, 'e5'), ...FAST],
    {
      SYNTHLINE_PYTHON: join(root, 'no-such-python'),
    },
  );
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /cannot start the evaluation runner's Python .*no-such-python": no such program\. Set SYNTHLINE_PYTHON/);

  r = await cli(['evaluate', '--train', join(root, 'nowhere'), '--test', join(root, 'colours-test'), '--out', join(root, 'e6')]);
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /--train .*nowhere does not exist/);
  assert.ok(CLI);
});
