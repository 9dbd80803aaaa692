import { planContext } from '@synthline/planner';
import type { RenderSlot } from '@synthline/blender';
import type { AssetLibrary } from '@synthline/library';
import { parseSpec } from '@synthline/spec';
import { renderFrames } from './render-frames.ts';

/** A thumbnail's size and samples: small, clean, quick. */
export const THUMBNAIL = { resolution: [160, 120] as [number, number], samples: 16 };

/**
 * The spec of product `id`'s thumbnail: one frame of it alone, face up, seen from above under the
 * default lights, without sensor noise or grain: what the product looks like on the belt.
 */
export function thumbnailSpec(id: string, longestSideM: number) {
  // Four times its longest side away: the whole product, with belt around it.
  const distance = Math.min(10, Math.max(0.1, Number((4 * longestSideM).toFixed(4))));
  return parseSpec({
    name: `thumbnail-${id}`.slice(0, 64),
    seed: 0,
    count: 1,
    products: [{ asset: `library:${id}` }],
    render: { resolution: THUMBNAIL.resolution, samples: THUMBNAIL.samples },
    camera: { distance_m: distance, elevation_deg: 90, roll_deg: 0, look_at_jitter_m: 0 },
    product: { face_down_probability: 0, offset_m: 0 },
    sensor: { noise_sigma: 0, grain_strength: 0, blur_sigma_px: 0, exposure_ev: 0 },
  });
}

/**
 * Renders each usable product's thumbnail through `slot` (with the library as scanned) and keeps
 * it in the library; the error of each one that could not be rendered, by product id.
 */
export async function renderThumbnails(library: AssetLibrary, slot: RenderSlot, ids: string[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const id of ids) {
    const dims = library.scanFile.products[id]?.dimensions_m ?? [0.15, 0.15, 0.15];
    const spec = thumbnailSpec(id, Math.max(...dims));
    try {
      for await (const o of renderFrames({ spec, indices: [0], slot, context: planContext(spec, library) })) {
        if (o.ok) await library.saveThumbnail(id, o.frame.image);
        else failed.set(id, o.failure.error);
      }
    } catch (err) {
      failed.set(id, (err as Error).message);
    }
  }
  return failed;
}
