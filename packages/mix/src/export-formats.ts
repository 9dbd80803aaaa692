import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { MixError } from './errors.ts';
import { type CocoRle, encodeRle, rleArea } from './coco-rle.ts';

/** One sample of the source, as an export format sees it. */
export interface ExportSample {
  /** `shard:key`, for messages. */
  where: string;
  key: string;
  cls: string;
  source: 'real' | 'synthetic';
  /** The image's extension (png, jpg, webp). */
  ext: string;
  image: Buffer;
  label: Record<string, unknown>;
  labelBytes: Buffer;
  members: { ext: string; data: Buffer }[];
}

/** What a format needs to know before the first sample. */
export interface ExportContext {
  outDir: string;
  classes: { index: number; name: string }[];
  splitBy: 'source' | undefined;
  withLabels: boolean;
  /** crops: the margin around a box as a fraction of its size. */
  margin: number;
}

/** A format's writer: samples one by one, then its index files. */
export interface ExportSink {
  add(s: ExportSample): Promise<void>;
  finish(): Promise<{
    layout: string;
    labels: number;
    files: string[];
    counts: Record<string, number>;
    index: Record<string, unknown>;
  }>;
}

/** One product seen in a sample: its class, its box and, where the dataset has masks, its pixels. */
export interface Instance {
  id: number;
  cls: string;
  classIndex: number;
  /** [x, y, w, h] in pixels, origin top left. */
  bbox: [number, number, number, number];
  /** The instance's pixels, row-major, 1 byte each (1 or 0); absent without mask annotations. */
  mask?: Uint8Array;
  attributes: unknown;
}

const isBox = (b: unknown): b is [number, number, number, number] =>
  Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);

/** An image decoded to one value a pixel: the first channel, 8- or 16-bit as stored. */
async function channel0(png: Buffer, where: string, width: number, height: number): Promise<Uint16Array | Uint8Array> {
  const img = sharp(png);
  const meta = await img.metadata();
  const sixteen = meta.depth === 'ushort';
  const { data, info } = await img.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) {
    throw new MixError('EXPORT_INPUT', `${where}: an annotation is ${info.width}x${info.height}, the image ${width}x${height}`);
  }
  const all = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
  const out = sixteen ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = all[i * info.channels] ?? 0;
  return out;
}

/**
 * The instances of a rendered sample and the image size. A label with `instances` (several
 * products, or `annotations.instances`) lists them, and its `inst.png` (16-bit ids) gives each
 * one's pixels; a label without holds one product (its `bbox`, `class_index`, and `mask.png` when
 * masks were asked for). A product out of view (no box, or no visible pixels) is no instance.
 */
export async function instancesOf(s: ExportSample): Promise<{ width: number; height: number; instances: Instance[] }> {
  const img = s.label.image as { width?: unknown; height?: unknown } | undefined;
  const width = Number(img?.width);
  const height = Number(img?.height);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new MixError('EXPORT_INPUT', `${s.where}: the label has no image size`);
  }
  const checkBox = (bbox: unknown): bbox is [number, number, number, number] => {
    if (!isBox(bbox) || bbox[0] + bbox[2] > width || bbox[1] + bbox[3] > height) {
      throw new MixError('EXPORT_INPUT', `${s.where}: bbox ${JSON.stringify(bbox)} is not a box inside the ${width}x${height} image`);
    }
    return true;
  };
  const listed = s.label.instances;
  if (Array.isArray(listed)) {
    const map = s.members.find((x) => x.ext === 'inst.png');
    const ids = map ? await channel0(map.data, s.where, width, height) : undefined;
    const instances: Instance[] = [];
    for (const raw of listed as Record<string, unknown>[]) {
      if (raw.bbox === null || raw.visible_pixels === 0) continue;
      checkBox(raw.bbox);
      if (typeof raw.id !== 'number' || typeof raw.class !== 'string' || typeof raw.class_index !== 'number') {
        throw new MixError('EXPORT_INPUT', `${s.where}: an instance without id, class or class_index`);
      }
      let mask: Uint8Array | undefined;
      if (ids) {
        mask = new Uint8Array(width * height);
        for (let i = 0; i < mask.length; i++) mask[i] = ids[i] === raw.id ? 1 : 0;
      }
      instances.push({
        id: raw.id,
        cls: raw.class,
        classIndex: raw.class_index,
        bbox: raw.bbox as [number, number, number, number],
        ...(mask ? { mask } : {}),
        attributes: raw.attributes,
      });
    }
    return { width, height, instances };
  }
  const bbox = s.label.bbox;
  const classIndex = s.label.class_index;
  if (bbox === null || bbox === undefined || s.label.visible_pixels === 0) return { width, height, instances: [] };
  checkBox(bbox);
  if (typeof classIndex !== 'number') throw new MixError('EXPORT_INPUT', `${s.where}: the label has no class_index`);
  const m = s.members.find((x) => x.ext === 'mask.png');
  const mask = m ? Uint8Array.from(await channel0(m.data, s.where, width, height), (v) => (v > 127 ? 1 : 0)) : undefined;
  return {
    width,
    height,
    instances: [
      {
        id: 1,
        cls: s.cls,
        classIndex,
        bbox: bbox as [number, number, number, number],
        ...(mask ? { mask } : {}),
        attributes: s.label.attributes,
      },
    ],
  };
}

