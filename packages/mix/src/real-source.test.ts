import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { TarWriter } from '@synthline/shards';
import { MixError } from './errors.ts';
import { scanReal } from './real-source.ts';

const temp = () => mkdtemp(join(tmpdir(), 'mix-real-'));
const photo = (w: number, format: 'png' | 'jpeg' | 'webp') =>
  sharp({ create: { width: w, height: 20, channels: 3, background: '#446688' } })
    .toFormat(format)
    .toBuffer();

async function put(root: string, rel: string, data: Buffer | string): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), data);
}

const refused = (pattern: RegExp) => (e: unknown) => e instanceof MixError && e.code === 'REAL_INPUT' && pattern.test(e.message);

test('an ImageFolder tree: classes and files in name order, formats from the bytes, other files listed', async () => {
  const root = await temp();
  await put(root, 'b_class/2.png', await photo(30, 'png'));
  await put(root, 'b_class/10.JPG', await photo(31, 'jpeg'));
  await put(root, 'a_class/x.jpeg', await photo(32, 'jpeg'));
  await put(root, 'a_class/y.webp', await photo(33, 'webp'));
  await put(root, 'a_class/readme.txt', 'notes');
  await put(root, 'a_class/.DS_Store', 'x');
  await put(root, 'LICENSE', 'x');
  await mkdir(join(root, '.cache'));
  const set = await scanReal(root);
  assert.equal(set.kind, 'imagefolder');
  assert.deepEqual(set.classes, ['a_class', 'b_class']);
  assert.deepEqual(
    set.items.map((i) => [i.class, i.originalPath, i.image.ext, i.image.width]),
    [
      ['a_class', 'a_class/x.jpeg', 'jpg', 32],
      ['a_class', 'a_class/y.webp', 'webp', 33],
      ['b_class', 'b_class/10.JPG', 'jpg', 31],
      ['b_class', 'b_class/2.png', 'png', 30],
    ],
  );
  assert.deepEqual(set.ignored, [
    '.cache: not a class folder',
    'LICENSE: not a class folder',
    'a_class/.DS_Store: hidden',
    'a_class/readme.txt: not a .png, .jpg, .jpeg or .webp file',
  ]);
});

test('nested folders, loose images and undecodable images are refused, each listed', async () => {
  const nested = await temp();
  await put(nested, 'a/1.png', await photo(10, 'png'));
  await put(nested, 'a/sub/2.png', await photo(10, 'png'));
  await assert.rejects(scanReal(nested), refused(/folders inside class folders.*\n {2}a\/sub\//s));

  const loose = await temp();
  await put(loose, 'a/1.png', await photo(10, 'png'));
  await put(loose, 'stray.jpg', await photo(10, 'jpeg'));
  await assert.rejects(scanReal(loose), refused(/images outside any class folder.*\n {2}stray\.jpg/s));

  const flat = await temp();
  await put(flat, 'one.png', await photo(10, 'png'));
  await assert.rejects(scanReal(flat), refused(/neither an ImageFolder tree .* nor a WebDataset folder.*1 image\(s\) directly/s));

  const broken = await temp();
  await put(broken, 'a/ok.png', await photo(10, 'png'));
  await put(broken, 'a/bad.png', 'not an image');
  await put(
    broken,
    'a/gif.jpg',
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .gif()
      .toBuffer(),
  );
  await assert.rejects(scanReal(broken), refused(/2 image\(s\) that cannot be used:\n {2}a\/bad\.png: .*\n {2}a\/gif\.jpg: gif image/s));

  await assert.rejects(scanReal(join(broken, 'nope')), refused(/not a folder/));
});

test('a WebDataset folder: class names from .json, or from .cls with dataset.json classes', async () => {
  const root = await temp();
  const w = new TarWriter(join(root, 'real-000000.tar'));
  await w.add({
    key: 'p1',
    members: [
      { ext: 'jpg', data: await photo(20, 'jpeg') },
      { ext: 'cls', data: Buffer.from('1') },
    ],
  });
  await w.add({
    key: 'p2',
    members: [
      { ext: 'png', data: await photo(21, 'png') },
      { ext: 'json', data: Buffer.from(JSON.stringify({ class: 'a_class', note: 'kept' })) },
      { ext: 'cls', data: Buffer.from('0') },
    ],
  });
  await w.add({ key: 'p3', members: [{ ext: 'txt', data: Buffer.from('no image') }] });
  const info = await w.finish();
  await writeFile(
    join(root, 'dataset.json'),
    JSON.stringify({
      classes: [
        { index: 0, name: 'a_class' },
        { index: 1, name: 'b_class' },
      ],
      shards: [{ name: 'real-000000.tar', sha256: info.sha256, bytes: info.bytes }],
    }),
  );
  const set = await scanReal(root);
  assert.equal(set.kind, 'webdataset');
  assert.deepEqual(
    set.items.map((i) => [i.class, i.originalPath, i.originalKey, i.image.ext]),
    [
      ['b_class', 'real-000000.tar', 'p1', 'jpg'],
      ['a_class', 'real-000000.tar', 'p2', 'png'],
    ],
  );
  assert.deepEqual(set.items[1]?.originalLabel, { class: 'a_class', note: 'kept' });
  assert.deepEqual(set.ignored, ['real-000000.tar:p3: no .png, .jpg, .jpeg or .webp member']);
  assert.deepEqual(set.shards, [{ name: 'real-000000.tar', sha256: info.sha256, bytes: info.bytes }]);
});

test('WebDataset real input is refused when a class cannot be named, a label says synthetic, or a shard changed', async () => {
  const root = await temp();
  const w = new TarWriter(join(root, 'r-000000.tar'));
  await w.add({
    key: 'p1',
    members: [
      { ext: 'png', data: await photo(20, 'png') },
      { ext: 'cls', data: Buffer.from('3') },
    ],
  });
  await w.add({
    key: 'p2',
    members: [
      { ext: 'png', data: await photo(20, 'png') },
      { ext: 'json', data: Buffer.from('{"class":"a","source":"synthetic"}') },
    ],
  });
  await w.finish();
  await assert.rejects(
    scanReal(root),
    refused(
      /samples that cannot be used:\n {2}1 sample\(s\) labelled source "synthetic" \(r-000000\.tar:p2\).*\n {2}r-000000\.tar:p1: \.cls holds class index 3 but no dataset\.json names it/s,
    ),
  );

  await writeFile(join(root, 'dataset.json'), JSON.stringify({ classes: [], shards: [{ name: 'r-000000.tar', sha256: '0'.repeat(64) }] }));
  await assert.rejects(scanReal(root), refused(/--real shard r-000000\.tar: sha256 or size differs/));

  await writeFile(join(root, 'dataset.json'), JSON.stringify({ format: 'synthline.mix/1' }));
  await assert.rejects(scanReal(root), refused(/is a mix/));
});
