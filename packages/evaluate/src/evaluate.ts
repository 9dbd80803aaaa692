import { availableParallelism } from 'node:os';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@synthline/base';
import { MemberReader } from '@synthline/mix';
import type { JobSpec } from '@synthline/spec';
import { contactSheet, type Tile } from '@synthline/pipeline';
import { binParameters, score, worstBins, type ParamBins, type Score, type WorstBin } from './bins.ts';
import { EvaluateError } from './errors.ts';
import { openSet, type EvalSample, type EvalSet, type ImageRef } from './inputs.ts';
import { barChart, confusionMatrix, lineChart } from './plots.ts';
import { DEFAULT_PYTHON, runProbe, type EpochReport, type RunnerHello, type RunSettings, type WireImage } from './runner.ts';
import { checkTarget, mapTargets, type ClassMap } from './targets.ts';
import {
  checkSuggestPath,
  checkSuggestTarget,
  productSplit,
  SUGGEST_RULE,
  suggestSpec,
  trainSpecOf,
  writeSuggestedSpec,
  type SuggestionReport,
  type TrainSpec,
} from './suggest-spec.ts';
import { reportHtml } from './report-html.ts';

/** The `format` of report.json. */
export const REPORT_FORMAT = 'synthline.evaluation/1';
export const REPORT_FILES = {
  json: 'report.json',
  html: 'report.html',
  perClass: 'per-class.png',
  confusion: 'confusion.png',
  curve: 'training-curve.png',
  bins: 'parameters.png',
  misclassified: 'misclassified.jpg',
  predictions: 'predictions.jsonl',
} as const;

export interface EvaluateOptions {
  train: string;
  test: string;
  /** class | model | color | side | a dotted label path. */
  target: string;
  out: string;
  /** Images are resized to size x size (default 128). */
  size?: number;
  epochs?: number;
  /** Exactly this many training batches instead of `epochs` passes (the sweep's equal budget). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  device?: 'cpu' | 'cuda';
  backbone?: 'small-cnn' | 'resnet18';
  weights?: string;
  /** Torch threads (default: the cores, at most 4). */
  threads?: number;
  /** The interpreter (SYNTHLINE_PYTHON; default /usr/bin/python3). */
  python?: string;
  /** `--overwrite`: replace an earlier report in `out`, and the `suggest` file. */
  overwrite?: boolean;
  /**
   * `--suggest <spec-out.json>`: write the training set's spec there with its product weights
   * moved toward the products the probe gets wrong most (the target must be class, model or color).
   */
  suggest?: string;
  onStage?: (what: string) => void;
  onEpoch?: (e: EpochReport) => void;
  /** Already opened sets (the sweep opens each once). */
  sets?: { train?: EvalSet; test?: EvalSet };
}

export interface ClassScore extends Score {
  class: string;
  train_samples: number;
}

export interface EvaluationReport {
  format: typeof REPORT_FORMAT;
  created_by: string;
  inputs: {
    train: { path: string; kind: string; samples: number; per_source: Record<string, number> };
    test: { path: string; kind: string; samples: number; per_source: Record<string, number> };
  };
  target: string;
  classes: string[];
  settings: Omit<RunSettings, 'num_classes' | 'train' | 'test'>;
  runner: RunnerHello & { device: string; parameters: number; seconds: number; steps: number; epochs: number };
  accuracy: Score;
  chance: number;
  per_class: ClassScore[];
  /** confusion[i][j]: test samples of class i predicted as j. */
  confusion: number[][];
  training_curve: EpochReport[];
  /** Accuracy by rendered parameter, each parameter's bins adding up to the test set. */
  parameters: (Omit<ParamBins, 'bins'> & { bins: (Omit<ParamBins['bins'][number], 'members'> & { samples: number })[] })[];
  worst_bins: {
    param: string;
    what: string;
    label: string;
    n: number;
    accuracy: number | null;
    ci95: [number, number];
    misclassified: number;
  }[];
  files: Record<keyof typeof REPORT_FILES, string | null>;
  /** With `--suggest`: the spec written, each product's old and new weight, and why. */
  suggestion: SuggestionReport | null;
}

export interface EvaluateResult {
  report: EvaluationReport;
  outDir: string;
  reportPath: string;
}