/** A split name usable as a folder (`train`, `val`, ...), else `train`. */
const splitOf = (label: Record<string, unknown>): string =>
  typeof label.split === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(label.split) ? label.split : 'train';

/** Makes each folder once. */
function folders() {
  const made = new Set<string>();
  return async (dir: string) => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    made.add(dir);
  };
}

/** `<out>/<class>/<key>.<ext>` (or `<out>/<source>/<class>/...`), images byte for byte, labels beside them if asked. */
function imageFolder(stage: string, ctx: ExportContext): ExportSink {
  const dir = folders();
  let labels = 0;
  return {
    async add(s) {
      const to = ctx.splitBy === 'source' ? join(stage, s.source, s.cls) : join(stage, s.cls);
      await dir(to);
      // `wx`: a key seen twice would silently replace an image.
      await writeFile(join(to, `${s.key}.${s.ext}`), s.image, { flag: 'wx' });
      if (ctx.withLabels) {
        await writeFile(join(to, `${s.key}.json`), s.labelBytes, { flag: 'wx' });
        labels++;
      }
    },
    async finish() {
      return {
        layout: ctx.splitBy === 'source' ? '<source>/<class>/<key>.<ext>' : '<class>/<key>.<ext>',
        labels,
        files: [],
        counts: {},
        index: { note: "torchvision ImageFolder numbers classes by sorted folder name; class_index in the labels is the dataset's own" },
      };
    },
  };
}

/** COCO instances: `images/<key>.<ext>` and `annotations.json` (categories from id 1, RLE masks where the dataset has them). */
function coco(stage: string, ctx: ExportContext): ExportSink {
  const images: unknown[] = [];
  const annotations: unknown[] = [];
  let withMask = 0;
  let ready = false;
  return {
    async add(s) {
      if (!ready) {
        await mkdir(join(stage, 'images'));
        ready = true;
      }
      const { width, height, instances } = await instancesOf(s);
      const imageId = images.length + 1;
      const fileName = `${s.key}.${s.ext}`;
      await writeFile(join(stage, 'images', fileName), s.image, { flag: 'wx' });
      images.push({ id: imageId, file_name: fileName, width, height, synthline_key: s.key });
      for (const inst of instances) {
        let segmentation: CocoRle | number[][];
        let area: number;
        if (inst.mask) {
          segmentation = encodeRle(inst.mask, width, height);
          area = rleArea(segmentation);
          withMask++;
        } else {
          const [x, y, w, h] = inst.bbox;
          segmentation = [[x, y, x + w, y, x + w, y + h, x, y + h]];
          area = w * h;
        }
        annotations.push({
          id: annotations.length + 1,
          image_id: imageId,
          category_id: inst.classIndex + 1,
          bbox: inst.bbox,
          area,
          segmentation,
          iscrowd: 0,
          synthline_instance: inst.id,
          attributes: inst.attributes,
        });
      }
    },
    async finish() {
      const doc = {
        info: { description: 'exported by synthline', version: '1' },
        licenses: [],
        categories: ctx.classes.map((c) => ({ id: c.index + 1, name: c.name, supercategory: 'product' })),
        images,
        annotations,
      };
      await writeFile(join(stage, 'annotations.json'), JSON.stringify(doc));
      return {
        layout: 'images/<key>.<ext>, annotations.json',
        labels: annotations.length,
        files: ['annotations.json'],
        counts: { annotations: annotations.length, with_mask: withMask },
        index: {
          note: "category_id is the dataset's class_index + 1; segmentation is uncompressed RLE where the dataset has masks, else the box",
        },
      };
    },
  };
}

