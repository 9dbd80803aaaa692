import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@synthline/base';
import { MANIFEST_FILE, ShardWriter, type Member } from '@synthline/shards';
import { CONTACT_SHEET_FILE, CREATED_BY, contactSheet, spread, type Tile } from '@synthline/pipeline';
import { MixError, ShortfallError, UnknownClassesError } from './errors.ts';
import { MIX_FORMAT, MixManifest, type MixAllocation, type MixClass, type RealLabel } from './manifest.ts';
import { checkOutDir, nameFor, prepareMixDir, removeMixFiles } from './out-dir.ts';
import { allocate, formatRatio, parseRatio, ratioValue, type Allocations, type Ratio } from './ratio.ts';
import { scanReal, type RealItem, type RealSet } from './real-source.ts';
import { MAX_SEED, byCodeUnit, shuffled } from './shuffle.ts';
import { openSynthetic, type SyntheticItem } from './synthetic-source.ts';
import { MemberReader } from './tar-index.ts';

/** What {@link mixDatasets} is asked to do. */
export interface MixOptions {
  /** An ImageFolder tree or a WebDataset folder of real photos. */
  real: string;
  /** A synthline dataset folder (with `dataset.json`). */
  synthetic: string;
  /** The folder for the mix; shards are `<basename>-000000.tar` (or `mix-...`). */
  out: string;
  /** `R:S`, real to synthetic, per class and overall. */
  ratio: Ratio | string;
  /** Fixes which samples are taken and their order (default 0). */
  seed?: number;
  /** Samples per shard (default 1000). */
  shardSize?: number;
  /** Keep fewer real images of a class short of synthetic samples, instead of failing. */
  bestEffort?: boolean;
  /** Replace what `out` holds. */
  overwrite?: boolean;
  /** Plan and report without writing anything. */
  dryRun?: boolean;
  /** Write `contact-sheet.jpg` (default true). */
  contactSheet?: boolean;
  onProgress?: (p: MixProgress) => void;
}

/** Progress of the writing phase. */
export interface MixProgress {
  done: number;
  total: number;
}

/** The outcome of a mix: what was planned and, unless a dry run, what was written. */
export interface MixReport {
  outDir: string;
  name: string;
  dryRun: boolean;
  ratio: Ratio;
  seed: number;
  realKind: RealSet['kind'];
  /** Real files and samples not taken as images, with the reason. */
  ignored: string[];
  /** Per-class counts (classes of the mix, in mix class order), exclusions, adjustments. */
  allocation: MixAllocation[];
  plan: Allocations;
  classes: MixClass[];
  /** Null for a dry run. */
  manifest: MixManifest | null;
  manifestPath: string | null;
  contactSheetPath: string | null;
}

const DEFAULT_SHARD_SIZE = 1000;

type Chosen = { source: 'real'; item: RealItem; cls: MixClass } | { source: 'synthetic'; item: SyntheticItem; cls: MixClass };

function checkOptions(opts: MixOptions): { ratio: Ratio; seed: number; shardSize: number } {
  const ratio = typeof opts.ratio === 'string' ? parseRatio(opts.ratio) : parseRatio(formatRatio(opts.ratio));
  const seed = opts.seed ?? 0;
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED))
    throw new MixError('BAD_OPTION', `--seed: expected an integer from 0 to ${MAX_SEED}, got ${seed}`);
  const shardSize = opts.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!(Number.isInteger(shardSize) && shardSize >= 1))
    throw new MixError('BAD_OPTION', `--shard-size: expected a positive integer, got ${shardSize}`);
  return { ratio, seed, shardSize };
}

/** `r00000042` / `s00000042`: the source, then the position in the mix. */
export function mixKey(source: 'real' | 'synthetic', position: number): string {
  return `${source === 'real' ? 'r' : 's'}${String(position).padStart(8, '0')}`;
}

/**
 * Mixes real photos with a synthline dataset at `R:S` per class, into a WebDataset folder:
 * classes are matched by name; for each class with r real images, floor(r*S/R) synthetic samples
 * are taken (a shortfall fails, or with `bestEffort` lowers that class's real count so the ratio
 * holds); the samples taken and their order come from a shuffle fixed by `seed`, so the same
 * inputs and seed give byte-identical shards. Shards are renamed into place when whole and
 * `dataset.json` (format `synthline.mix/1`) is written last.
 */