function positive(v: number | undefined, def: number, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = v ?? def;
  if (!(Number.isInteger(n) && n >= min && n <= max))
    throw new EvaluateError('BAD_OPTION', `${flag}: expected a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

/** Settings checked, defaults filled in. */
export function checkOptions(o: EvaluateOptions): Omit<RunSettings, 'num_classes' | 'train' | 'test'> {
  const device = o.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new EvaluateError('BAD_OPTION', `--device: expected cpu or cuda, got ${String(device)}`);
  const backbone = o.backbone ?? 'small-cnn';
  if (backbone !== 'small-cnn' && backbone !== 'resnet18')
    throw new EvaluateError('BAD_OPTION', `--backbone: expected small-cnn or resnet18, got ${String(backbone)}`);
  if (backbone === 'resnet18' && !o.weights)
    throw new EvaluateError(
      'BAD_OPTION',
      '--backbone resnet18 needs --weights <file> (a local ResNet-18 state dict; nothing is downloaded)',
    );
  if (o.weights && backbone === 'small-cnn') throw new EvaluateError('BAD_OPTION', '--weights goes with --backbone resnet18');
  const lr = o.lr ?? 0.003;
  if (!(lr > 0 && lr < 10)) throw new EvaluateError('BAD_OPTION', `--lr: expected a number above 0, got ${lr}`);
  return {
    size: positive(o.size, 128, '--size', 16, 1024),
    epochs: positive(o.epochs, 3, '--epochs', 1, 10_000),
    steps: positive(o.steps, 0, '--steps', 0),
    batch_size: positive(o.batchSize, 32, '--batch-size', 1, 4096),
    lr,
    seed: positive(o.seed, 0, '--seed', 0, 2 ** 31 - 1),
    threads: positive(o.threads, Math.min(4, availableParallelism()), '--threads', 1, 256),
    device,
    backbone,
    weights: o.weights ? resolve(o.weights) : '',
    augment: true,
  };
}

async function imageBytes(ref: ImageRef, reader: MemberReader): Promise<Buffer> {
  return ref.kind === 'file' ? readFile(ref.path) : reader.read(ref.path, ref.member);
}

/** An image as the runner takes it: decoded, RGB, squeezed to size x size (aspect not kept). */
export async function pixelsOf(image: Buffer, size: number, id: string): Promise<Buffer> {
  try {
    const { data, info } = await sharp(image)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion`);
    return data;
  } catch (err) {
    throw new EvaluateError('INPUT', `${id}: cannot decode the image: ${(err as Error).message}`);
  }
}

/** Images for the runner, train then test, decoded a few at a time ahead of the sending. */
async function* wireImages(
  train: EvalSample[],
  trainY: number[],
  test: EvalSample[],
  testY: number[],
  size: number,
): AsyncGenerator<WireImage> {
  const reader = new MemberReader();
  const all = [
    ...train.map((s, i) => ({ s, split: 'train' as const, target: trainY[i] as number })),
    ...test.map((s, i) => ({ s, split: 'test' as const, target: testY[i] as number })),
  ];
  try {
    const AHEAD = 8;
    const pending: Promise<WireImage>[] = [];
    const start = (k: number) => {
      const x = all[k];
      if (x)
        pending.push(
          imageBytes(x.s.image, reader).then(async (b) => ({ split: x.split, target: x.target, pixels: await pixelsOf(b, size, x.s.id) })),
        );
    };
    for (let k = 0; k < Math.min(AHEAD, all.length); k++) start(k);
    for (let k = 0; k < all.length; k++) {
      const img = await (pending.shift() as Promise<WireImage>);
      start(k + AHEAD);
      yield img;
    }
  } finally {
    await reader.close();
  }
}

const bySource = (set: EvalSet) => {
  const out: Record<string, number> = {};
  for (const s of set.samples) out[s.source] = (out[s.source] ?? 0) + 1;
  return out;
};

