import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IMAGE_TYPES, Manifest, type ImageFormat } from '@synthline/spec';
import { MANIFEST_FILE, hashFile, readTar } from '@synthline/shards';
import { MixError } from './errors.ts';
import { MIX_FORMAT, MixManifest } from './manifest.ts';
import { entriesOf, within } from './out-dir.ts';
import { EXPORT_FORMATS, type ExportFormatName } from './export-formats.ts';

/** The file an export writes at the root of its folder, last: what it holds and where from. */
export const EXPORT_FILE = 'export.json';
/** The `format` of {@link EXPORT_FILE} for an ImageFolder export. */
export const EXPORT_FORMAT = 'synthline.imagefolder/1';

/** What {@link exportDataset} is asked to do. */
export interface ExportOptions {
  /** A synthline dataset or a mix (a mix: imagefolder only). */
  from: string;
  out: string;
  /** The layout written (default imagefolder); see {@link EXPORT_FORMATS}. */
  format?: ExportFormatName;
  /** `source`: one ImageFolder tree per source, `<out>/<source>/<class>/<key>.<ext>`. */
  splitBy?: 'source';
  /** Also write each label as `<key>.json` beside its image. */
  withLabels?: boolean;
  /** Replace a folder that a previous export wrote. */
  overwrite?: boolean;
  /** crops: the margin around each box, as a fraction of its width and height (default 0.1). */
  margin?: number;
  onProgress?: (p: { done: number; total: number }) => void;
}

/** What an export wrote. */
export interface ExportReport {
  outDir: string;
  from: string;
  fromFormat: string;
  format: ExportFormatName;
  /** The ImageFolder roots, relative to `outDir`: `.` or one per source. */
  roots: string[];
  images: number;
  labels: number;
  /** The files a training script points at (annotations.json, data.yaml), relative to `outDir`. */
  files: string[];
  /** What the format counted besides images: annotations, crops, samples without a box. */
  counts: Record<string, number>;
  perClass: Record<string, number>;
  perSource: Record<string, number>;
  indexPath: string;
}

const SAFE_KEY = /^[A-Za-z0-9_-]+$/;
export { EXPORT_FORMATS, type ExportFormatName };

/** A class name that is one plain path segment. */
const safeSegment = (s: string): boolean => s !== '' && s !== '.' && s !== '..' && !/[/\\\0]/.test(s);

interface Source {
  format: string;
  manifestSha256: string;
  classes: { index: number; name: string }[];
  shards: { name: string; samples: number; bytes: number; sha256: string }[];
  /** The extension of a sample's image, from its members. */
  imageExt: (exts: string[]) => string | undefined;
}

