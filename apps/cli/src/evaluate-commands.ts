import { EvaluateError, evaluate, sweep, type EvaluateOptions, type EvaluationReport } from '@synthline/evaluate';
import { MixError } from '@synthline/mix';
import { loadCliEnv } from '@synthline/config';
import { EXIT, UsageError, parseCommand } from './exit.ts';
import { usageOf } from './usage.ts';

const USAGE = usageOf('evaluate');

/** Exit code and message for a refused or failed evaluation: 2 for a bad command line, 1 otherwise. */
function refused(err: unknown): number {
  if (err instanceof EvaluateError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.code === 'BAD_OPTION' || err.code === 'NOT_FOUND' ? EXIT.usage : EXIT.failed;
  }
  if (err instanceof MixError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.code === 'BAD_OPTION' ? EXIT.usage : EXIT.failed;
  }
  throw err;
}

const COMMON = {
  test: { type: 'string' },
  target: { type: 'string', default: 'class' },
  out: { type: 'string', short: 'o' },
  size: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  device: { type: 'string' },
  backbone: { type: 'string' },
  weights: { type: 'string' },
  threads: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  overwrite: { type: 'boolean', default: false },
} as const;

function whole(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`evaluate: ${flag} expects a whole number, got "${text}"`, USAGE);
  return Number(text);
}

function common(values: Record<string, string | boolean | undefined>): Omit<EvaluateOptions, 'train' | 'test' | 'out'> {
  const str = (k: string) => values[k] as string | undefined;
  const lr = str('lr');
  if (lr !== undefined && !(Number(lr) > 0)) throw new UsageError(`evaluate: --lr expects a number above 0, got "${lr}"`, USAGE);
  const opts: Omit<EvaluateOptions, 'train' | 'test' | 'out'> = {
    target: str('target') ?? 'class',
    python: loadCliEnv(['SYNTHLINE_PYTHON']).SYNTHLINE_PYTHON,
    overwrite: Boolean(values.overwrite),
    onStage: (s) => process.stderr.write(`${s}\n`),
    onEpoch: (e) =>
      process.stderr.write(
        `  epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(3)}, train ${(e.train_accuracy * 100).toFixed(1)}%, test ${(e.test_accuracy * 100).toFixed(1)}%` +
          `${e.images_per_s ? `, ${e.images_per_s.toFixed(0)} images/s` : ''}\n`,
      ),
  };
  const n = (k: string, flag: string) => whole(str(k), flag);
  const set = <K extends keyof EvaluateOptions>(k: K, v: EvaluateOptions[K] | undefined) => {
    if (v !== undefined) (opts as EvaluateOptions)[k] = v;
  };
  set('size', n('size', '--size'));
  set('epochs', n('epochs', '--epochs'));
  set('seed', n('seed', '--seed'));
  set('threads', n('threads', '--threads'));
  set('batchSize', n('batch-size', '--batch-size'));
  set('lr', lr !== undefined ? Number(lr) : undefined);
  set('device', str('device') as EvaluateOptions['device']);
  set('backbone', str('backbone') as EvaluateOptions['backbone']);
  set('weights', str('weights'));
  return opts;
}

function summary(r: EvaluationReport, outDir: string): string {
  const p = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const lines = [
    `accuracy ${p(r.accuracy.accuracy)} on ${r.accuracy.n} test images (95% ${p(r.accuracy.ci95[0])} to ${p(r.accuracy.ci95[1])}); chance ${p(r.chance)}, ${r.classes.length} classes of ${r.target}`,
  ];
  for (const c of r.per_class) if (c.n > 0) lines.push(`  ${c.class.padEnd(24)} ${p(c.accuracy).padStart(6)}  (n=${c.n})`);
  if (r.worst_bins.length > 0) {
    lines.push('fails most where:');
    for (const w of r.worst_bins) lines.push(`  ${w.what} ${w.label}: ${p(w.accuracy)} (n=${w.n})`);
  }
  if (r.suggestion) {
    const s = r.suggestion;
    lines.push(`suggested spec ${s.spec}${s.changed ? '' : ' (weights unchanged: the errors are alike)'}:`);
    for (const x of s.products)
      lines.push(`  ${x.asset.padEnd(24)} weight ${x.old_weight} -> ${x.new_weight}  (test error ${x.error === null ? '-' : p(x.error)})`);
  }
  lines.push(`  report       ${outDir}/report.html`, `  report.json  ${outDir}/report.json`);
  return lines.join('\n');
}

/** `synthline evaluate --train <dir> --test <dir> --target T --out <dir> ...` and `synthline evaluate sweep ...` */
export async function evaluateCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'sweep') return sweepCommand(argv.slice(1));
  const { values, positionals } = parseCommand('evaluate', USAGE, argv, {
    ...COMMON,
    train: { type: 'string' },
    suggest: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`evaluate: unexpected argument "${positionals[0]}" (the subcommand is "sweep")`, USAGE);
  const missing = (['train', 'test', 'out'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`evaluate: missing ${missing.map((k) => `--${k}`).join(', ')}`, USAGE);
  try {
    const r = await evaluate({
      ...common(values),
      train: String(values.train),
      test: String(values.test),
      out: String(values.out),
      ...(values.suggest !== undefined ? { suggest: values.suggest } : {}),
    });
    process.stdout.write(`${summary(r.report, r.outDir)}\n`);
    return EXIT.ok;
  } catch (err) {
    return refused(err);
  }
}

async function sweepCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('evaluate sweep', USAGE, argv, {
    ...COMMON,
    real: { type: 'string' },
    synthetic: { type: 'string' },
    ratios: { type: 'string', default: '1:0,1:1,1:5,1:10,0:1' },
  });
  if (positionals.length > 0) throw new UsageError(`evaluate sweep: unexpected argument "${positionals[0]}"`, USAGE);
  const missing = (['real', 'synthetic', 'test', 'out'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`evaluate sweep: missing ${missing.map((k) => `--${k}`).join(', ')}`, USAGE);
  try {
    const { report, outDir } = await sweep({
      ...common(values),
      real: String(values.real),
      synthetic: String(values.synthetic),
      test: String(values.test),
      out: String(values.out),
      ratios: values.ratios.split(','),
    });
    const p = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
    const out = [
      `ratio sweep on ${report.rows[0]?.accuracy.n ?? 0} test images, ${report.steps} steps of ${report.batch_size} each`,
      '  ratio   train images  real  synthetic  accuracy  95% interval',
    ];
    for (const r of report.rows)
      out.push(
        `  ${r.ratio.padEnd(7)} ${String(r.train_samples).padStart(12)}  ${String(r.per_source.real ?? 0).padStart(4)}  ${String(r.per_source.synthetic ?? 0).padStart(9)}  ${p(r.accuracy.accuracy).padStart(8)}  ${p(r.accuracy.ci95[0])} to ${p(r.accuracy.ci95[1])}`,
      );
    out.push(`  table        ${outDir}/sweep.html`, `  sweep.json   ${outDir}/sweep.json`);
    process.stdout.write(`${out.join('\n')}\n`);
    return EXIT.ok;
  } catch (err) {
    return refused(err);
  }
}
