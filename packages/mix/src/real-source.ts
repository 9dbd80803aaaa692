import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '@synthline/shards';
import { MixError } from './errors.ts';
import { isImageExtension, mapLimit, probeImage, type ImageInfo } from './images.ts';
import { MIX_FORMAT } from './manifest.ts';
import { byCodeUnit } from './shuffle.ts';
import { MemberReader, indexTar, type IndexedMember } from './tar-index.ts';

/** Where a real image's bytes are: a file, or a member of a tar shard. */
export type RealOrigin = { kind: 'file'; path: string } | { kind: 'tar'; path: string; member: IndexedMember };

/** One real image, ready to be chosen. */
export interface RealItem {
  class: string;
  /** Relative to the real folder: `<class>/<file>` (ImageFolder) or the shard's name (WebDataset). */
  originalPath: string;
  /** The sample's key in its shard (WebDataset). */
  originalKey?: string;
  /** The sample's `.json` (WebDataset), parsed. */
  originalLabel?: unknown;
  image: ImageInfo;
  origin: RealOrigin;
}

/** The real images of a folder, in a fixed order (classes and files by name, or shard order). */
export interface RealSet {
  dir: string;
  kind: 'imagefolder' | 'webdataset';
  items: RealItem[];
  /** Every class seen, even one whose folder holds no image, sorted. */
  classes: string[];
  shards: { name: string; bytes: number; sha256: string }[];
  ignored: string[];
}

/** How many problems of one kind an error message lists before "and N more". */
const LIST = 20;

const listed = (items: string[]): string =>
  items
    .slice(0, LIST)
    .map((s) => `\n  ${s}`)
    .join('') + (items.length > LIST ? `\n  ... and ${items.length - LIST} more` : '');

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads the real images in `dir`, which is either an ImageFolder tree (`<dir>/<class>/<image>`)
 * or a WebDataset folder (`*.tar` shards, and perhaps a `dataset.json` naming the classes).
 * Every image is probed (format and size from its header); one that does not decode as PNG, JPEG
 * or WebP is an error, as is anything that would make a class ambiguous. Files that are not
 * images are listed in `ignored`, never dropped silently.
 */
export async function scanReal(dir: string): Promise<RealSet> {
  if (!(await isDir(dir))) throw new MixError('REAL_INPUT', `--real ${dir}: not a folder`);
  const entries = (await readdir(dir)).sort(byCodeUnit);
  const tars = entries.filter((e) => e.endsWith('.tar'));
  if (tars.length > 0 || entries.includes('dataset.json')) {
    const other = entries.filter((e) => !tars.includes(e) && e !== 'dataset.json').map((e) => `${e}: not a shard`);
    return scanWebDataset(dir, tars, other);
  }
  const dirs: string[] = [];
  for (const e of entries) if (!e.startsWith('.') && (await isDir(join(dir, e)))) dirs.push(e);
  const loose = entries.filter((e) => isImageExtension(extOf(e)));
  if (dirs.length === 0) {
    throw new MixError(
      'REAL_INPUT',
      `--real ${dir} is neither an ImageFolder tree (<dir>/<class>/<image>.png|jpg|jpeg|webp) nor a WebDataset folder (*.tar shards)` +
        (loose.length ? `; it holds ${loose.length} image(s) directly: put them in one folder per class` : ''),
    );
  }
  return scanImageFolder(dir, entries, dirs, loose);
}

const extOf = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : '';
};