async function openSource(dir: string): Promise<Source> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new MixError('EXPORT_INPUT', `--from ${dir}: no ${MANIFEST_FILE}; not a synthline dataset or mix, or one not finished`);
  }
  const manifestSha256 = createHash('sha256').update(text).digest('hex');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MixError('EXPORT_INPUT', `--from ${dir}/${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  const issue = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
    new MixError('EXPORT_INPUT', `--from ${dir}/${MANIFEST_FILE}: ${e.issues[0]?.path.join('.')}: ${e.issues[0]?.message}`);
  if (format === MIX_FORMAT) {
    const m = MixManifest.safeParse(json);
    if (!m.success) throw issue(m.error);
    return {
      format,
      manifestSha256,
      classes: m.data.classes,
      shards: m.data.shards,
      imageExt: (exts) => exts.find((e) => e === 'png' || e === 'jpg' || e === 'webp'),
    };
  }
  const m = Manifest.safeParse(json);
  if (!m.success) throw issue(m.error);
  const ext = IMAGE_TYPES[m.data.image_format as ImageFormat]?.ext ?? m.data.image_format;
  return {
    format: m.data.format,
    manifestSha256,
    classes: m.data.classes,
    shards: m.data.shards,
    imageExt: (exts) => exts.find((e) => e === ext),
  };
}

/**
 * Writes a synthline dataset or mix in one of {@link EXPORT_FORMATS}: images copied byte for byte
 * (crops re-encoded), labels in the format's own files, then `export.json`. It is built in a
 * hidden folder beside `out` and renamed into place when complete. A non-empty `out` is refused,
 * and with `overwrite` replaced only if a previous export wrote it.
 */
export async function exportDataset(opts: ExportOptions): Promise<ExportReport> {
  const kind = opts.format ?? 'imagefolder';
  if (!(kind in EXPORT_FORMATS)) {
    throw new MixError('BAD_OPTION', `--format ${String(kind)} is not supported (${Object.keys(EXPORT_FORMATS).join(', ')})`);
  }
  if (opts.splitBy && kind !== 'imagefolder') throw new MixError('BAD_OPTION', `--split-by applies to --format imagefolder only`);
  const from = resolve(opts.from);
  const outDir = resolve(opts.out);
  if (within(outDir, from) || within(from, outDir)) {
    throw new MixError('BAD_OPTION', `--out ${outDir} and --from ${from} must not contain one another`);
  }
  const existing = await entriesOf(outDir);
  if (existing.length > 0) {
    if (!opts.overwrite) throw new MixError('OUTPUT_EXISTS', `${outDir} is not empty; use --overwrite to replace a previous export there`);
    if (!existing.includes(EXPORT_FILE)) {
      throw new MixError(
        'OUTPUT_EXISTS',
        `${outDir} is not empty and holds no ${EXPORT_FILE}; --overwrite replaces only a folder that export wrote`,
      );
    }
  }
  const source = await openSource(from);
  if (kind !== 'imagefolder' && source.format === MIX_FORMAT) {
    throw new MixError(
      'BAD_OPTION',
      `--format ${kind} needs a rendered dataset (its boxes and masks); a mix's real photos have none: export it as imagefolder`,
    );
  }
  for (const s of source.shards) {
    let sum: { sha256: string; bytes: number };
    try {
      sum = await hashFile(join(from, s.name));
    } catch {
      throw new MixError('EXPORT_INPUT', `--from shard ${s.name}: missing`);
    }
    if (sum.bytes !== s.bytes || sum.sha256 !== s.sha256) {
      throw new MixError(
        'EXPORT_INPUT',
        `--from shard ${s.name}: size or sha256 differs from ${MANIFEST_FILE}; run synthline verify ${from}`,
      );
    }
  }

  const stage = join(dirname(outDir), `.${basename(outDir)}.export-partial`);
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  try {
    const sink = EXPORT_FORMATS[kind].open(stage, {
      outDir,
      classes: source.classes,
      splitBy: opts.splitBy,
      withLabels: opts.withLabels ?? false,
      margin: opts.margin ?? 0.1,
    });
    const perClass: Record<string, number> = {};
    const perSource: Record<string, number> = {};
    let images = 0;
    const total = source.shards.reduce((n, s) => n + s.samples, 0);
    for (const shard of source.shards) {
      for await (const s of readTar(join(from, shard.name))) {
        const where = `${shard.name}:${s.key}`;
        const ext = source.imageExt(s.members.map((m) => m.ext));
        const image = s.members.find((m) => m.ext === ext);
        const json = s.members.find((m) => m.ext === 'json');
        if (!ext || !image || !json) throw new MixError('EXPORT_INPUT', `${where}: no image or no label`);
        if (!SAFE_KEY.test(s.key)) throw new MixError('EXPORT_INPUT', `${where}: key is not usable as a file name`);
        const label = JSON.parse(json.data.toString('utf8')) as Record<string, unknown>;
        const cls = label.class;
        const src = label.source ?? 'synthetic';
        if (typeof cls !== 'string' || !safeSegment(cls))
          throw new MixError('EXPORT_INPUT', `${where}: class ${JSON.stringify(cls)} is not usable as a folder name`);
        if (src !== 'real' && src !== 'synthetic') throw new MixError('EXPORT_INPUT', `${where}: unknown source ${JSON.stringify(src)}`);
        await sink.add({ where, key: s.key, cls, source: src, ext, image: image.data, label, labelBytes: json.data, members: s.members });
        images++;
        perClass[cls] = (perClass[cls] ?? 0) + 1;
        perSource[src] = (perSource[src] ?? 0) + 1;
        opts.onProgress?.({ done: images, total });
      }
    }
    const done = await sink.finish();
    const roots = opts.splitBy === 'source' ? Object.keys(perSource).sort() : ['.'];
    const sorted = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const index = {
      format: `synthline.${kind}/1`,
      from,
      from_format: source.format,
      from_manifest_sha256: source.manifestSha256,
      layout: done.layout,
      roots,
      with_labels: opts.withLabels ?? false,
      classes: source.classes.map((c) => ({ index: c.index, name: c.name })),
      ...done.index,
      counts: { images, per_class: sorted(perClass), per_source: sorted(perSource), ...done.counts },
    };
    await writeFile(join(stage, EXPORT_FILE), `${JSON.stringify(index, null, 2)}\n`);
    await swapIn(stage, outDir, existing.length > 0);
    return {
      outDir,
      from,
      fromFormat: source.format,
      format: kind,
      roots,
      images,
      labels: done.labels,
      perClass: sorted(perClass),
      perSource: sorted(perSource),
      files: done.files,
      counts: done.counts,
      indexPath: join(outDir, EXPORT_FILE),
    };
  } catch (err) {
    await rm(stage, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** {@link exportDataset} as an ImageFolder tree (the export of earlier releases). */
export function exportImageFolder(opts: Omit<ExportOptions, 'format'>): Promise<ExportReport> {
  return exportDataset({ ...opts, format: 'imagefolder' });
}

/** Moves the finished export into place, replacing the previous one only after it is whole. */
async function swapIn(stage: string, outDir: string, replacing: boolean): Promise<void> {
  await mkdir(dirname(outDir), { recursive: true });
  if (!replacing) {
    await rmdir(outDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(stage, outDir);
    return;
  }
  const old = join(dirname(outDir), `.${basename(outDir)}.export-old`);
  await rm(old, { recursive: true, force: true });
  await rename(outDir, old);
  await rename(stage, outDir);
  await rm(old, { recursive: true, force: true });
}
