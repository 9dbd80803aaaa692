import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  MODEL_FORMATS,
  ProbeResult,
  ProductJson,
  problemsOf,
  type CatalogProduct,
  type ModelFormat,
  type ProductIndex,
} from '@synthline/spec';
import { writeFileAtomic } from '@synthline/base';
import { mirrorS3, putS3File, s3CacheDir } from '@synthline/storage';

/** The scan results, kept in the library at `.synthline/scan.json`. */
export const SCAN_FILE = join('.synthline', 'scan.json');
/** Where a scan keeps each usable product's thumbnail: `<id>.png`. */
export const THUMBNAILS_DIR = join('.synthline', 'thumbnails');

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp', '.exr', '.hdr']);

/** What a scan found out about one product; `ok` products can be used in specs. */
export const ScanEntry = z.object({
  id: z.string(),
  ok: z.boolean(),
  /** The model file, relative to the library (absolute in scans made before 0.1.1). */
  model_file: z.string().nullable(),
  format: z.enum(MODEL_FORMATS).nullable(),
  /** The model file's size and mtime when scanned: a changed file needs a new scan. */
  size: z.number().nullable(),
  mtime_ms: z.number().nullable(),
  name: z.string().nullable(),
  class: z.string().nullable(),
  dimensions_m: z.tuple([z.number(), z.number(), z.number()]).nullable(),
  color_slots: z.array(z.string()),
  colors: z.array(z.object({ name: z.string(), srgb: z.string() })),
  probe: ProbeResult.nullable(),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
  scanned_at: z.string(),
});
export type ScanEntry = z.infer<typeof ScanEntry>;

export const ScanFile = z.object({ version: z.literal(1), products: z.record(z.string(), ScanEntry) });
export type ScanFile = z.infer<typeof ScanFile>;

