import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@synthline/base';
import { mixDatasets } from '@synthline/mix';
import { EvaluateError } from './errors.ts';
import { evaluate, type EvaluateOptions } from './evaluate.ts';
import { openSet, type EvalSet } from './inputs.ts';
import { lineChart } from './plots.ts';
import { STYLE, ci, pct } from './report-html.ts';
import type { Score } from './bins.ts';

export const SWEEP_FORMAT = 'synthline.evaluation-sweep/1';

export interface SweepOptions extends Omit<EvaluateOptions, 'train' | 'sets' | 'steps'> {
  real: string;
  synthetic: string;
  /** `R:S` each; `1:0` is the real photos alone, `0:1` the rendered set alone. */
  ratios: string[];
}

export interface SweepRow {
  ratio: string;
  train: string;
  train_samples: number;
  per_source: Record<string, number>;
  steps: number;
  accuracy: Score;
  report: string;
}

export interface SweepReport {
  format: typeof SWEEP_FORMAT;
  test: string;
  target: string;
  /** Every ratio trains this many batches: the same budget. */
  steps: number;
  batch_size: number;
  rows: SweepRow[];
  files: { json: string; html: string; plot: string };
}

/** `1:5` -> [1, 5]; both whole numbers, not both zero. */
export function parseSweepRatio(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m || (Number(m[1]) === 0 && Number(m[2]) === 0))
    throw new EvaluateError(
      'BAD_OPTION',
      `--ratios: "${text}" is not R:S (whole numbers, real to synthetic, e.g. 1:5; 1:0 real alone, 0:1 rendered alone)`,
    );
  return [Number(m[1]), Number(m[2])];
}

/**
 * The ratio sweep: for each `R:S` builds the mix with `synthline mix` (or takes the real photos
 * or the rendered set alone), trains each probe with the same budget (the same number of batches:
 * `epochs` passes over the largest training set), tests each on `test`, and writes one row per
 * ratio to sweep.json, a table to sweep.html and a plot to sweep.png.
 */
export async function sweep(o: SweepOptions): Promise<{ report: SweepReport; outDir: string }> {
  if (o.ratios.length === 0) throw new EvaluateError('BAD_OPTION', '--ratios: give at least one R:S');
  const ratios = o.ratios.map((r) => ({ text: r.trim(), rs: parseSweepRatio(r) }));
  const dup = ratios.find((r, i) => ratios.findIndex((x) => x.rs[0] === r.rs[0] && x.rs[1] === r.rs[1]) !== i);
  if (dup) throw new EvaluateError('BAD_OPTION', `--ratios: ${dup.text} is listed twice`);
  const outDir = resolve(o.out);
  if (!o.overwrite && (await stat(join(outDir, 'sweep.json')).catch(() => undefined)))
    throw new EvaluateError('OUTPUT_EXISTS', `--out ${o.out} already holds sweep.json; pass --overwrite, or choose another folder`);
  await mkdir(outDir, { recursive: true });
  const test = await openSet(o.test, '--test');
  const trains: { ratio: string; dir: string; set: EvalSet }[] = [];
  for (const { text, rs } of ratios) {
    let dir: string;
    if (rs[1] === 0) dir = resolve(o.real);
    else if (rs[0] === 0) dir = resolve(o.synthetic);
    else {
      dir = join(outDir, 'mixes', `${rs[0]}-${rs[1]}`);
      o.onStage?.(`mixing ${text}`);
      await mixDatasets({
        real: o.real,
        synthetic: o.synthetic,
        out: dir,
        ratio: `${rs[0]}:${rs[1]}`,
        seed: o.seed ?? 0,
        overwrite: true,
        contactSheet: false,
      });
    }
    trains.push({ ratio: text, dir, set: await openSet(dir, rs[1] === 0 ? '--real' : '--synthetic') });
  }
  const batch = o.batchSize ?? 32;
  const largest = Math.max(...trains.map((t) => t.set.samples.length));
  const steps = (o.epochs ?? 3) * Math.ceil(largest / Math.min(batch, largest));
  const rows: SweepRow[] = [];
  for (const t of trains) {
    o.onStage?.(`ratio ${t.ratio}: training on ${t.set.samples.length} images for ${steps} steps`);
    const runDir = join(outDir, 'runs', t.ratio.replace(':', '-'));
    const { report, reportPath } = await evaluate({
      ...o,
      train: t.dir,
      out: runDir,
      steps,
      overwrite: true,
      sets: { train: t.set, test },
    });
    rows.push({
      ratio: t.ratio,
      train: t.dir,
      train_samples: t.set.samples.length,
      per_source: report.inputs.train.per_source,
      steps: report.runner.steps,
      accuracy: report.accuracy,
      report: reportPath,
    });
  }
  const files = { json: 'sweep.json', html: 'sweep.html', plot: 'sweep.png' };
  const report: SweepReport = { format: SWEEP_FORMAT, test: test.dir, target: o.target, steps, batch_size: batch, rows, files };
  const svg = lineChart(
    `Test accuracy per real:synthetic ratio (${o.target})`,
    rows.map((r) => r.ratio),
    [
      { name: 'test accuracy', colour: '#f58518', values: rows.map((r) => r.accuracy.accuracy) },
      { name: '95% low', colour: '#bbb', values: rows.map((r) => r.accuracy.ci95[0]) },
      { name: '95% high', colour: '#bbb', values: rows.map((r) => r.accuracy.ci95[1]) },
    ],
  );
  await writeFileAtomic(join(outDir, files.plot), await sharp(Buffer.from(svg)).png().toBuffer());
  const table = rows
    .map(
      (r) =>
        `<tr><td>${r.ratio}</td><td>${r.train_samples}</td><td>${r.per_source.real ?? 0}</td><td>${r.per_source.synthetic ?? 0}</td><td>${pct(r.accuracy.accuracy)}</td><td>${ci(r.accuracy.ci95)}</td><td><a href="runs/${r.ratio.replace(':', '-')}/report.html">report</a></td></tr>`,
    )
    .join('');
  await writeFileAtomic(
    join(outDir, files.html),
    `<!doctype html><html><head><meta charset="utf-8"><title>synthline ratio sweep</title><style>${STYLE}</style></head><body>
<h1>Real : synthetic ratio sweep (${o.target})</h1><p>Each ratio trained ${steps} steps of ${batch} images; tested on ${test.samples.length} images of ${test.dir}.</p>
<table><tr><th>ratio</th><th>training images</th><th>real</th><th>synthetic</th><th>test accuracy</th><th>95% interval</th><th></th></tr>${table}</table>
<div class="plots">${svg}</div></body></html>\n`,
  );
  await writeFileAtomic(join(outDir, files.json), `${JSON.stringify(report, null, 2)}\n`);
  return { report, outDir };
}
