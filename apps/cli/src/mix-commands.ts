import { resolve } from 'node:path';
import { suggest } from '@synthline/spec';
import { UsageError, parseCommand } from './exit.ts';
import { usageOf } from './usage.ts';
import {
  MIX_FORMAT,
  MixError,
  datasetFormat,
  EXPORT_FORMATS,
  exportDataset,
  type ExportFormatName,
  formatRatio,
  mixDatasets,
  verifyMix,
  type MixReport,
  type RatioValue,
} from '@synthline/mix';

const MIX_USAGE_OF = { mix: usageOf('mix'), export: usageOf('export') };

/** Exit code and message for a refused mix or export: 2 for a bad option, 1 otherwise. */
function refused(err: unknown): number {
  if (!(err instanceof MixError)) throw err;
  process.stderr.write(`error: ${err.message}\n`);
  return err.code === 'BAD_OPTION' ? 2 : 1;
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new MixError('BAD_OPTION', `${flag}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

/** Progress on stderr: redrawn in place on a terminal, otherwise a line every few seconds. */
function progress(what: string, stream: NodeJS.WriteStream = process.stderr) {
  let last = 0;
  return {
    update(p: { done: number; total: number }) {
      const now = Date.now();
      const end = p.done === p.total;
      if (stream.isTTY && (now - last >= 100 || end)) stream.write(`\r${p.done}/${p.total} ${what}\x1b[K`);
      else if (!stream.isTTY && (now - last >= 5000 || end)) stream.write(`progress ${p.done}/${p.total} ${what}\n`);
      else return;
      last = now;
    },
    end() {
      if (stream.isTTY && last > 0) stream.write('\n');
    },
  };
}

/** `5 synthetic per real photo`: a ratio value in words. */
const perReal = (r: RatioValue): string =>
  r.synthetic_per_real === null ? 'no real photos' : `${Number(r.synthetic_per_real.toFixed(3))} synthetic per real photo`;

/** `1:5`, `1:4.5`: a ratio value as real:synthetic with real = 1, for the table. */
const perRealShort = (r: RatioValue): string => (r.synthetic_per_real === null ? '-' : `1:${Number(r.synthetic_per_real.toFixed(3))}`);

/** The per-class table, adjustments, exclusions and ignored files of a mix, as text. */
export function describeMix(r: MixReport): string {
  const lines: string[] = [];
  const a = r.plan.achieved;
  lines.push(
    `${r.dryRun ? 'would mix' : 'mixed'} ${a.real} real + ${a.synthetic} synthetic = ${a.real + a.synthetic} samples, ${r.classes.length} class(es); seed ${r.seed}`,
    `  ratio ${formatRatio(r.ratio)} requested; achieved ${a.real} real : ${a.synthetic} synthetic (${perReal(a)})` +
      (r.plan.exact ? ', exactly as requested' : ', as near as whole samples allow'),
  );
  const w = Math.max(5, ...r.allocation.map((c) => c.class.length));
  lines.push(`  ${'class'.padEnd(w)}  real used/found  synthetic used/needed/found  ratio`);
  for (const c of r.allocation) {
    const realCol = `${c.real_used}/${c.real_available}`.padEnd(15);
    const synthCol = `${c.synthetic_used}/${c.synthetic_needed}/${c.synthetic_available}`.padEnd(27);
    lines.push(
      `  ${c.class.padEnd(w)}  ${realCol}  ${synthCol}  ${perRealShort(c.ratio)}${c.reduced ? '  (reduced)' : ''}${c.rounded ? '  (rounded)' : ''}`,
    );
  }
  if (r.plan.adjustments.length > 0) {
    lines.push(`adjustments (${r.plan.adjustments.length}):`);
    for (const x of r.plan.adjustments) lines.push(`  ${x.message}`);
  }
  // A class of the dataset's class space with no sample on either side is not news: counted, not listed.
  const empty = r.plan.excluded.filter((x) => x.real_available === 0 && x.synthetic_available === 0);
  const excluded = r.plan.excluded.filter((x) => !empty.includes(x));
  if (excluded.length > 0) {
    lines.push(`classes left out (${excluded.length}):`);
    for (const x of excluded) lines.push(`  ${x.message}`);
  }
  if (empty.length > 0) lines.push(`(${empty.length} more class(es) of the spec have no samples, real or synthetic)`);
  if (r.ignored.length > 0) {
    lines.push(`real files not used (${r.ignored.length}):`);
    for (const x of r.ignored.slice(0, 10)) lines.push(`  ${x}`);
    if (r.ignored.length > 10) lines.push(`  ... and ${r.ignored.length - 10} more (listed in dataset.json)`);
  }
  return lines.join('\n');
}

/** `synthline mix --real <dir> --synthetic <dir> --ratio R:S --out <dir> ...` */
export async function mix(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('mix', MIX_USAGE_OF.mix, argv, {
    real: { type: 'string' },
    synthetic: { type: 'string' },
    ratio: { type: 'string' },
    out: { type: 'string', short: 'o' },
    seed: { type: 'string' },
    'shard-size': { type: 'string' },
    'best-effort': { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`mix: unexpected argument "${positionals[0]}"`, MIX_USAGE_OF.mix);
  const missing = (['real', 'synthetic', 'ratio', 'out'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`mix: missing ${missing.map((k) => `--${k}`).join(', ')}`, MIX_USAGE_OF.mix);
  try {
    const seed = integer(values.seed, '--seed');
    const shardSize = integer(values['shard-size'], '--shard-size');
    const bar = progress('samples written');
    if (!values['dry-run']) process.stderr.write(`mixing ${values.real} with ${values.synthetic} at ${values.ratio} into ${values.out}\n`);
    const report = await mixDatasets({
      real: String(values.real),
      synthetic: String(values.synthetic),
      out: String(values.out),
      ratio: String(values.ratio),
      ...(seed !== undefined ? { seed } : {}),
      ...(shardSize !== undefined ? { shardSize } : {}),
      bestEffort: values['best-effort'],
      overwrite: values.overwrite,
      dryRun: values['dry-run'],
      onProgress: (p) => bar.update(p),
    });
    bar.end();
    const out = process.stdout;
    out.write(`${describeMix(report)}\n`);
    const m = report.manifest;
    if (!m) return 0;
    out.write(`  mix          ${report.outDir}\n`);
    out.write(`  manifest     ${report.manifestPath}\n`);
    for (const s of m.shards.slice(0, 5))
      out.write(`  shard        ${resolve(report.outDir, s.name)}  (${s.samples} samples, ${(s.bytes / 1e6).toFixed(1)} MB)\n`);
    if (m.shards.length > 5) out.write(`  ...          ${m.shards.length - 5} more shards\n`);
    if (report.contactSheetPath) out.write(`  contact sheet ${report.contactSheetPath}\n`);
    out.write(`  check it:    synthline verify ${report.outDir}\n`);
    return 0;
  } catch (err) {
    return refused(err);
  }
}

/** `synthline export --format imagefolder --from <dir> --out <dir> [--split-by source] [--with-labels] [--overwrite]` */
export async function exportCommand(argv: string[]): Promise<number> {
  const usage = MIX_USAGE_OF.export;
  const { values, positionals } = parseCommand('export', usage, argv, {
    format: { type: 'string', default: 'imagefolder' },
    from: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'split-by': { type: 'string' },
    'with-labels': { type: 'boolean', default: false },
    margin: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`export: unexpected argument "${positionals[0]}"`, usage);
  const formats = Object.keys(EXPORT_FORMATS);
  const format = values.format;
  if (!formats.includes(format)) {
    const near = suggest(format, formats);
    throw new UsageError(`export: --format ${format} is not one of ${formats.join(', ')}${near ? `; did you mean ${near}?` : ''}`, usage);
  }
  if (!values.from || !values.out)
    throw new UsageError(`export: missing ${[!values.from && '--from', !values.out && '--out'].filter(Boolean).join(', ')}`, usage);
  const split = values['split-by'];
  if (split !== undefined && split !== 'source') throw new UsageError(`export: --split-by ${split} is not supported (source)`, usage);
  let margin: number | undefined;
  if (values.margin !== undefined) {
    margin = Number(values.margin);
    if (format !== 'crops') throw new UsageError('export: --margin applies to --format crops only', usage);
    if (!(Number.isFinite(margin) && margin >= 0 && margin <= 2))
      throw new UsageError(`export: --margin expects a fraction of the box from 0 to 2, got "${values.margin}"`, usage);
  }
  try {
    const bar = progress('images exported');
    const r = await exportDataset({
      from: values.from,
      out: values.out,
      format: format as ExportFormatName,
      ...(split ? { splitBy: split } : {}),
      ...(margin !== undefined ? { margin } : {}),
      withLabels: values['with-labels'],
      overwrite: values.overwrite,
      onProgress: (p) => bar.update(p),
    });
    bar.end();
    const out = process.stdout;
    const extra = Object.entries(r.counts)
      .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
      .join(', ');
    out.write(
      `exported ${r.images} images of ${Object.keys(r.perClass).length} class(es) as ${r.format}` +
        `${r.labels && r.format === 'imagefolder' ? ` with ${r.labels} labels` : ''}${extra ? ` (${extra})` : ''}\n`,
    );
    if (r.format === 'imagefolder') for (const root of r.roots) out.write(`  root         ${resolve(r.outDir, root)}\n`);
    else out.write(`  folder       ${r.outDir}\n`);
    for (const f of r.files) out.write(`  ${f.padEnd(12)} ${resolve(r.outDir, f)}\n`);
    for (const [c, n] of Object.entries(r.perClass).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.write(`  ${c}: ${n}\n`);
    out.write(`  index        ${r.indexPath}\n`);
    return 0;
  } catch (err) {
    return refused(err);
  }
}

/**
 * `synthline verify <dir>`: a mix (`synthline.mix/1`) is checked by {@link verifyMix}; anything
 * else goes to `fallback`, the dataset verifier.
 */
export async function verify(argv: string[], fallback: (argv: string[]) => Promise<number>): Promise<number> {
  const dir = argv[0];
  if (!dir || (await datasetFormat(resolve(dir))) !== MIX_FORMAT) return fallback(argv);
  const report = await verifyMix(resolve(dir));
  if (report.ok) {
    process.stdout.write(`ok: ${report.samples} samples in ${report.shards} shard(s) match dataset.json (${MIX_FORMAT})\n`);
    return 0;
  }
  process.stdout.write(`INVALID: ${report.problems.length} problem(s)\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`);
  return 1;
}
