import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SampleLabel } from '@synthline/spec';
import { MANIFEST_FILE, walkShards, type VerifyReport } from '@synthline/shards';
import { probeImage } from './images.ts';
import { MIX_FORMAT, MixManifest, RealLabel, SyntheticLabelExtra } from './manifest.ts';

/** The `format` of the `dataset.json` in `dir`, or undefined if there is none or it does not parse. */
export async function datasetFormat(dir: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as { format?: unknown } | null;
    return typeof json?.format === 'string' ? json.format : undefined;
  } catch {
    return undefined;
  }
}

const KEY = /^([rs])(\d{8,})$/;

/**
 * Checks a mix against its `dataset.json`: every shard present with the listed size, sha256 and
 * sample count; keys `r<n>`/`s<n>` unique with n ascending; each sample one image, a label and a
 * class; labels that parse (a synthetic one is a full synthline label), whose source matches the
 * key, whose class matches the manifest and `.cls`; images that decode as their extension says
 * at the size the label states; counts per class and source, and the achieved ratio, as listed.
 */
export async function verifyMix(dir: string, opts: { maxProblems?: number } = {}): Promise<VerifyReport> {
  const problems: string[] = [];
  const max = opts.maxProblems ?? 50;
  const problem = (p: string) => {
    if (problems.length < max) problems.push(p);
  };
  let manifest: MixManifest;
  try {
    manifest = MixManifest.parse(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')));
  } catch (err) {
    return { ok: false, shards: 0, samples: 0, problems: [`dataset.json (${MIX_FORMAT}): ${(err as Error).message}`] };
  }
  const classes = new Map(manifest.classes.map((c) => [c.index, c.name]));
  const counted: Record<string, { real: number; synthetic: number }> = {};
  let lastNumber = -1;
  const samples = await walkShards(dir, manifest.shards, problem, async (shardName, s) => {
    const where = `${shardName}:${s.key}`;
    const k = KEY.exec(s.key);
    if (!k) {
      problem(`${where}: key is not r<position> or s<position>`);
      return;
    }
    const n = Number(k[2]);
    if (n <= lastNumber) problem(`${where}: position not after ${lastNumber} (duplicate or out of order)`);
    lastNumber = n;
    const source = k[1] === 'r' ? 'real' : 'synthetic';
    const byExt = new Map(s.members.map((m) => [m.ext, m.data]));
    if (byExt.size !== s.members.length) problem(`${where}: a member appears twice`);
    const images = s.members.filter((m) => ['png', 'jpg', 'webp'].includes(m.ext));
    const json = byExt.get('json');
    const cls = byExt.get('cls');
    const img = images[0];
    if (images.length !== 1 || !img || !json || !cls) {
      problem(`${where}: expected one image, a .json and a .cls (has ${[...byExt.keys()].join(', ')})`);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(json.toString('utf8'));
    } catch (err) {
      problem(`${where}.json: ${(err as Error).message}`);
      return;
    }
    const parsed = source === 'real' ? RealLabel.safeParse(raw) : SyntheticLabelExtra.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      problem(`${where}.json: ${i?.path.join('.')}: ${i?.message}`);
      return;
    }
    if (source === 'synthetic') {
      const full = SampleLabel.safeParse(raw);
      if (!full.success)
        problem(`${where}.json: not a synthline label: ${full.error.issues[0]?.path.join('.')}: ${full.error.issues[0]?.message}`);
    }
    const label = parsed.data;
    if (label.key !== s.key) problem(`${where}.json: key is "${label.key}"`);
    if (cls.toString('utf8').trim() !== String(label.class_index)) problem(`${where}.cls differs from class_index`);
    if (classes.get(label.class_index) !== label.class)
      problem(`${where}: class ${label.class_index} "${label.class}" is not in the manifest`);
    const c = (counted[label.class] ??= { real: 0, synthetic: 0 });
    c[source]++;
    try {
      const info = await probeImage(img.data);
      if (info.ext !== img.ext) problem(`${where}: image is ${info.format}, stored as .${img.ext}`);
      const size = (raw as { image?: { width?: unknown; height?: unknown } }).image;
      if (info.width !== size?.width || info.height !== size?.height) {
        problem(`${where}: image is ${info.width}x${info.height}, label says ${String(size?.width)}x${String(size?.height)}`);
      }
    } catch (err) {
      problem(`${where}: image does not decode: ${(err as Error).message}`);
    }
  });
  if (samples !== manifest.counts.samples) problem(`mix: ${samples} samples, manifest says ${manifest.counts.samples}`);
  let real = 0;
  let synthetic = 0;
  for (const name of new Set([...Object.keys(counted), ...Object.keys(manifest.counts.per_class)])) {
    const have = counted[name] ?? { real: 0, synthetic: 0 };
    const said = manifest.counts.per_class[name] ?? { real: 0, synthetic: 0 };
    real += have.real;
    synthetic += have.synthetic;
    if (have.real !== said.real || have.synthetic !== said.synthetic) {
      problem(`class ${name}: ${have.real} real + ${have.synthetic} synthetic, manifest says ${said.real} + ${said.synthetic}`);
    }
  }
  const p = manifest.counts.per_source;
  if (real !== p.real || synthetic !== p.synthetic)
    problem(`mix: ${real} real + ${synthetic} synthetic, manifest says ${p.real} + ${p.synthetic}`);
  const a = manifest.ratio.achieved;
  if (a.real !== real || a.synthetic !== synthetic)
    problem(`ratio.achieved ${a.real}:${a.synthetic} differs from the samples (${real}:${synthetic})`);
  const r = manifest.ratio.requested;
  if (manifest.ratio.exact !== (real * r.synthetic === synthetic * r.real))
    problem(`ratio.exact is ${manifest.ratio.exact}, the samples say otherwise`);
  return { ok: problems.length === 0, shards: manifest.shards.length, samples, problems };
}
