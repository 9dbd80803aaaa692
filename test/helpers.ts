import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readTar } from '@synthline/shards';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(ROOT, 'apps/cli/bin/synthline.js');

/** A fresh temporary folder. */
export function tempDir(prefix = 'synthline-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs the synthline CLI as a user would, as its own process. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { ...process.env, ...env }, cwd: ROOT, all: true });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
}

/** A small, quick spec: small non-square images, few samples, small shards. */
export function tinySpec(over: Record<string, unknown> = {}) {
  return {
    name: 'tiny',
    seed: 11,
    count: 30,
    products: [
      { asset: 'builtin:iphone-13', colors: ['Blue', '(PRODUCT)RED'] },
      { asset: 'builtin:iphone-8', weight: 1 },
      { asset: 'builtin:iphone-14-pro', colors: ['Deep Purple'] },
    ],
    render: { resolution: [96, 72], samples: 8 },
    output: { shard_size: 8 },
    ...over,
  };
}

/**
 * Keys under a prefix that hold jobs or queued work: BullMQ's queue metadata, rate-limit
 * counters and the store's index bookkeeping are left out.
 */
export function jobKeys(keys: string[]): string[] {
  return keys.filter((k) => !/:(meta|ratelimit:.*|jobs:counts|jobs:index-version)$/.test(k));
}

/** Waits until `fn` gives a truthy value (polled every 50 ms), then returns it; throws naming `what` past the timeout. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One sample of a rendered dataset: its label and its members by extension (`png`, `mask.png`, ...). */
export interface DatasetSample {
  key: string;
  label: Record<string, unknown> & { index: number };
  member(ext: string): Buffer;
}

/** Every sample of the dataset in `dir`, shard by shard, in order. */
export async function datasetSamples(dir: string): Promise<DatasetSample[]> {
  const m = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')) as { shards: { name: string }[] };
  const out: DatasetSample[] = [];
  for (const shard of m.shards) {
    for await (const s of readTar(join(dir, shard.name))) {
      const member = (ext: string) => s.members.find((x) => x.ext === ext)?.data ?? Buffer.alloc(0);
      out.push({ key: s.key, label: JSON.parse(member('json').toString('utf8')), member });
    }
  }
  return out;
}

/**
 * A scanned asset library in `dir`/lib holding one product, `library:box`: the Khronos Box
 * (test/fixtures/khronos) as a 60 x 60 x 40 mm box in Signal Red. Returns the library's path.
 */
export async function boxLibrary(dir: string): Promise<string> {
  const lib = join(dir, 'lib');
  await mkdir(join(lib, 'products', 'box'), { recursive: true });
  await copyFile(join(ROOT, 'test', 'fixtures', 'khronos', 'Box.gltf'), join(lib, 'products', 'box', 'Box.gltf'));
  const product = {
    name: 'Box',
    dimensions_mm: [60, 60, 40],
    color_slots: ['Material_0'],
    colors: [{ name: 'Signal Red', srgb: '#D01818' }],
  };
  await writeFile(join(lib, 'products', 'box', 'product.json'), JSON.stringify(product));
  const scan = await cli(['assets', 'scan', '--library', lib]);
  if (scan.code !== 0) throw new Error(`assets scan failed:\n${scan.all}`);
  return lib;
}
