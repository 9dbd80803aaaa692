import { MixError, type Shortfall } from './errors.ts';

/** A requested mix ratio: `real` real images for every `synthetic` rendered ones (`R:S`). */
export interface Ratio {
  real: number;
  synthetic: number;
}

/** A ratio as counts, with synthetic samples per real image (`null` when there is no real one). */
export interface RatioValue {
  real: number;
  synthetic: number;
  synthetic_per_real: number | null;
}

/** The largest R or S accepted; keeps `count * S` exact in a double. */
const MAX_TERM = 1_000_000;

/** `"1:5"` -> `{ real: 1, synthetic: 5 }`; both terms positive integers. */
export function parseRatio(text: string): Ratio {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text);
  const real = Number(m?.[1]);
  const synthetic = Number(m?.[2]);
  if (!m || !(real >= 1 && synthetic >= 1 && real <= MAX_TERM && synthetic <= MAX_TERM)) {
    throw new MixError('BAD_OPTION', `--ratio: expected R:S with positive integers up to ${MAX_TERM} (e.g. 1:5), got "${text}"`);
  }
  return { real, synthetic };
}

/** `R:S` as text. */
export const formatRatio = (r: Ratio): string => `${r.real}:${r.synthetic}`;

/** Counts as a ratio value. */
export function ratioValue(real: number, synthetic: number): RatioValue {
  return { real, synthetic, synthetic_per_real: real > 0 ? synthetic / real : null };
}

/** What one class has to offer. */
export interface ClassSupply {
  name: string;
  real: number;
  synthetic: number;
}

/** How many samples of each source one class contributes, and why. */
export interface Allocation {
  class: string;
  real_available: number;
  real_used: number;
  /** Synthetic samples the class's real images call for: floor(real_available * S / R). */
  synthetic_needed: number;
  synthetic_available: number;
  synthetic_used: number;
  /** `real_used * S / R` was not a whole number and was rounded down. */
  rounded: boolean;
  /** Fewer real images were used than available, for want of synthetic samples. */
  reduced: boolean;
}

/** A change from what the inputs asked for, reported in the output and the manifest. */
export interface Adjustment {
  class: string;
  kind: 'real_reduced' | 'synthetic_rounded_down';
  message: string;
}

/** A synthetic class that gets no samples in the mix, and why. */
export interface ExcludedClass {
  name: string;
  reason: 'no_real_images' | 'too_few_synthetic';
  real_available: number;
  synthetic_available: number;
  message: string;
}

/** The counts of a whole mix, before any sample is chosen. */
export interface Allocations {
  /** Classes that contribute samples, in the order given. */
  classes: Allocation[];
  excluded: ExcludedClass[];
  shortfalls: Shortfall[];
  adjustments: Adjustment[];
  achieved: RatioValue;
  /** The achieved totals are exactly R:S. */
  exact: boolean;
}

/**
 * Decides how many real and synthetic samples each class contributes so that R:S holds per class
 * (and so overall): a class with r real images takes floor(r*S/R) synthetic ones. A class with
 * fewer synthetic samples than that is a shortfall; with `bestEffort` its real count drops to
 * floor(have*R/S), so the ratio still holds, and the change is reported. Classes left without
 * samples (no real images, or too few synthetic ones for a single real image) are excluded and
 * reported. Pure arithmetic: the caller decides whether shortfalls are fatal.
 */
export function allocate(supply: readonly ClassSupply[], ratio: Ratio, bestEffort: boolean): Allocations {
  const { real: R, synthetic: S } = ratio;
  const text = formatRatio(ratio);
  const classes: Allocation[] = [];
  const excluded: ExcludedClass[] = [];
  const shortfalls: Shortfall[] = [];
  const adjustments: Adjustment[] = [];
  for (const c of supply) {
    if (c.real === 0) {
      excluded.push({
        name: c.name,
        reason: 'no_real_images',
        real_available: 0,
        synthetic_available: c.synthetic,
        message: `${c.name}: no real images; its ${c.synthetic} synthetic samples are left out`,
      });
      continue;
    }
    const needed = Math.floor((c.real * S) / R);
    let realUsed = c.real;
    let reduced = false;
    if (needed > c.synthetic) {
      const possible = Math.floor((c.synthetic * R) / S);
      shortfalls.push({ class: c.name, real: c.real, synthetic_needed: needed, synthetic_available: c.synthetic, real_possible: possible });
      if (!bestEffort) continue;
      realUsed = possible;
      reduced = true;
      adjustments.push({
        class: c.name,
        kind: 'real_reduced',
        message: `${c.name}: real ${c.real} -> ${possible} (${c.real} real need ${needed} synthetic at ${text}, only ${c.synthetic} available)`,
      });
      if (possible === 0) {
        excluded.push({
          name: c.name,
          reason: 'too_few_synthetic',
          real_available: c.real,
          synthetic_available: c.synthetic,
          message: `${c.name}: ${c.synthetic} synthetic samples are too few for one real image at ${text}; the class is left out`,
        });
        continue;
      }
    }
    const synthUsed = Math.floor((realUsed * S) / R);
    const rounded = (realUsed * S) % R !== 0;
    if (rounded) {
      adjustments.push({
        class: c.name,
        kind: 'synthetic_rounded_down',
        message: `${c.name}: ${realUsed} real at ${text} call for ${((realUsed * S) / R).toFixed(2)} synthetic; using ${synthUsed}`,
      });
    }
    classes.push({
      class: c.name,
      real_available: c.real,
      real_used: realUsed,
      synthetic_needed: needed,
      synthetic_available: c.synthetic,
      synthetic_used: synthUsed,
      rounded,
      reduced,
    });
  }
  const real = classes.reduce((n, a) => n + a.real_used, 0);
  const synthetic = classes.reduce((n, a) => n + a.synthetic_used, 0);
  return { classes, excluded, shortfalls, adjustments, achieved: ratioValue(real, synthetic), exact: real * S === synthetic * R };
}
