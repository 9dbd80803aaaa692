import type { FramePlan, ImageFormat } from '@synthline/spec';
import { applySensor, decodeRgb, encode } from './effects.ts';

/** What becomes of one rendered image: its sensor effects and its encoding. */
export interface FinishJob {
  /** The image Blender wrote. */
  imagePath: string;
  sensor: FramePlan['sensor'];
  format: ImageFormat;
  quality: number;
}

/** The encoded image, ready for a shard. */
export interface Finished {
  image: Buffer;
  width: number;
  height: number;
}

/** The image Blender wrote does not decode (a truncated or corrupt file). */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/**
 * Decodes the image, applies the sensor effects and encodes it: the per-frame pixel work, done
 * on a thread of the {@link SensorPool} (pool.ts) so that Node's main thread stays free.
 */
export async function finishImage(job: FinishJob): Promise<Finished> {
  let raw;
  try {
    raw = await decodeRgb(job.imagePath);
  } catch (err) {
    throw new ImageDecodeError((err as Error).message);
  }
  const processed = await applySensor(raw, job.sensor);
  const image = await encode(processed, job.format, job.quality);
  return { image, width: processed.width, height: processed.height };
}