async function scanImageFolder(dir: string, entries: string[], classes: string[], loose: string[]): Promise<RealSet> {
  if (loose.length > 0) {
    throw new MixError(
      'REAL_INPUT',
      `--real ${dir}: images outside any class folder (ImageFolder is <dir>/<class>/<image>):${listed(loose)}`,
    );
  }
  const ignored: string[] = [];
  for (const e of entries) if (!classes.includes(e)) ignored.push(`${e}: not a class folder`);
  const files: { class: string; rel: string }[] = [];
  const nested: string[] = [];
  for (const c of classes) {
    for (const f of (await readdir(join(dir, c))).sort(byCodeUnit)) {
      const rel = `${c}/${f}`;
      if (f.startsWith('.')) ignored.push(`${rel}: hidden`);
      else if (await isDir(join(dir, rel))) nested.push(`${rel}/`);
      else if (isImageExtension(extOf(f))) files.push({ class: c, rel });
      else ignored.push(`${rel}: not a .png, .jpg, .jpeg or .webp file`);
    }
  }
  if (nested.length > 0) {
    throw new MixError(
      'REAL_INPUT',
      `--real ${dir}: folders inside class folders; an ImageFolder here is one level, <dir>/<class>/<image>:${listed(nested)}`,
    );
  }
  const bad: string[] = [];
  const probed = await mapLimit(files, 8, async (f) => {
    try {
      return await probeImage(join(dir, f.rel));
    } catch (err) {
      bad.push(`${f.rel}: ${(err as Error).message}`);
      return undefined;
    }
  });
  if (bad.length > 0)
    throw new MixError('REAL_INPUT', `--real ${dir}: ${bad.length} image(s) that cannot be used:${listed(bad.sort(byCodeUnit))}`);
  const items: RealItem[] = [];
  files.forEach((f, i) => {
    const image = probed[i];
    if (image) items.push({ class: f.class, originalPath: f.rel, image, origin: { kind: 'file', path: join(dir, f.rel) } });
  });
  return { dir, kind: 'imagefolder', items, classes, shards: [], ignored };
}

/** A `dataset.json` beside WebDataset shards, read loosely: class names and shard checksums. */
interface LooseManifest {
  classes: Map<number, string>;
  shards?: { name: string; bytes?: number; sha256?: string }[];
}

async function readLooseManifest(dir: string): Promise<LooseManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'dataset.json'), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MixError('REAL_INPUT', `--real ${dir}/dataset.json is not valid JSON: ${(err as Error).message}`);
  }
  const m = (json ?? {}) as { format?: unknown; classes?: unknown; shards?: unknown };
  if (m.format === MIX_FORMAT) {
    throw new MixError(
      'REAL_INPUT',
      `--real ${dir} is a mix (${MIX_FORMAT}), which holds synthetic samples; give the real photos themselves`,
    );
  }
  const classes = new Map<number, string>();
  if (Array.isArray(m.classes)) {
    for (const c of m.classes as { index?: unknown; name?: unknown }[]) {
      if (typeof c?.index === 'number' && typeof c.name === 'string') classes.set(c.index, c.name);
    }
  }
  const out: LooseManifest = { classes };
  if (Array.isArray(m.shards)) {
    out.shards = (m.shards as { name?: unknown; bytes?: unknown; sha256?: unknown }[]).map((s, i) => {
      if (typeof s?.name !== 'string' || s.name.includes('/') || s.name.startsWith('.')) {
        throw new MixError('REAL_INPUT', `--real ${dir}/dataset.json: shards[${i}] has no plain file name`);
      }
      return {
        name: s.name,
        ...(typeof s.bytes === 'number' ? { bytes: s.bytes } : {}),
        ...(typeof s.sha256 === 'string' ? { sha256: s.sha256 } : {}),
      };
    });
  }
  return out;
}

