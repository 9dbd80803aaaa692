import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Where the builtin phone catalog lives: data shared by the TypeScript side and Blender. */
export const BUILTIN_CATALOG_PATH = fileURLToPath(new URL('../../../blender-scripts/catalog/phones.json', import.meta.url));

/** HDRIs that ship with Blender (datafiles/studiolights/world), by file stem. */
export const BUILTIN_HDRIS = ['city', 'courtyard', 'forest', 'interior', 'night', 'studio', 'sunrise', 'sunset'] as const;

const Hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #RRGGBB');

/** One marketed colour of a product. */
export const CatalogColor = z.object({ name: z.string().min(1), srgb: Hex });
export type CatalogColor = z.infer<typeof CatalogColor>;

/** One builtin model; the geometry fields beyond `body` are Blender's business. */
export const CatalogModel = z.looseObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string().min(1),
  body: z.looseObject({
    width_mm: z.number().positive(),
    height_mm: z.number().positive(),
    thickness_mm: z.number().positive(),
  }),
  colors: z.array(CatalogColor).min(1),
});
export type CatalogModel = z.infer<typeof CatalogModel>;

export const Catalog = z.object({ version: z.literal(1), models: z.array(CatalogModel).min(1) });
export type Catalog = z.infer<typeof Catalog>;

let cached: Catalog | undefined;

/** The builtin phone catalog, read once from {@link BUILTIN_CATALOG_PATH}. */
export function builtinCatalog(): Catalog {
  cached ??= Catalog.parse(JSON.parse(readFileSync(BUILTIN_CATALOG_PATH, 'utf8')));
  return cached;
}

/** The builtin model with this id, or undefined. */
export function findModel(id: string, catalog: Catalog = builtinCatalog()): CatalogModel | undefined {
  return catalog.models.find((m) => m.id === id);
}

/** "#RRGGBB" -> [r, g, b] in [0, 1]. */
export function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** A colour name as it may appear in a class name: "(PRODUCT)RED" -> "product-red". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
