/**
 * Glossary.
 * - suggestion: the training spec's product weights moved toward the products whose frames the
 *   probe gets wrong most, with the reasons (`synthline evaluate --suggest`).
 * - split of a product: how its training frames spread over the target's classes (a product is
 *   one class for `model`, one per colour for `class` by model and colour, and shares colour
 *   classes with other products for `color`).
 * - error of a product: the test error rate a frame of it can expect, the errors of the classes
 *   its frames fall into, weighted by its split.
 */

/** How far one suggestion moves: a product of error e gets the factor 1 + ALPHA e before renormalising. */
export const SUGGEST_ALPHA = 1;
/** The schema's largest product weight (ProductEntry.weight). */
export const MAX_WEIGHT = 1e6;
/** Significant digits a suggested weight keeps (1.2345 -> 1.23): a spec a person reads. */
export const WEIGHT_DIGITS = 3;

export interface SuggestInput {
  /** The spec's products in order: asset and weight. */
  products: { asset: string; weight: number }[];
  /** The target's classes, as the confusion matrix indexes them. */
  classes: string[];
  /** confusion[i][j]: test samples of class i predicted as j. */
  confusion: number[][];
  /** split[p][c]: training frames of product p in class c. */
  split: number[][];
  alpha?: number;
}

/** One class of the target as the test set saw it. */
export interface ClassConfusion {
  class: string;
  /** Test samples of this class. */
  n: number;
  /** Null without test samples. */
  accuracy: number | null;
  /** The class its samples were most often taken for (null: never mistaken). */
  most_confused_with: string | null;
  /** How many of its samples were taken for that class. */
  confused: number;
}

export interface ProductSuggestion {
  asset: string;
  old_weight: number;
  new_weight: number;
  /** The product's expected test error; null when none of its classes was tested (the overall error stands in). */
  error: number | null;
  /** 1 + alpha x error, before renormalising. */
  factor: number;
  /** The classes its training frames fall into, with the share of its frames in each. */
  classes: { class: string; share: number }[];
}

export interface WeightSuggestion {
  alpha: number;
  /** The test set's error rate: stands in for a product none of whose classes was tested. */
  overall_error: number;
  /** The sum of the weights, kept. */
  total_weight: number;
  products: ProductSuggestion[];
  classes: ClassConfusion[];
  /** Whether any weight changed. */
  changed: boolean;
}

const round = (x: number, digits = WEIGHT_DIGITS) => Number(x.toPrecision(digits));

/** Each class's accuracy and the class it is most often taken for, from the confusion matrix. */
export function classConfusions(classes: string[], confusion: number[][]): ClassConfusion[] {
  return classes.map((name, i) => {
    const row = confusion[i] ?? [];
    const n = row.reduce((a, b) => a + b, 0);
    let worst = -1;
    let confused = 0;
    row.forEach((v, j) => {
      if (j !== i && v > confused) {
        worst = j;
        confused = v;
      }
    });
    return {
      class: name,
      n,
      accuracy: n > 0 ? (row[i] ?? 0) / n : null,
      most_confused_with: worst >= 0 ? (classes[worst] ?? null) : null,
      confused,
    };
  });
}

/**
 * New product weights: each product's weight times 1 + alpha x its expected test error, then all
 * scaled so that they add up to what they did, rounded to {@link WEIGHT_DIGITS} significant
 * digits. A product's share of the frames thus moves by at most a factor 1 + alpha either way:
 * none reaches 0, none runs away, and products of equal error keep their ratio (if every product
 * has the same error, nothing changes).
 */
export function suggestWeights(input: SuggestInput): WeightSuggestion {
  const alpha = input.alpha ?? SUGGEST_ALPHA;
  if (!(alpha >= 0 && Number.isFinite(alpha))) throw new RangeError(`alpha must be a number >= 0, got ${alpha}`);
  if (input.split.length !== input.products.length) throw new RangeError('split needs one row per product');
  const classes = classConfusions(input.classes, input.confusion);
  const tested = classes.reduce((s, c) => s + c.n, 0);
  const right = input.classes.reduce((s, _, i) => s + (input.confusion[i]?.[i] ?? 0), 0);
  const overall = tested > 0 ? 1 - right / tested : 0;
  const rows = input.products.map((p, k) => {
    const split = input.split[k] ?? [];
    const frames = split.reduce((a, b) => a + b, 0);
    // Only tested classes say anything; the product's split over them is renormalised.
    let known = 0;
    let err = 0;
    split.forEach((f, c) => {
      const cc = classes[c];
      if (f > 0 && cc && cc.accuracy !== null) {
        known += f;
        err += f * (1 - cc.accuracy);
      }
    });
    const error = known > 0 ? err / known : null;
    return {
      asset: p.asset,
      old_weight: p.weight,
      error,
      factor: 1 + alpha * (error ?? overall),
      classes: split.flatMap((f, c) => (f > 0 ? [{ class: input.classes[c] ?? String(c), share: round(f / frames) }] : [])),
    };
  });
  const total = input.products.reduce((s, p) => s + p.weight, 0);
  const moved = rows.reduce((s, r) => s + r.old_weight * r.factor, 0);
  const products = rows.map((r): ProductSuggestion => {
    const raw = (r.old_weight * r.factor * total) / moved;
    // A weight that does not move keeps its digits; rounding never takes a positive one to 0;
    // the cap is the schema's.
    const w = Math.abs(raw - r.old_weight) <= 1e-9 * r.old_weight ? r.old_weight : Math.min(MAX_WEIGHT, round(raw));
    return {
      asset: r.asset,
      old_weight: r.old_weight,
      new_weight: w,
      error: r.error === null ? null : round(r.error, 4),
      factor: round(r.factor, 4),
      classes: r.classes,
    };
  });
  return {
    alpha,
    overall_error: round(overall, 4),
    total_weight: total,
    products,
    classes,
    changed: products.some((p) => p.new_weight !== p.old_weight),
  };
}
