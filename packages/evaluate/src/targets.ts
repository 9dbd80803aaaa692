import { EvaluateError } from './errors.ts';
import { byCodeUnit, type ClassAttributes, type EvalSample, type EvalSet } from './inputs.ts';

/** The targets with a name of their own; anything else is a dotted path into the label. */
export const NAMED_TARGETS = ['class', 'model', 'color', 'side'] as const;

/** A target: what the probe learns to tell apart. */
export function checkTarget(target: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(target)) {
    throw new EvaluateError(
      'BAD_OPTION',
      `--target ${target}: expected class, model, color, side or a label attribute as a dotted path (e.g. condition.case.kind)`,
    );
  }
  return target;
}

/** A field of a label by dotted path (`world.hdri`), as text; undefined when absent or not a plain value. */
export function labelPath(label: Record<string, unknown> | undefined, path: string): string | undefined {
  let v: unknown = label;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * A sample's value of `target`: `class` is its class; `model`, `color` and `side` its attributes
 * (a photo's from the class of the same name in `known`, the classes of the rendered sets);
 * anything else a field of its label.
 */
export function targetOf(s: EvalSample, target: string, known: Map<string, ClassAttributes>): string | undefined {
  if (target === 'class') return s.class;
  if (target === 'model' || target === 'color' || target === 'side') return s.attributes[target] ?? known.get(s.class)?.[target];
  return (
    labelPath(s.label, target) ?? (target.startsWith('attributes.') ? s.attributes[target.slice(11) as keyof ClassAttributes] : undefined)
  );
}

/** The class indices of an evaluation: the training set's target values, sorted. */
export interface ClassMap {
  target: string;
  names: string[];
  train: number[];
  test: number[];
}

/**
 * Maps `target` to class indices over both sets. Fails, naming the samples and the fix, when a
 * sample has no value, when training has fewer than two values, or when the test set has a value
 * training never shows (the probe could not predict it).
 */
export function mapTargets(train: EvalSet, test: EvalSet, target: string): ClassMap {
  const known = new Map<string, ClassAttributes>([...test.classes, ...train.classes]);
  const values = (set: EvalSet, flag: string): string[] => {
    const out: string[] = [];
    const missing: EvalSample[] = [];
    for (const s of set.samples) {
      const v = targetOf(s, target, known);
      if (v === undefined) missing.push(s);
      else out.push(v);
    }
    if (missing.length > 0) {
      const eg = missing
        .slice(0, 3)
        .map((s) => `${s.id} (class ${s.class})`)
        .join(', ');
      const named = (NAMED_TARGETS as readonly string[]).includes(target);
      throw new EvaluateError(
        'TARGET',
        `--target ${target}: ${missing.length} of ${set.samples.length} ${flag} sample(s) have no ${target}, e.g. ${eg}. ` +
          (named
            ? `A photo's ${target} is that of the synthline class of the same name: name its class folder after one ` +
              `(e.g. ${[...known.keys()][0] ?? 'iphone-13_blue'}; synthline catalog lists models and colours), or use --target class`
            : `Only rendered labels have ${target}; use a field every sample's label has, or --target class`),
      );
    }
    return out;
  };
  const trainValues = values(train, '--train');
  const testValues = values(test, '--test');
  const names = [...new Set(trainValues)].sort(byCodeUnit);
  if (names.length < 2) {
    throw new EvaluateError(
      'TARGET',
      `--target ${target}: the training set has ${names.length === 0 ? 'no value' : `only one value (${names[0]})`}; a classifier needs at least two classes`,
    );
  }
  const index = new Map(names.map((n, i) => [n, i]));
  const lacking = [...new Set(testValues.filter((v) => !index.has(v)))].sort(byCodeUnit);
  if (lacking.length > 0) {
    const count = testValues.filter((v) => !index.has(v)).length;
    throw new EvaluateError(
      'UNKNOWN_CLASSES',
      `the test set has ${target} value(s) the training set lacks, so the probe could never predict them: ${lacking.join(', ')} ` +
        `(${count} test sample(s))\n  training ${target} values: ${names.join(', ')}\n` +
        `  fix: add them to the training set (render those products and colours, or add photos in <train>/<class>/), ` +
        `or take them out of the test set`,
    );
  }
  return { target, names, train: trainValues.map((v) => index.get(v) as number), test: testValues.map((v) => index.get(v) as number) };
}
