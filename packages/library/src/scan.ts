import { relative } from 'node:path';
import { coerceError } from '@synthline/base';
import { BlenderError, type RenderSlot } from '@synthline/blender';
import { isServerErrorCode } from '@synthline/spec';
import type { AssetLibrary, ScanEntry } from './library.ts';

/** A failed probe as the scan reports it: what is wrong with the file, in the user's words. */
function scanError(e: Error): string {
  if (!(e instanceof BlenderError)) return e.message;
  // The file's own problem, named by Blender (FRAME_FAILED: a reply with a code outside the protocol, named in its message).
  if (e.code === 'BAD_ASSET' || e.code === 'FRAME_FAILED') return e.message;
  if (e.code === 'MEMORY_LIMIT' || isServerErrorCode(e.code)) return `${e.code}: ${e.message}`;
  return `Blender crashed or hung reading the model (${e.message})`;
}

/**
 * Probes every product of a library once in Blender and saves the results: meshes, vertices,
 * real dimensions, material slots, warnings (nothing to recolour, very high polygon count,
 * suspicious scale), or the error that makes it unusable. A file that crashes Blender is
 * reported like any other bad asset; the slot restarts Blender for the next one.
 */
export async function scanLibrary(library: AssetLibrary, slot: RenderSlot, onProduct?: (e: ScanEntry) => void): Promise<ScanEntry[]> {
  const entries: ScanEntry[] = [];
  for (const f of library.folders) {
    const p = f.product;
    const entry: ScanEntry = {
      id: f.id,
      ok: false,
      model_file: f.modelPath && relative(library.root, f.modelPath),
      format: f.format,
      size: f.size,
      mtime_ms: f.mtimeMs,
      name: p?.name ?? null,
      class: p ? (p.class ?? f.id) : null,
      dimensions_m: null,
      color_slots: p?.color_slots ?? [],
      colors: p?.colors ?? [],
      probe: null,
      errors: [...f.errors],
      warnings: [],
      scanned_at: new Date().toISOString(),
    };
    if (entry.errors.length === 0 && f.modelPath && f.format) {
      try {
        const probe = await slot.probe({
          path: f.modelPath,
          format: f.format,
          dimensions_m: null,
          scale: null,
          color_slots: p?.color_slots ?? [],
        });
        entry.probe = probe;
        entry.warnings.push(...probe.warnings);
        if (probe.meshes === 0) entry.errors.push('the model holds no mesh');
        const dims = p?.dimensions_mm;
        const scale = dims ? Math.max(...dims) / 1000 / Math.max(...probe.dimensions_m) : (p?.scale ?? 1);
        entry.dimensions_m = probe.dimensions_m.map((d) => Number((d * scale).toFixed(6))) as [number, number, number];
        if (p && p.color_slots.length > 0) {
          const missing = p.color_slots.filter((s) => !probe.material_slots.includes(s));
          if (missing.length)
            entry.warnings.push(
              `color_slots not found in the model: ${missing.join(', ')} (materials: ${probe.material_slots.join(', ') || 'none'})`,
            );
        }
      } catch (err) {
        entry.errors.push(scanError(coerceError(err)));
      }
    }
    entry.ok = entry.errors.length === 0;
    entries.push(entry);
    onProduct?.(entry);
  }
  await library.saveScan(entries);
  return entries;
}
