import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_TYPES, Manifest, type ImageFormat } from '@synthline/spec';
import { MANIFEST_FILE, hashFile } from '@synthline/shards';
import { MixError } from './errors.ts';
import { MIX_FORMAT } from './manifest.ts';
import { MemberReader, indexTar, type IndexedMember } from './tar-index.ts';

/** One rendered sample, located in its shard. */
export interface SyntheticItem {
  key: string;
  class: string;
  classIndex: number;
  shardPath: string;
  /** Every member, in shard order; the label is the `json` one. */
  members: IndexedMember[];
}

/** A verified synthline dataset, indexed. */
export interface SyntheticSet {
  dir: string;
  manifestPath: string;
  manifestSha256: string;
  manifest: Manifest;
  /** In shard order, which is frame order. */
  items: SyntheticItem[];
}

/**
 * Opens a synthline dataset for mixing: reads `dataset.json`, checks every shard's size and
 * sha256 against it (failing with the shard's name), and indexes the samples with their class
 * (from `<key>.cls` and the manifest's classes).
 */
export async function openSynthetic(dir: string): Promise<SyntheticSet> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new MixError('SYNTHETIC_INPUT', `--synthetic ${dir}: no ${MANIFEST_FILE}; not a synthline dataset, or one not finished`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MixError('SYNTHETIC_INPUT', `--synthetic ${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  if ((json as { format?: unknown } | null)?.format === MIX_FORMAT) {
    throw new MixError(
      'SYNTHETIC_INPUT',
      `--synthetic ${dir} is already a mix (${MIX_FORMAT}); give the synthline dataset it was made from`,
    );
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new MixError(
      'SYNTHETIC_INPUT',
      `--synthetic ${manifestPath} is not a synthline dataset manifest: ${i?.path.join('.')}: ${i?.message}`,
    );
  }
  const manifest = parsed.data;
  const names = new Map(manifest.classes.map((c) => [c.index, c.name]));
  const imageExt = IMAGE_TYPES[manifest.image_format as ImageFormat]?.ext ?? manifest.image_format;
  const items: SyntheticItem[] = [];
  const reader = new MemberReader();
  try {
    for (const shard of manifest.shards) {
      const path = join(dir, shard.name);
      const fail = (why: string) => new MixError('SYNTHETIC_INPUT', `--synthetic shard ${shard.name}: ${why}; run synthline verify ${dir}`);
      let sum: { sha256: string; bytes: number };
      try {
        sum = await hashFile(path);
      } catch (err) {
        throw fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message);
      }
      if (sum.bytes !== shard.bytes) throw fail(`${sum.bytes} bytes, dataset.json says ${shard.bytes}`);
      if (sum.sha256 !== shard.sha256) throw fail(`sha256 ${sum.sha256} differs from dataset.json's ${shard.sha256}`);
      let samples;
      try {
        samples = await indexTar(path);
      } catch (err) {
        throw fail((err as Error).message);
      }
      if (samples.length !== shard.samples) throw fail(`${samples.length} samples, dataset.json says ${shard.samples}`);
      for (const s of samples) {
        const cls = s.members.find((m) => m.ext === 'cls');
        if (!cls || !s.members.some((m) => m.ext === 'json') || !s.members.some((m) => m.ext === imageExt)) {
          throw fail(`sample ${s.key} is incomplete (has ${s.members.map((m) => m.ext).join(', ')})`);
        }
        const index = Number((await reader.read(path, cls)).toString('utf8').trim());
        const name = names.get(index);
        if (name === undefined) throw fail(`sample ${s.key} has class index ${index}, not in dataset.json`);
        items.push({ key: s.key, class: name, classIndex: index, shardPath: path, members: s.members });
      }
    }
  } finally {
    await reader.close();
  }
  return { dir, manifestPath, manifestSha256: createHash('sha256').update(text).digest('hex'), manifest, items };
}
