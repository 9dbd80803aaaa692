import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '@synthline/spec';
import type { EvalSample, EvalSet, SetKind } from './inputs.ts';
import { checkSuggestPath, checkSuggestTarget, productSplit, suggestSpec, trainSpecOf, writeSuggestedSpec } from './suggest-spec.ts';

const SPEC = parseSpec({
  name: 'train',
  seed: 1234,
  count: 40,
  products: [
    { asset: 'builtin:iphone-13', colors: ['Blue', 'Pink'], weight: 2 },
    { asset: 'builtin:iphone-8', colors: ['Gold'] },
  ],
  render: { resolution: [64, 48], samples: 4 },
  split: { name: 'train', hold_out: { hdris: ['night'] } },
});

const set = (dir: string, kind: SetKind, samples: EvalSample[] = []): EvalSet => ({ dir, kind, samples, classes: new Map() });
const sample = (i: number, cls: string, model: string | undefined, source: 'synthetic' | 'real' = 'synthetic'): EvalSample => ({
  id: `s${i}`,
  source,
  class: cls,
  attributes: model ? { model } : {},
  image: { kind: 'file', path: '/dev/null' },
});

async function temp() {
  return mkdtemp(join(tmpdir(), 'synthline-suggest-'));
}

test('the spec of a synthline dataset is the one its manifest records; a mix reads its synthetic dataset, unchanged', async () => {
  const root = await temp();
  const ds = join(root, 'ds');
  await mkdir(ds);
  const manifest = `${JSON.stringify({ format: 'synthline.dataset/1', spec: SPEC })}\n`;
  await writeFile(join(ds, 'dataset.json'), manifest);
  const got = await trainSpecOf(set(ds, 'synthline'));
  assert.deepEqual(got.spec, SPEC);
  assert.equal(got.from, join(ds, 'dataset.json'));

  const mix = join(root, 'mix');
  await mkdir(mix);
  const sha = createHash('sha256').update(manifest).digest('hex');
  const mixManifest = (path: string, sum: string) =>
    JSON.stringify({ format: 'synthline.mix/1', inputs: { synthetic: { path: ds, manifest: path, manifest_sha256: sum } } });
  await writeFile(join(mix, 'dataset.json'), mixManifest(join(ds, 'dataset.json'), sha));
  const fromMix = await trainSpecOf(set(mix, 'mix'));
  assert.deepEqual(fromMix.spec, SPEC);
  assert.equal(fromMix.from, join(ds, 'dataset.json'));

  await writeFile(join(mix, 'dataset.json'), mixManifest(join(ds, 'dataset.json'), '0'.repeat(64)));
  await assert.rejects(trainSpecOf(set(mix, 'mix')), { code: 'SUGGEST', message: /changed since the mix --train .* was made from it/ });
  await writeFile(join(mix, 'dataset.json'), mixManifest(join(root, 'gone', 'dataset.json'), sha));
  await assert.rejects(trainSpecOf(set(mix, 'mix')), {
    code: 'SUGGEST',
    message: /made from the synthetic dataset .*gone, whose dataset\.json \(the spec it was rendered from\) is no longer there/,
  });
});

test('photos have no spec: an ImageFolder or WebDataset training set is refused, naming the problem', async () => {
  await assert.rejects(trainSpecOf(set('/data/photos', 'imagefolder')), {
    code: 'SUGGEST',
    message: /--train \/data\/photos is an ImageFolder of photos, which no synthline spec made; train on a synthline dataset or a mix/,
  });
  await assert.rejects(trainSpecOf(set('/data/shards', 'webdataset')), { code: 'SUGGEST', message: /WebDataset shards of photos/ });
});

test('a recorded spec that does not parse today is named as such', async () => {
  const ds = join(await temp(), 'old');
  await mkdir(ds);
  await writeFile(join(ds, 'dataset.json'), JSON.stringify({ format: 'synthline.dataset/1', spec: { ...SPEC, count: -1 } }));
  await assert.rejects(trainSpecOf(set(ds, 'synthline')), { code: 'SUGGEST', message: /does not parse today: invalid spec:\n {2}count/ });
});

