import sharp from 'sharp';
import { IMAGE_TYPES, type ImageFormat } from '@synthline/spec';

/** File extensions taken as images, in real inputs and in shards (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = ['png', 'jpg', 'jpeg', 'webp'];

/** Whether a file or member extension names an image (`PNG` and `jpeg` included). */
export const isImageExtension = (ext: string): boolean => IMAGE_EXTENSIONS.includes(ext.toLowerCase());

/** What an image really is, read from its header. */
export interface ImageInfo {
  format: ImageFormat;
  /** The extension it is stored under in a mix: `png`, `jpg` or `webp`. */
  ext: string;
  width: number;
  height: number;
}

/**
 * Reads an image's format and size from its header (bytes, or a file path: then only the header
 * is read); throws unless it is a PNG, JPEG or WebP.
 */
export async function probeImage(input: Buffer | string): Promise<ImageInfo> {
  const meta = await sharp(input).metadata();
  const format = meta.format as string | undefined;
  if (format !== 'png' && format !== 'jpeg' && format !== 'webp') {
    throw new Error(`${format ?? 'unknown'} image; PNG, JPEG or WebP expected`);
  }
  if (!meta.width || !meta.height) throw new Error('image without a size');
  return { format, ext: IMAGE_TYPES[format].ext, width: meta.width, height: meta.height };
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