export async function mixDatasets(opts: MixOptions): Promise<MixReport> {
  const { ratio, seed, shardSize } = checkOptions(opts);
  const outDir = resolve(opts.out);
  const realDir = resolve(opts.real);
  const synthDir = resolve(opts.synthetic);
  const dryRun = opts.dryRun ?? false;
  const bestEffort = opts.bestEffort ?? false;
  if (!dryRun) {
    await checkOutDir(outDir, opts.overwrite ?? false, [
      { flag: '--real', path: realDir },
      { flag: '--synthetic', path: synthDir },
    ]);
  }
  const synthetic = await openSynthetic(synthDir);
  const real = await scanReal(realDir);

  const synthClasses = synthetic.manifest.classes;
  const known = new Set(synthClasses.map((c) => c.name));
  const unknown = real.classes.filter((c) => !known.has(c));
  if (unknown.length > 0)
    throw new UnknownClassesError(
      unknown,
      synthClasses.map((c) => c.name),
    );

  const realBy = groupBy(real.items, (i) => i.class);
  const synthBy = groupBy(synthetic.items, (i) => i.class);
  const plan = allocate(
    synthClasses.map((c) => ({ name: c.name, real: realBy.get(c.name)?.length ?? 0, synthetic: synthBy.get(c.name)?.length ?? 0 })),
    ratio,
    bestEffort,
  );
  if (plan.shortfalls.length > 0 && !bestEffort) throw new ShortfallError(plan.shortfalls, formatRatio(ratio));
  if (plan.classes.length === 0) {
    throw new MixError(
      'NOTHING_TO_MIX',
      real.items.length === 0
        ? `--real ${realDir}: no images`
        : `no class has enough synthetic samples for one real image at ${formatRatio(ratio)}`,
    );
  }

  const synthByName = new Map(synthClasses.map((c) => [c.name, c]));
  const classes: MixClass[] = plan.classes.map((a, index) => {
    const s = synthByName.get(a.class);
    if (!s) throw new Error(`internal: class ${a.class} vanished`);
    return {
      index,
      name: s.name,
      synthetic_index: s.index,
      model: s.model,
      ...(s.color !== undefined ? { color: s.color } : {}),
      ...(s.side !== undefined ? { side: s.side } : {}),
    };
  });
  const allocation: MixAllocation[] = plan.classes.map((a) => ({
    ...a,
    ratio: ratioValue(a.real_used, a.synthetic_used),
    exact: a.real_used * ratio.synthetic === a.synthetic_used * ratio.real,
  }));

  const name = nameFor(outDir);
  const report: MixReport = {
    outDir,
    name,
    dryRun,
    ratio,
    seed,
    realKind: real.kind,
    ignored: real.ignored,
    allocation,
    plan,
    classes,
    manifest: null,
    manifestPath: null,
    contactSheetPath: null,
  };
  if (dryRun) return report;

  // Real images in their scan order (class, then file name or shard order); synthetic ones in
  // frame order: each shuffled under its own label, so adding a class changes no other class.
  const chosen: Chosen[] = [];
  for (const [i, a] of plan.classes.entries()) {
    const cls = classes[i] as MixClass;
    for (const item of shuffled(realBy.get(a.class) ?? [], seed, `real/${a.class}`).slice(0, a.real_used))
      chosen.push({ source: 'real', item, cls });
    for (const item of shuffled(synthBy.get(a.class) ?? [], seed, `synthetic/${a.class}`).slice(0, a.synthetic_used)) {
      chosen.push({ source: 'synthetic', item, cls });
    }
  }
  const order = shuffled(chosen, seed, 'order');

  await prepareMixDir(outDir);
  try {
    const written = await writeMix(outDir, name, shardSize, order, opts);
    let contactSheetPath: string | null = null;
    if ((opts.contactSheet ?? true) && written.tiles.length > 0) {
      contactSheetPath = join(outDir, CONTACT_SHEET_FILE);
      await writeFileAtomic(contactSheetPath, await contactSheet(written.tiles));
    }
    const manifest = MixManifest.parse({
      format: MIX_FORMAT,
      name,
      created_by: `${CREATED_BY} mix`,
      inputs: {
        seed,
        real: {
          path: realDir,
          kind: real.kind,
          images: real.items.length,
          per_class: Object.fromEntries(real.classes.map((c) => [c, realBy.get(c)?.length ?? 0])),
          shards: real.shards,
          ignored: real.ignored,
        },
        synthetic: {
          path: synthDir,
          manifest: synthetic.manifestPath,
          manifest_sha256: synthetic.manifestSha256,
          name: synthetic.manifest.name,
          samples: synthetic.items.length,
          per_class: Object.fromEntries(synthClasses.map((c) => [c.name, synthBy.get(c.name)?.length ?? 0])),
          shards: synthetic.manifest.shards.map((s) => ({ name: s.name, samples: s.samples, bytes: s.bytes, sha256: s.sha256 })),
        },
      },
      ratio: { requested: ratio, achieved: plan.achieved, exact: plan.exact },
      best_effort: bestEffort,
      classes,
      allocation,
      counts: {
        samples: order.length,
        per_source: { real: plan.achieved.real, synthetic: plan.achieved.synthetic },
        per_class: Object.fromEntries(plan.classes.map((a) => [a.class, { real: a.real_used, synthetic: a.synthetic_used }])),
        per_extension: written.perExtension,
      },
      shortfalls: plan.shortfalls,
      adjustments: plan.adjustments,
      excluded_classes: plan.excluded,
      shards: written.shards,
      contact_sheet: contactSheetPath ? CONTACT_SHEET_FILE : null,
    } satisfies MixManifest);
    const manifestPath = join(outDir, MANIFEST_FILE);
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { ...report, manifest, manifestPath, contactSheetPath };
  } catch (err) {
    // Finished shards without a manifest are no dataset; leave nothing behind.
    await removeMixFiles(outDir).catch(() => undefined);
    throw err;
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

async function writeMix(outDir: string, name: string, shardSize: number, order: Chosen[], opts: MixOptions) {
  const writer = new ShardWriter(outDir, name, shardSize);
  const reader = new MemberReader();
  const sheetAt = new Set(spread(order.length));
  const tiles: Tile[] = [];
  const perExtension: Record<string, number> = {};
  try {
    for (const [pos, c] of order.entries()) {
      const key = mixKey(c.source, pos);
      const members: Member[] = [];
      let image: Buffer | undefined;
      if (c.source === 'real') {
        const o = c.item.origin;
        image = o.kind === 'file' ? await readFile(o.path) : await reader.read(o.path, o.member);
        const label: RealLabel = {
          key,
          source: 'real',
          class: c.cls.name,
          class_index: c.cls.index,
          original_path: c.item.originalPath,
          ...(c.item.originalKey !== undefined ? { original_key: c.item.originalKey } : {}),
          ...(c.item.originalLabel !== undefined ? { original_label: c.item.originalLabel } : {}),
          image: { format: c.item.image.format, width: c.item.image.width, height: c.item.image.height },
        };
        members.push({ ext: c.item.image.ext, data: image }, { ext: 'json', data: Buffer.from(JSON.stringify(label)) });
        members.push({ ext: 'cls', data: Buffer.from(String(c.cls.index)) });
        perExtension[c.item.image.ext] = (perExtension[c.item.image.ext] ?? 0) + 1;
      } else {
        const where = `${c.item.shardPath}:${c.item.key}`;
        for (const m of c.item.members) {
          const data = await reader.read(c.item.shardPath, m);
          if (m.ext === 'json') {
            const label = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
            if (label.class !== c.item.class)
              throw new MixError('SYNTHETIC_INPUT', `${where}: label class "${String(label.class)}" differs from its .cls`);
            const mixed = {
              ...label,
              key,
              class_index: c.cls.index,
              source: 'synthetic',
              original_key: c.item.key,
              original_class_index: c.item.classIndex,
            };
            members.push({ ext: 'json', data: Buffer.from(JSON.stringify(mixed)) });
          } else if (m.ext === 'cls') {
            members.push({ ext: 'cls', data: Buffer.from(String(c.cls.index)) });
          } else {
            members.push({ ext: m.ext, data });
            if (!image && ['png', 'jpg', 'webp'].includes(m.ext)) {
              image = data;
              perExtension[m.ext] = (perExtension[m.ext] ?? 0) + 1;
            }
          }
        }
      }
      await writer.add({ key, members });
      if (sheetAt.has(pos) && image)
        tiles.push({
          image,
          caption: [c.cls.name, c.source === 'real' ? `real ${c.item.originalPath.split('/').pop()}` : `synthetic ${c.item.key}`],
        });
      opts.onProgress?.({ done: pos + 1, total: order.length });
    }
    const shards = await writer.close();
    return { shards, tiles, perExtension: Object.fromEntries(Object.entries(perExtension).sort(([a], [b]) => byCodeUnit(a, b))) };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await reader.close();
  }
}