/** Ultralytics YOLO: `images/<split>/<key>.<ext>`, `labels/<split>/<key>.txt` (class cx cy w h, normalised) and `data.yaml`. */
function yolo(stage: string, ctx: ExportContext): ExportSink {
  const dir = folders();
  const splits = new Set<string>();
  let boxes = 0;
  return {
    async add(s) {
      const { width, height, instances } = await instancesOf(s);
      const split = splitOf(s.label);
      splits.add(split);
      await dir(join(stage, 'images', split));
      await dir(join(stage, 'labels', split));
      await writeFile(join(stage, 'images', split, `${s.key}.${s.ext}`), s.image, { flag: 'wx' });
      const f = (v: number) => v.toFixed(6);
      const lines = instances.map(({ classIndex, bbox: [x, y, w, h] }) =>
        [String(classIndex), f((x + w / 2) / width), f((y + h / 2) / height), f(w / width), f(h / height)].join(' '),
      );
      boxes += lines.length;
      // An image without a product gets an empty file: a background image, as YOLO expects.
      await writeFile(join(stage, 'labels', split, `${s.key}.txt`), lines.map((l) => `${l}\n`).join(''), { flag: 'wx' });
    },
    async finish() {
      const q = (v: string) => JSON.stringify(v);
      const yaml = [
        `path: ${q(ctx.outDir)}`,
        ...[...splits].sort().map((sp) => `${sp === 'validation' ? 'val' : sp}: ${q(`images/${sp}`)}`),
        'names:',
        ...ctx.classes.map((c) => `  ${c.index}: ${q(c.name)}`),
        '',
      ].join('\n');
      await writeFile(join(stage, 'data.yaml'), yaml);
      return {
        layout: 'images/<split>/<key>.<ext>, labels/<split>/<key>.txt, data.yaml',
        labels: boxes,
        files: ['data.yaml'],
        counts: { boxes },
        index: { note: "class ids are the dataset's class_index" },
      };
    },
  };
}

/** Cropped around each box with a margin: `<class>/<key>.<ext>`, one classification sample per visible instance. */
function crops(stage: string, ctx: ExportContext): ExportSink {
  const dir = folders();
  let made = 0;
  let labels = 0;
  let none = 0;
  return {
    async add(s) {
      const { width, height, instances } = await instancesOf(s);
      if (instances.length === 0) none++;
      for (const inst of instances) {
        const [x, y, w, h] = inst.bbox;
        if (w === 0 || h === 0) continue;
        const left = Math.max(0, Math.floor(x - ctx.margin * w));
        const top = Math.max(0, Math.floor(y - ctx.margin * h));
        const right = Math.min(width, Math.ceil(x + w + ctx.margin * w));
        const bottom = Math.min(height, Math.ceil(y + h + ctx.margin * h));
        const box = { left, top, width: right - left, height: bottom - top };
        const cut = sharp(s.image).extract(box);
        const data = await (s.ext === 'jpg'
          ? cut.jpeg({ quality: 95 })
          : s.ext === 'webp'
            ? cut.webp({ lossless: true })
            : cut.png()
        ).toBuffer();
        const name = instances.length === 1 ? s.key : `${s.key}_${inst.id}`;
        const to = join(stage, inst.cls);
        await dir(to);
        await writeFile(join(to, `${name}.${s.ext}`), data, { flag: 'wx' });
        made++;
        if (ctx.withLabels) {
          const label = { ...s.label, crop: { box: [box.left, box.top, box.width, box.height], of: [width, height], instance: inst.id } };
          await writeFile(join(to, `${name}.json`), `${JSON.stringify(label)}\n`, { flag: 'wx' });
          labels++;
        }
      }
    },
    async finish() {
      return {
        layout: '<class>/<key>.<ext> (<key>_<instance> where a frame has several)',
        labels,
        files: [],
        counts: { crops: made, without_product: none },
        index: { margin: ctx.margin },
      };
    },
  };
}

/** The formats `synthline export --format` writes. */
export const EXPORT_FORMATS = {
  imagefolder: { open: imageFolder },
  coco: { open: coco },
  yolo: { open: yolo },
  crops: { open: crops },
} as const;
export type ExportFormatName = keyof typeof EXPORT_FORMATS;