/** Checks the output folder: made if absent; an earlier report there is kept unless `overwrite`. */
async function prepareOut(out: string, overwrite: boolean, inputs: string[]): Promise<string> {
  const dir = resolve(out);
  for (const i of inputs)
    if (resolve(i) === dir) throw new EvaluateError('BAD_OPTION', `--out ${out} is an input folder; give a folder of its own`);
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new EvaluateError('BAD_OPTION', `--out ${out} is a file, not a folder`);
  if (!overwrite && (await stat(join(dir, REPORT_FILES.json)).catch(() => undefined)))
    throw new EvaluateError(
      'OUTPUT_EXISTS',
      `--out ${out} already holds ${REPORT_FILES.json}; pass --overwrite to replace it, or choose another folder`,
    );
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Trains the probe on `train` and tests it on `test`: resolves both sets, maps the target to class
 * indices, streams the images to the Python runner, and writes report.json, report.html, the plots
 * as PNGs, predictions.jsonl and a contact sheet of the misclassified samples of the worst bins.
 */
export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const settings = checkOptions(o);
  const target = checkTarget(o.target);
  const python = o.python ?? DEFAULT_PYTHON;
  o.onStage?.('reading the training and test sets');
  // Everything --suggest needs is checked before the training, which takes the time; first that
  // the target is one a product decides and that the training set has a spec at all.
  if (o.suggest !== undefined) checkSuggestTarget(target);
  const train = o.sets?.train ?? (await openSet(o.train, '--train'));
  const trainSpec = o.suggest === undefined ? undefined : await trainSpecOf(train);
  const test = o.sets?.test ?? (await openSet(o.test, '--test'));
  const classes = mapTargets(train, test, target);
  const suggest = o.suggest === undefined || !trainSpec ? undefined : await prepareSuggest(o.suggest, trainSpec, o, train, test, classes);
  const outDir = await prepareOut(o.out, o.overwrite ?? false, [o.train, o.test]);
  o.onStage?.(
    `training on ${train.samples.length} images, testing on ${test.samples.length} (${classes.names.length} classes of ${target})`,
  );
  const run = await runProbe(
    python,
    { ...settings, num_classes: classes.names.length, train: train.samples.length, test: test.samples.length },
    wireImages(train.samples, classes.train, test.samples, classes.test, settings.size),
    { ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}) },
  );
  const preds = run.result.predictions;
  if (preds.length !== test.samples.length)
    throw new EvaluateError('RUNNER', `the runner predicted ${preds.length} of ${test.samples.length} test images`);
  const correct = preds.map((p, i) => p === classes.test[i]);
  const k = classes.names.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  preds.forEach((p, i) => {
    (confusion[classes.test[i] as number] as number[])[p] = ((confusion[classes.test[i] as number] as number[])[p] ?? 0) + 1;
  });
  const trainCounts = new Array<number>(k).fill(0);
  for (const t of classes.train) trainCounts[t] = (trainCounts[t] ?? 0) + 1;
  const perClass: ClassScore[] = classes.names.map((name, c) => {
    const row = confusion[c] as number[];
    return {
      class: name,
      train_samples: trainCounts[c] ?? 0,
      ...score(
        row[c] ?? 0,
        row.reduce((a, b) => a + b, 0),
      ),
    };
  });
  const accuracy = score(correct.filter(Boolean).length, correct.length);
  const params = binParameters(test.samples, correct);
  const worst = worstBins(params, test.samples.length, accuracy.accuracy ?? 0);

  o.onStage?.('writing the report');
  const files: EvaluationReport['files'] = {
    json: REPORT_FILES.json,
    html: REPORT_FILES.html,
    perClass: null,
    confusion: null,
    curve: null,
    bins: null,
    misclassified: null,
    predictions: REPORT_FILES.predictions,
  };
  const svgs = {
    perClass: barChart(
      `Accuracy per ${target} (95% Wilson intervals); overall ${((accuracy.accuracy ?? 0) * 100).toFixed(1)}%`,
      perClass.filter((c) => c.n > 0).map((c) => ({ label: c.class, value: c.accuracy, ci95: c.ci95, n: c.n })),
      { value: 1 / k, label: 'chance' },
    ),
    confusion: confusionMatrix(classes.names, confusion),
    curve: lineChart(
      'Training curve',
      run.epochs.map((e) => String(e.epoch)),
      [
        { name: 'train accuracy', colour: '#4c78a8', values: run.epochs.map((e) => e.train_accuracy) },
        { name: 'test accuracy', colour: '#f58518', values: run.epochs.map((e) => e.test_accuracy) },
        {
          name: 'loss / max loss',
          colour: '#888',
          values: run.epochs.map((e) => e.loss / Math.max(...run.epochs.map((x) => x.loss), 1e-9)),
        },
      ],
    ),
    bins: params.map((p) =>
      barChart(
        p.what,
        p.bins.map((b) => ({ label: b.label, value: b.accuracy, ci95: b.ci95, n: b.n })),
        { value: accuracy.accuracy ?? 0, label: 'overall' },
      ),
    ),
  };
  for (const key of ['perClass', 'confusion', 'curve'] as const) {
    await writeFileAtomic(join(outDir, REPORT_FILES[key]), await sharp(Buffer.from(svgs[key])).png().toBuffer());
    files[key] = REPORT_FILES[key];
  }
  if (svgs.bins.length > 0) {
    const pngs = await Promise.all(svgs.bins.map((s) => sharp(Buffer.from(s)).png().toBuffer({ resolveWithObject: true })));
    const width = Math.max(...pngs.map((p) => p.info.width));
    const height = pngs.reduce((h, p) => h + p.info.height, 0);
    let y = 0;
    const layers = pngs.map((p) => {
      const l = { input: p.data, top: y, left: 0 };
      y += p.info.height;
      return l;
    });
    await writeFileAtomic(
      join(outDir, REPORT_FILES.bins),
      await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
        .composite(layers)
        .png()
        .toBuffer(),
    );
    files.bins = REPORT_FILES.bins;
  }
  let sheet: Buffer | undefined;
  const wrong = misclassifiedOfWorst(worst, correct);
  if (wrong.length > 0) {
    const reader = new MemberReader();
    try {
      const tiles: Tile[] = [];
      for (const { i, bin } of wrong.slice(0, 36)) {
        const s = test.samples[i] as EvalSample;
        tiles.push({
          image: await imageBytes(s.image, reader),
          caption: [`${bin.param} ${bin.bin.label}`, `${classes.names[classes.test[i] as number]} -> ${classes.names[preds[i] as number]}`],
        });
      }
      sheet = await contactSheet(tiles);
    } finally {
      await reader.close();
    }
    await writeFileAtomic(join(outDir, REPORT_FILES.misclassified), sheet);
    files.misclassified = REPORT_FILES.misclassified;
  }
  const predictions = test.samples.map((s, i) =>
    JSON.stringify({
      id: s.id,
      source: s.source,
      true: classes.names[classes.test[i] as number],
      predicted: classes.names[preds[i] as number],
      confidence: run.result.confidence[i],
    }),
  );
  await writeFileAtomic(join(outDir, REPORT_FILES.predictions), `${predictions.join('\n')}\n`);

  const report: EvaluationReport = {
    format: REPORT_FORMAT,
    created_by: 'synthline 0.1.0 evaluate',
    inputs: {
      train: { path: train.dir, kind: train.kind, samples: train.samples.length, per_source: bySource(train) },
      test: { path: test.dir, kind: test.kind, samples: test.samples.length, per_source: bySource(test) },
    },
    target,
    classes: classes.names,
    settings,
    runner: {
      ...run.hello,
      device: run.result.device,
      parameters: run.result.parameters,
      seconds: run.result.seconds,
      steps: run.result.steps,
      epochs: run.result.epochs,
    },
    accuracy,
    chance: 1 / k,
    per_class: perClass,
    confusion,
    training_curve: run.epochs,
    parameters: params.map((p) => ({ ...p, bins: p.bins.map(({ members, ...b }) => ({ ...b, samples: members.length })) })),
    worst_bins: worst.map((w) => ({
      param: w.param,
      what: w.what,
      label: w.bin.label,
      n: w.bin.n,
      accuracy: w.bin.accuracy,
      ci95: w.bin.ci95,
      misclassified: w.bin.n - w.bin.correct,
    })),
    files,
    suggestion: null,
  };
  if (suggest) {
    o.onStage?.(`writing the suggested spec to ${suggest.path}`);
    const s = suggestSpec(suggest.spec, classes.names, confusion, suggest.split);
    await writeSuggestedSpec(suggest.path, s.spec, o.overwrite ?? false);
    report.suggestion = { spec: suggest.path, from: suggest.from, target, rule: SUGGEST_RULE, ...s.weights };
  }
  const reportPath = join(outDir, REPORT_FILES.json);
  await writeFileAtomic(join(outDir, REPORT_FILES.html), reportHtml(report, svgs, sheet));
  await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return { report, outDir, reportPath };
}

/** The spec --suggest starts from and where it goes, checked before the training. */
async function prepareSuggest(
  path: string,
  { spec, from }: TrainSpec,
  o: EvaluateOptions,
  train: EvalSet,
  test: EvalSet,
  classes: ClassMap,
): Promise<{ path: string; spec: JobSpec; from: string; split: number[][] }> {
  const split = productSplit(spec, train, classes, from);
  const reportFiles = Object.values(REPORT_FILES).map((f) => join(resolve(o.out), f));
  const out = await checkSuggestPath(path, o.overwrite ?? false, [
    join(train.dir, 'dataset.json'),
    join(test.dir, 'dataset.json'),
    from,
    ...reportFiles,
  ]);
  return { path: out, spec, from, split };
}

/** The misclassified test samples of the worst bins, bin by bin, each sample once. */
function misclassifiedOfWorst(worst: WorstBin[], correct: boolean[]): { i: number; bin: WorstBin }[] {
  const seen = new Set<number>();
  const out: { i: number; bin: WorstBin }[] = [];
  for (const w of worst) {
    for (const i of w.bin.members) {
      if (!correct[i] && !seen.has(i)) {
        seen.add(i);
        out.push({ i, bin: w });
      }
    }
  }
  return out;
}