async function scanWebDataset(dir: string, tars: string[], ignored: string[]): Promise<RealSet> {
  const manifest = await readLooseManifest(dir);
  const shardList: { name: string; bytes?: number; sha256?: string }[] = manifest?.shards ?? tars.map((name) => ({ name }));
  if (shardList.length === 0) throw new MixError('REAL_INPUT', `--real ${dir}: a dataset.json but no tar shards`);
  const listedNames = new Set(shardList.map((s) => s.name));
  for (const t of tars) if (!listedNames.has(t)) ignored.push(`${t}: not listed in dataset.json`);
  const bad: string[] = [];
  const rendered: string[] = [];
  const items: RealItem[] = [];
  const shards: RealSet['shards'] = [];
  const reader = new MemberReader();
  try {
    for (const entry of shardList) {
      const path = join(dir, entry.name);
      let sum: { sha256: string; bytes: number };
      try {
        sum = await hashFile(path);
      } catch (err) {
        throw new MixError(
          'REAL_INPUT',
          `--real shard ${entry.name}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message}`,
        );
      }
      if ((entry.sha256 !== undefined && entry.sha256 !== sum.sha256) || (entry.bytes !== undefined && entry.bytes !== sum.bytes)) {
        throw new MixError(
          'REAL_INPUT',
          `--real shard ${entry.name}: sha256 or size differs from ${dir}/dataset.json; the shard is damaged or was changed`,
        );
      }
      shards.push({ name: entry.name, ...sum });
      let samples;
      try {
        samples = await indexTar(path);
      } catch (err) {
        throw new MixError('REAL_INPUT', `--real shard ${entry.name}: ${(err as Error).message}`);
      }
      for (const s of samples) {
        const where = `${entry.name}:${s.key}`;
        const img = s.members.find((m) => isImageExtension(m.ext));
        if (!img) {
          ignored.push(`${where}: no .png, .jpg, .jpeg or .webp member`);
          continue;
        }
        const json = s.members.find((m) => m.ext === 'json');
        const cls = s.members.find((m) => m.ext === 'cls');
        let label: unknown;
        let name: string | undefined;
        if (json) {
          try {
            label = JSON.parse((await reader.read(path, json)).toString('utf8'));
          } catch (err) {
            bad.push(`${where}.json: ${(err as Error).message}`);
            continue;
          }
          const l = (label ?? {}) as { class?: unknown; source?: unknown };
          if (l.source === 'synthetic') {
            rendered.push(where);
            continue;
          }
          if (typeof l.class === 'string' && l.class !== '') name = l.class;
        }
        if (cls) {
          const text = (await reader.read(path, cls)).toString('utf8').trim();
          const byIndex = /^\d+$/.test(text) ? manifest?.classes.get(Number(text)) : text;
          if (/^\d+$/.test(text) && byIndex === undefined && name === undefined) {
            bad.push(`${where}: .cls holds class index ${text} but no dataset.json names it and no .json has a "class"`);
            continue;
          }
          if (byIndex !== undefined && name !== undefined && byIndex !== name) {
            bad.push(`${where}: .json says class "${name}" but .cls says ${text} ("${byIndex}")`);
            continue;
          }
          name ??= byIndex;
        }
        if (name === undefined) {
          bad.push(`${where}: no class (a .json with a "class" name, or a .cls)`);
          continue;
        }
        let image: ImageInfo;
        try {
          image = await probeImage(await reader.read(path, img));
        } catch (err) {
          bad.push(`${where}.${img.ext}: ${(err as Error).message}`);
          continue;
        }
        items.push({
          class: name,
          originalPath: entry.name,
          originalKey: s.key,
          ...(label !== undefined ? { originalLabel: label } : {}),
          image,
          origin: { kind: 'tar', path, member: img },
        });
      }
    }
  } finally {
    await reader.close();
  }
  if (rendered.length > 0) {
    bad.unshift(
      `${rendered.length} sample(s) labelled source "synthetic" (${rendered.slice(0, 3).join(', ')}${rendered.length > 3 ? ', ...' : ''}); --real takes photos, not renders`,
    );
  }
  if (bad.length > 0) throw new MixError('REAL_INPUT', `--real ${dir}: samples that cannot be used:${listed(bad)}`);
  const classes = [...new Set(items.map((i) => i.class))].sort(byCodeUnit);
  return { dir, kind: 'webdataset', items, classes, shards, ignored };
}
