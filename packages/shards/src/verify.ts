import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { IMAGE_TYPES, SampleLabel, type ImageFormat, type Manifest } from '@synthline/spec';
import { readManifest } from './manifest-file.ts';
import { hashFile, readTar, type Sample } from './tar.ts';

/**
 * Walks the shards a manifest lists: each must exist with the listed size, sha256 and sample
 * count; `onSample` checks each sample in order. Returns the number of samples read. Problems
 * go to `problem`. Shared by the dataset and the mix verifiers.
 */
export async function walkShards(
  dir: string,
  shards: readonly { name: string; bytes: number; sha256: string; samples: number }[],
  problem: (p: string) => void,
  onSample: (shard: string, sample: Sample) => Promise<void>,
): Promise<number> {
  let samples = 0;
  for (const shard of shards) {
    const path = join(dir, shard.name);
    try {
      await stat(path);
    } catch {
      problem(`${shard.name}: missing`);
      continue;
    }
    const { sha256, bytes } = await hashFile(path);
    if (bytes !== shard.bytes) problem(`${shard.name}: ${bytes} bytes, manifest says ${shard.bytes}`);
    if (sha256 !== shard.sha256) problem(`${shard.name}: sha256 ${sha256} differs from the manifest's`);
    let count = 0;
    try {
      for await (const s of readTar(path)) {
        count++;
        samples++;
        await onSample(shard.name, s);
      }
    } catch (err) {
      problem(`${shard.name}: unreadable tar: ${(err as Error).message}`);
    }
    if (count !== shard.samples) problem(`${shard.name}: ${count} samples, manifest says ${shard.samples}`);
  }
  return samples;
}

export interface VerifyReport {
  ok: boolean;
  shards: number;
  samples: number;
  problems: string[];
}

const SHARP_FORMAT: Record<string, string> = { png: 'png', jpg: 'jpeg', webp: 'webp' };

/**
 * Checks a dataset folder against its manifest: every shard present with the listed size,
 * sha256 and sample count; keys unique and ascending; every sample complete (image, label,
 * class) with a label that parses, a class that matches the manifest, an image that decodes
 * at the size the label states and a bbox inside it; counts per class as listed.
 */
export async function verifyDataset(dir: string, opts: { maxProblems?: number } = {}): Promise<VerifyReport> {
  const problems: string[] = [];
  const max = opts.maxProblems ?? 50;
  const problem = (p: string) => {
    if (problems.length < max) problems.push(p);
  };
  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    return { ok: false, shards: 0, samples: 0, problems: [`dataset.json: ${(err as Error).message}`] };
  }
  const imageExt = IMAGE_TYPES[manifest.image_format as ImageFormat]?.ext ?? manifest.image_format;
  const classes = new Map(manifest.classes.map((c) => [c.index, c]));
  const perClass: Record<string, number> = {};
  const perInstance: Record<string, number> = {};
  let lastKey = '';

  const samples = await walkShards(dir, manifest.shards, problem, async (shardName, s) => {
    const where = `${shardName}:${s.key}`;
    if (s.key <= lastKey) problem(`${where}: key not after ${lastKey} (duplicate or out of order)`);
    lastKey = s.key;
    const byExt = new Map(s.members.map((m) => [m.ext, m.data]));
    if (byExt.size !== s.members.length) problem(`${where}: a member appears twice`);
    const img = byExt.get(imageExt);
    const json = byExt.get('json');
    const cls = byExt.get('cls');
    if (!img || !json || !cls) {
      problem(`${where}: incomplete sample (has ${[...byExt.keys()].join(', ')})`);
      return;
    }
    const parsed = SampleLabel.safeParse(JSON.parse(json.toString('utf8')));
    if (!parsed.success) {
      problem(`${where}.json: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return;
    }
    const label = parsed.data;
    if (label.key !== s.key) problem(`${where}.json: key is "${label.key}"`);
    if (cls.toString('utf8').trim() !== String(label.class_index)) problem(`${where}.cls differs from class_index`);
    const c = classes.get(label.class_index);
    if (!c || c.name !== label.class) problem(`${where}: class ${label.class_index} "${label.class}" is not in the manifest`);
    perClass[label.class] = (perClass[label.class] ?? 0) + 1;
    for (const inst of label.instances ?? []) perInstance[inst.class] = (perInstance[inst.class] ?? 0) + 1;
    try {
      const meta = await sharp(img).metadata();
      if (meta.format !== SHARP_FORMAT[imageExt]) problem(`${where}: image is ${meta.format}, not ${imageExt}`);
      if (meta.width !== label.image.width || meta.height !== label.image.height) {
        problem(`${where}: image is ${meta.width}x${meta.height}, label says ${label.image.width}x${label.image.height}`);
      }
      const outside = (b: [number, number, number, number] | null) =>
        b !== null &&
        (b[0] < 0 || b[1] < 0 || b[2] <= 0 || b[3] <= 0 || b[0] + b[2] > label.image.width || b[1] + b[3] > label.image.height);
      if (outside(label.bbox)) problem(`${where}: bbox ${JSON.stringify(label.bbox)} is outside the image`);
      for (const inst of label.instances ?? []) {
        if (outside(inst.bbox)) problem(`${where}: instance ${inst.id} bbox ${JSON.stringify(inst.bbox)} is outside the image`);
        const ci = classes.get(inst.class_index);
        if (!ci || ci.name !== inst.class)
          problem(`${where}: instance ${inst.id} class ${inst.class_index} "${inst.class}" is not in the manifest`);
      }
      if (label.annotations.instances && !byExt.has(label.annotations.instances)) {
        problem(`${where}: label names ${label.annotations.instances}, which the sample lacks`);
      }
    } catch (err) {
      problem(`${where}: image does not decode: ${(err as Error).message}`);
    }
  });
  if (samples !== manifest.counts.samples) problem(`dataset: ${samples} samples, manifest says ${manifest.counts.samples}`);
  for (const name of new Set([...Object.keys(perClass), ...Object.keys(manifest.counts.per_class)])) {
    const have = perClass[name] ?? 0;
    const said = manifest.counts.per_class[name] ?? 0;
    if (have !== said) problem(`class ${name}: ${have} samples, manifest says ${said}`);
  }
  const saidInstances = manifest.counts.instances_per_class;
  if (saidInstances) {
    for (const name of new Set([...Object.keys(perInstance), ...Object.keys(saidInstances)])) {
      const have = perInstance[name] ?? 0;
      const said = saidInstances[name] ?? 0;
      if (have !== said) problem(`class ${name}: ${have} instances, manifest says ${said}`);
    }
  }
  return { ok: problems.length === 0, shards: manifest.shards.length, samples, problems };
}
