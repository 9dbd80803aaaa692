import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { MIX_FORMAT, MemberReader, MixError, indexTar, scanReal, type IndexedMember } from '@synthline/mix';
import { EvaluateError } from './errors.ts';

/**
 * Glossary.
 * - set: what `--train` or `--test` names: a synthline dataset (`dataset.json` of format
 *   `synthline.dataset/1`), a mix (`synthline.mix/1`), WebDataset shards of photos, or an
 *   ImageFolder of photos (`<dir>/<class>/<image>`).
 * - sample: one image of a set with what is known about it: its class, its attributes (model,
 *   colour, side) and, for a rendered one, its whole label (every sampled parameter).
 */

/** Where an image's bytes are: a file, or a member of a tar shard (read without unpacking). */
export type ImageRef = { kind: 'file'; path: string } | { kind: 'tar'; path: string; member: IndexedMember };

/** A class's attributes as a manifest records them. */
export interface ClassAttributes {
  model?: string;
  color?: string;
  side?: string;
}

export interface EvalSample {
  /** `<shard>:<key>` or `<class>/<file>`: unique in its set, and what a person can find. */
  id: string;
  source: 'synthetic' | 'real';
  class: string;
  /** Model, colour and side when known (rendered labels; classes of a manifest). */
  attributes: ClassAttributes;
  /** The sample's `.json`: a rendered label, a mix's real label, or a WebDataset photo's own. */
  label?: Record<string, unknown>;
  image: ImageRef;
}

export type SetKind = 'synthline' | 'mix' | 'imagefolder' | 'webdataset';

export interface EvalSet {
  dir: string;
  kind: SetKind;
  samples: EvalSample[];
  /** Attributes of the classes a manifest names (synthline dataset or mix). */
  classes: Map<string, ClassAttributes>;
}

const IMAGE_EXTS = ['png', 'jpg', 'jpeg', 'webp'];

export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface LooseManifest {
  format?: unknown;
  classes?: { name?: unknown; model?: unknown; color?: unknown; side?: unknown }[];
  shards?: { name?: unknown; samples?: unknown }[];
}

function attributesOf(c: { model?: unknown; color?: unknown; side?: unknown }): ClassAttributes {
  return {
    ...(typeof c.model === 'string' ? { model: c.model } : {}),
    ...(typeof c.color === 'string' ? { color: c.color } : {}),
    ...(typeof c.side === 'string' ? { side: c.side } : {}),
  };
}

/**
 * Opens `dir` as a set for `flag` (`--train`, `--test`, ...): a synthline dataset or a mix (by
 * the format of its `dataset.json`), else a folder of real photos as `synthline mix --real`
 * reads them. A set without images is an error ({@link EvaluateError} `EMPTY`).
 */
export async function openSet(dir: string, flag: string): Promise<EvalSet> {
  const path = resolve(dir);
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new EvaluateError('NOT_FOUND', `${flag} ${dir} does not exist`);
  if (!st.isDirectory()) throw new EvaluateError('NOT_FOUND', `${flag} ${dir} is a file; give a folder`);
  let manifest: LooseManifest | undefined;
  const text = await readFile(join(path, 'dataset.json'), 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      manifest = JSON.parse(text) as LooseManifest;
    } catch (err) {
      throw new EvaluateError('INPUT', `${flag} ${dir}/dataset.json is not valid JSON: ${(err as Error).message}`);
    }
  }
  let set: EvalSet;
  if (manifest && (manifest.format === MIX_FORMAT || manifest.format === 'synthline.dataset/1')) {
    set = await openShards(path, flag, manifest, manifest.format === MIX_FORMAT ? 'mix' : 'synthline');
  } else {
    set = await openReal(path, flag);
  }
  if (set.samples.length === 0) {
    throw new EvaluateError(
      'EMPTY',
      `${flag} ${dir} holds no images: ` +
        (set.kind === 'imagefolder'
          ? 'put photos in one folder per class, <dir>/<class>/<image>.png|jpg|webp'
          : 'its shards have no samples; render or mix some first'),
    );
  }
  return set;
}