test('only class, model and color: side and label attributes are refused, naming the target', () => {
  for (const t of ['class', 'model', 'color']) checkSuggestTarget(t);
  assert.throws(() => checkSuggestTarget('side'), {
    code: 'BAD_OPTION',
    message: /--target side is not one: every product shows both sides/,
  });
  assert.throws(() => checkSuggestTarget('world.hdri'), {
    code: 'BAD_OPTION',
    message: /--target world\.hdri is a label attribute no product weight decides/,
  });
});

test('split: rendered frames by product and class; photos of a mix are not counted; an unlisted model is an error', () => {
  const classes = { target: 'class', names: ['iphone-13_blue', 'iphone-13_pink', 'iphone-8_gold'], train: [0, 1, 1, 2, 2], test: [] };
  const train = set('/d', 'mix', [
    sample(0, 'iphone-13_blue', 'iphone-13'),
    sample(1, 'iphone-13_pink', 'iphone-13'),
    sample(2, 'iphone-13_pink', undefined, 'real'),
    sample(3, 'iphone-8_gold', 'iphone-8'),
    sample(4, 'iphone-8_gold', 'iphone-8'),
  ]);
  assert.deepEqual(productSplit(SPEC, train, classes, '/d/dataset.json'), [
    [1, 1, 0],
    [0, 0, 2],
  ]);
  const odd = set('/d', 'synthline', [sample(0, 'x', 'pixel-7')]);
  assert.throws(() => productSplit(SPEC, odd, { ...classes, train: [0] }, '/d/dataset.json'), {
    code: 'SUGGEST',
    message: /training sample s0 shows pixel-7, which the spec recorded in \/d\/dataset\.json does not list/,
  });
});

test('the suggested spec: weights moved, every other field as it was (the seed too), and it parses', () => {
  const { spec, weights } = suggestSpec(
    SPEC,
    ['iphone-13', 'iphone-8'],
    [
      [10, 0],
      [5, 5],
    ],
    [
      [20, 0],
      [0, 20],
    ],
  );
  assert.deepEqual(
    spec.products.map((p) => p.weight),
    [1.71, 1.29],
  );
  assert.deepEqual(weights.products[1]?.error, 0.5);
  const { products: _a, ...rest } = spec;
  const { products: _b, ...before } = SPEC;
  assert.deepEqual(rest, before);
  assert.deepEqual(
    spec.products.map(({ weight: _, ...p }) => p),
    SPEC.products.map(({ weight: _, ...p }) => p),
  );
  assert.deepEqual(parseSpec(JSON.parse(JSON.stringify(spec))), spec);
});

test('where the spec goes: an existing file only with --overwrite, never a folder or an input, written atomically', async () => {
  const root = await temp();
  const path = join(root, 'sub', 'next.json');
  assert.equal(await checkSuggestPath(path, false, []), path);
  await writeSuggestedSpec(path, SPEC, false);
  assert.deepEqual(parseSpec(JSON.parse(await readFile(path, 'utf8'))), SPEC);
  await assert.rejects(checkSuggestPath(path, false, []), {
    code: 'OUTPUT_EXISTS',
    message: /--suggest .*next\.json already exists; pass --overwrite to replace it/,
  });
  assert.equal(await checkSuggestPath(path, true, []), path);
  await assert.rejects(writeSuggestedSpec(path, SPEC, false), { code: 'OUTPUT_EXISTS' });
  await writeSuggestedSpec(path, SPEC, true);
  await assert.rejects(checkSuggestPath(root, true, []), { code: 'BAD_OPTION', message: /is a folder/ });
  await assert.rejects(checkSuggestPath(join(root, 'ds', 'dataset.json'), true, [join(root, 'ds', 'dataset.json')]), {
    code: 'BAD_OPTION',
    message: /is a file of the inputs or of the report/,
  });
});