/** A product folder as found on disk, before Blender looked at it. */
export interface ProductFolder {
  id: string;
  dir: string;
  modelPath: string | null;
  format: ModelFormat | null;
  size: number | null;
  mtimeMs: number | null;
  product: ProductJson | null;
  /** Problems found without Blender: no model file, several, unsupported, bad product.json. */
  errors: string[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * An asset library folder: `products/<id>/` (one model file and a `product.json`),
 * `backgrounds/` (photos) and `hdri/`. Specs name products `library:<id>`, never by path; only
 * products that passed a scan (`synthline assets scan`) unchanged since can be used.
 *
 * A library may also live in a bucket (`s3://bucket/prefix`, the same layout): it is mirrored
 * into a local folder on open, files keeping the objects' LastModified as mtime, so a scan made
 * on one machine holds on every machine that mirrors the same objects.
 */
export class AssetLibrary implements ProductIndex {
  /** Where the library comes from: its folder, or its s3:// URL. */
  source = '';

  private constructor(
    readonly root: string,
    readonly folders: ProductFolder[],
    readonly backgrounds: { name: string; path: string }[],
    readonly hdris: { name: string; path: string }[],
    readonly scanFile: ScanFile,
  ) {}

  /** Reads a library folder or mirrors an s3:// one (a missing folder is an empty library). */
  static async open(root: string): Promise<AssetLibrary> {
    if (root.startsWith('s3://')) {
      const local = s3CacheDir(root);
      await mirrorS3(root, local, { prune: true });
      const lib = await AssetLibrary.openFolder(local);
      lib.source = root.replace(/\/+$/, '');
      return lib;
    }
    const lib = await AssetLibrary.openFolder(root);
    lib.source = lib.root;
    return lib;
  }

  private static async openFolder(root: string): Promise<AssetLibrary> {
    const abs = resolve(root);
    const folders: ProductFolder[] = [];
    for (const id of (await list(join(abs, 'products'))).sort()) {
      const dir = join(abs, 'products', id);
      if (!(await stat(dir)).isDirectory()) continue;
      folders.push(await readFolder(id, dir));
    }
    const images = async (sub: string) =>
      (await list(join(abs, sub)))
        .filter((f) => IMAGE_EXTS.has(extname(f).toLowerCase()))
        .sort()
        .map((name) => ({ name, path: join(abs, sub, name) }));
    let scanFile: ScanFile = { version: 1, products: {} };
    try {
      scanFile = ScanFile.parse(JSON.parse(await readFile(join(abs, SCAN_FILE), 'utf8')));
    } catch {
      // not scanned yet (or an old format): every product needs a scan
    }
    return new AssetLibrary(abs, folders, await images('backgrounds'), await images('hdri'), scanFile);
  }

  /** The scan entry of a product if it still describes the file on disk. */
  current(id: string): ScanEntry | undefined {
    const f = this.folders.find((x) => x.id === id);
    const e = this.scanFile.products[id];
    if (!f || !e || !e.model_file || e.size !== f.size || e.mtime_ms !== f.mtimeMs || resolve(this.root, e.model_file) !== f.modelPath)
      return undefined;
    return e;
  }

  lookup(id: string): CatalogProduct | { error: string } {
    const f = this.folders.find((x) => x.id === id);
    if (!f) {
      const known = this.folders.map((x) => x.id).join(', ') || 'none';
      return { error: `no product "${id}" in the asset library ${this.root} (products: ${known})` };
    }
    if (f.errors.length) return { error: `library product "${id}" is unusable: ${f.errors.join('; ')}` };
    const e = this.current(id);
    if (!e) return { error: `library product "${id}" has not been scanned since it last changed: run "synthline assets scan"` };
    if (!e.ok) return { error: `library product "${id}" failed its scan: ${e.errors.join('; ')}` };
    const p = f.product;
    if (!p || !f.modelPath || !f.format) return { error: `library product "${id}" is incomplete` };
    return {
      asset: `library:${id}`,
      id,
      name: p.name,
      className: p.class ?? id,
      colors: p.colors,
      source: {
        path: f.modelPath,
        format: f.format,
        dimensions_m: p.dimensions_mm ? [p.dimensions_mm[0] / 1000, p.dimensions_mm[1] / 1000, p.dimensions_mm[2] / 1000] : null,
        scale: p.dimensions_mm ? null : (p.scale ?? 1),
        color_slots: p.color_slots,
      },
    };
  }

  /** Writes the scan results into the library. */
  async saveScan(entries: ScanEntry[]): Promise<void> {
    const file: ScanFile = { version: 1, products: Object.fromEntries(entries.map((e) => [e.id, e])) };
    await mkdir(join(this.root, '.synthline'), { recursive: true });
    await writeFileAtomic(join(this.root, SCAN_FILE), `${JSON.stringify(file, null, 2)}\n`);
    // A library in a bucket gets its scan back there, for every other machine.
    if (this.source.startsWith('s3://')) await putS3File(`${this.source}/.synthline/scan.json`, join(this.root, SCAN_FILE));
    (this as { scanFile: ScanFile }).scanFile = file;
  }

  /** Where product `id`'s thumbnail is kept (it may not exist); an id that is not one is refused. */
  thumbnailPath(id: string): string {
    if (!ID.test(id)) throw new Error(`"${id}" is not a product id`);
    return join(this.root, THUMBNAILS_DIR, `${id}.png`);
  }

  /** Keeps a product's thumbnail (a PNG); a library in a bucket gets it back there too. */
  async saveThumbnail(id: string, png: Buffer): Promise<void> {
    const path = this.thumbnailPath(id);
    await mkdir(join(this.root, THUMBNAILS_DIR), { recursive: true });
    await writeFileAtomic(path, png);
    if (this.source.startsWith('s3://')) await putS3File(`${this.source}/.synthline/thumbnails/${id}.png`, path);
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function readFolder(id: string, dir: string): Promise<ProductFolder> {
  const errors: string[] = [];
  if (!ID.test(id)) errors.push(`folder name "${id}" is not a valid product id (letters, digits, "-", "_")`);
  const files = await list(dir);
  const models = files.filter((f) => (MODEL_FORMATS as readonly string[]).includes(extname(f).slice(1).toLowerCase()));
  const others = files.filter(
    (f) => f !== 'product.json' && !models.includes(f) && /\.(3ds|dae|usd|usdz|usda|abc|x3d|max|skp|step|stp|iges)$/i.test(f),
  );
  let modelPath: string | null = null;
  let format: ModelFormat | null = null;
  let size: number | null = null;
  let mtimeMs: number | null = null;
  if (models.length === 0) {
    errors.push(
      others.length
        ? `unsupported model format: ${others.join(', ')} (supported: ${MODEL_FORMATS.map((f) => `.${f}`).join(', ')})`
        : `no model file (one of ${MODEL_FORMATS.map((f) => `.${f}`).join(', ')})`,
    );
  } else if (models.length > 1) {
    errors.push(`several model files (${models.join(', ')}): keep exactly one`);
  } else {
    const m = models[0] as string;
    modelPath = join(dir, m);
    format = extname(m).slice(1).toLowerCase() as ModelFormat;
    const st = await stat(modelPath);
    size = st.size;
    mtimeMs = Math.floor(st.mtimeMs);
    if (st.size === 0) errors.push(`${m} is empty`);
  }
  let product: ProductJson | null = null;
  try {
    const r = ProductJson.safeParse(JSON.parse(await readFile(join(dir, 'product.json'), 'utf8')));
    if (r.success) product = r.data;
    else for (const p of problemsOf(r.error)) errors.push(`product.json: ${p.path === '(spec)' ? '' : `${p.path}: `}${p.message}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    errors.push(e.code === 'ENOENT' ? 'product.json is missing' : `product.json is not valid JSON: ${e.message}`);
  }
  return { id, dir, modelPath, format, size, mtimeMs, product, errors };
}
