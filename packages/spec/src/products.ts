import { z } from 'zod';
import { SpecError } from './errors.ts';
import { builtinCatalog, findModel, hexToRgb } from './catalog.ts';
import { didYouMean } from './suggest.ts';
import type { JobSpec } from './job-spec.ts';

/** Model file formats a library product may use. */
export const MODEL_FORMATS = ['blend', 'glb', 'gltf', 'fbx', 'obj', 'stl', 'ply'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

const Hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as "#RRGGBB"');

/**
 * `products/<id>/product.json` in an asset library: what the product is called, how big it really
 * is, which material slots take the product colour, and its palette.
 */
export const ProductJson = z.strictObject({
  /** Display name. */
  name: z.string().min(1).max(200),
  /** Class name in datasets; default: the product id. */
  class: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
    .optional(),
  /** Real size of the model's bounding box [x, y, z] in millimetres, as modelled (z up). */
  dimensions_mm: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).optional(),
  /** Used when dimensions_mm is absent: metres per model unit. */
  scale: z.number().positive().max(1000).optional(),
  /** Material names whose base colour becomes the product colour; empty: every material. */
  color_slots: z.array(z.string().min(1)).max(100).default([]),
  colors: z
    .array(z.strictObject({ name: z.string().min(1).max(100), srgb: Hex }))
    .min(1)
    .max(100),
});
export type ProductJson = z.infer<typeof ProductJson>;

/** What Blender found in a product's model file (the render server's `probe`). */
export const ProbeResult = z.object({
  meshes: z.number().int(),
  vertices: z.number().int(),
  faces: z.number().int(),
  dimensions_m: z.tuple([z.number(), z.number(), z.number()]),
  material_slots: z.array(z.string()),
  textured: z.boolean(),
  warnings: z.array(z.string()),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

const Length = z.number().min(1e-6).max(1e3);

/**
 * Where Blender finds a library product, sent in the plan (never a client's path): part of the
 * render protocol (protocol.ts), its limits checked by the render server too.
 */
export const ProductSource = z.object({
  /** Absolute (the render server checks that; a JSON Schema cannot say it). */
  path: z.string().min(1),
  format: z.enum(MODEL_FORMATS),
  /** Real size [x, y, z] in metres, as modelled; null: use `scale`. */
  dimensions_m: z.tuple([Length, Length, Length]).nullable(),
  /** Metres per model unit when `dimensions_m` is null (null: 1). */
  scale: z.number().min(1e-9).max(1e9).nullable(),
  color_slots: z.array(z.string().min(1)),
});
export type ProductSource = z.infer<typeof ProductSource>;

/** A product a spec can use: a builtin phone or a scanned library product that passed. */
export interface CatalogProduct {
  asset: string;
  id: string;
  name: string;
  className: string;
  colors: { name: string; srgb: string }[];
  source: ProductSource | null;
}

/** The library products available to specs (from a scan); builtin products need none. */
export interface ProductIndex {
  /** The usable product, or a reason why not (unknown, failed its scan, changed since). */
  lookup(id: string): CatalogProduct | { error: string };
  /** Background photos in the library: file name and absolute path. */
  backgrounds: { name: string; path: string }[];
}

/** A spec's product entry with everything the planner and the classes need. */
export interface ResolvedProduct extends CatalogProduct {
  weight: number;
  /** The entry's colours, in palette order. */
  palette: { name: string; srgb: string; rgb: [number, number, number] }[];
}

function builtin(id: string): CatalogProduct | { error: string } {
  const m = findModel(id);
  if (!m) {
    const ids = builtinCatalog().models.map((model) => model.id);
    return { error: `unknown model "${id}"${didYouMean(id, ids, (near) => `builtin:${near}`)}` };
  }
  return { asset: `builtin:${id}`, id, name: m.name, className: id, colors: m.colors, source: null };
}

/** `"blue" is not a colour of iPhone 13; did you mean "Blue"?`, or with the palette when nothing is near. */
export function colourProblem(colour: string, product: string, palette: readonly string[]): string {
  return `"${colour}" is not a colour of ${product}${didYouMean(colour, palette) || ` (${palette.join(', ')})`}`;
}

/**
 * Resolves every product of a spec against the builtin catalog and, for `library:` assets, the
 * library index; throws a SpecError naming `products[i]...` for anything that cannot be used.
 */
export function resolveProducts(spec: JobSpec, library?: ProductIndex): ResolvedProduct[] {
  return resolveEntries(spec.products, 'products', library);
}

/** The spec's distractor products (`distractors.products`), resolved like its products. */
export function resolveDistractorProducts(spec: JobSpec, library?: ProductIndex): ResolvedProduct[] {
  const assets = spec.distractors?.products ?? [];
  return resolveEntries(
    assets.map((asset) => ({ asset, colors: [], weight: 1 })),
    'distractors.products',
    library,
    (i) => `distractors.products[${i}]`,
  );
}

function resolveEntries(
  entries: JobSpec['products'],
  what: string,
  library: ProductIndex | undefined,
  assetPath: (i: number) => string = (i) => `${what}[${i}].asset`,
): ResolvedProduct[] {
  const problems: { path: string; message: string }[] = [];
  const out: ResolvedProduct[] = [];
  entries.forEach((p, i) => {
    const [kind, id = ''] = p.asset.split(':');
    let found: CatalogProduct | { error: string };
    if (kind === 'builtin') found = builtin(id);
    else if (!library) found = { error: `"${p.asset}" needs an asset library (set SYNTHLINE_LIBRARY or --library)` };
    else found = library.lookup(id);
    if ('error' in found) {
      problems.push({ path: assetPath(i), message: found.error });
      return;
    }
    const names = found.colors.map((c) => c.name);
    p.colors.forEach((c, j) => {
      if (!names.includes(c)) problems.push({ path: `${what}[${i}].colors[${j}]`, message: colourProblem(c, found.name, names) });
    });
    const palette = (p.colors.length === 0 ? found.colors : found.colors.filter((c) => p.colors.includes(c.name))).map((c) => ({
      ...c,
      rgb: hexToRgb(c.srgb),
    }));
    out.push({ ...found, weight: p.weight, palette });
  });
  if (problems.length) throw new SpecError(problems);
  return out;
}