/** A synthline dataset or a mix: every sample of every shard the manifest lists, with its label. */
async function openShards(dir: string, flag: string, m: LooseManifest, kind: 'synthline' | 'mix'): Promise<EvalSet> {
  const classes = new Map<string, ClassAttributes>();
  for (const c of m.classes ?? []) if (typeof c?.name === 'string') classes.set(c.name, attributesOf(c));
  const samples: EvalSample[] = [];
  const reader = new MemberReader();
  try {
    for (const shard of m.shards ?? []) {
      if (typeof shard?.name !== 'string' || shard.name.includes('/'))
        throw new EvaluateError('INPUT', `${flag} ${dir}: a shard without a plain name`);
      const path = join(dir, shard.name);
      const fail = (why: string) => new EvaluateError('INPUT', `${flag} shard ${shard.name}: ${why}; run synthline verify ${dir}`);
      let indexed;
      try {
        indexed = await indexTar(path);
      } catch (err) {
        throw fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message);
      }
      if (typeof shard.samples === 'number' && indexed.length !== shard.samples)
        throw fail(`${indexed.length} samples, dataset.json says ${shard.samples}`);
      for (const s of indexed) {
        const json = s.members.find((x) => x.ext === 'json');
        const img = s.members.find((x) => IMAGE_EXTS.includes(x.ext.toLowerCase()));
        if (!json || !img) throw fail(`sample ${s.key} has no ${json ? 'image' : 'label (.json)'}`);
        let label: Record<string, unknown>;
        try {
          label = JSON.parse((await reader.read(path, json)).toString('utf8')) as Record<string, unknown>;
        } catch (err) {
          throw fail(`sample ${s.key}: label is not JSON: ${(err as Error).message}`);
        }
        if (typeof label.class !== 'string') throw fail(`sample ${s.key}: label has no class`);
        const source = label.source === 'real' ? 'real' : 'synthetic';
        const own = label.attributes && typeof label.attributes === 'object' ? attributesOf(label.attributes as ClassAttributes) : {};
        samples.push({
          id: `${shard.name}:${s.key}`,
          source,
          class: label.class,
          attributes: { ...classes.get(label.class), ...own },
          label,
          image: { kind: 'tar', path, member: img },
        });
      }
    }
  } finally {
    await reader.close();
  }
  return { dir, kind, samples, classes };
}

/** Photos: an ImageFolder tree or WebDataset shards, read by the mix's scanner. */
async function openReal(dir: string, flag: string): Promise<EvalSet> {
  let real;
  try {
    real = await scanReal(dir);
  } catch (err) {
    if (!(err instanceof MixError)) throw err;
    // The scanner speaks of --real; here the folder came from another flag.
    throw new EvaluateError('INPUT', err.message.replaceAll('--real ', `${flag} `));
  }
  const samples: EvalSample[] = real.items.map((item) => {
    const label =
      item.originalLabel && typeof item.originalLabel === 'object' ? (item.originalLabel as Record<string, unknown>) : undefined;
    const own = label?.attributes && typeof label.attributes === 'object' ? attributesOf(label.attributes as ClassAttributes) : {};
    return {
      id: item.originalKey !== undefined ? `${item.originalPath}:${item.originalKey}` : item.originalPath,
      source: 'real',
      class: item.class,
      attributes: own,
      ...(label ? { label } : {}),
      image:
        item.origin.kind === 'file'
          ? { kind: 'file', path: item.origin.path }
          : { kind: 'tar', path: item.origin.path, member: item.origin.member },
    };
  });
  return { dir, kind: real.kind, samples, classes: new Map() };
}

/** `train` for `/data/train`: a set's name in a report. */
export const setName = (s: EvalSet): string => basename(s.dir);
