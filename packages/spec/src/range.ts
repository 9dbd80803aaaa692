import { z } from 'zod';

/**
 * A randomized numeric parameter: a constant (`0.5`), a uniform interval (`[min, max]`), or a
 * choice list (`{"choice": [a, b, c]}`, each equally likely).
 */
export type NumericRange = number | [number, number] | { choice: number[] };

/** Bounds a range's values must respect, and whether they must be integers. */
export interface RangeBounds {
  min: number;
  max: number;
  int?: boolean;
}

/**
 * Builds the zod schema of a {@link NumericRange} whose every value lies in `bounds`.
 * `[min, max]` with min > max is refused, so a typo never silently inverts a range.
 */
export function range(bounds: RangeBounds, fallback: NumericRange) {
  let value = z.number().min(bounds.min).max(bounds.max);
  if (bounds.int) value = value.int();
  const interval = z.tuple([value, value]).refine(([lo, hi]) => lo <= hi, { message: 'range [min, max] needs min <= max' });
  const choice = z.strictObject({ choice: z.array(value).min(1).max(1000) });
  return z.union([value, interval, choice]).default(fallback);
}

/**
 * A {@link range} with no default, for settings added after datasets were made: absent from a
 * parsed spec that does not name it, so that spec's manifest keeps its bytes; the reader applies
 * the documented default.
 */
export function optionalRange(bounds: RangeBounds) {
  let value = z.number().min(bounds.min).max(bounds.max);
  if (bounds.int) value = value.int();
  const interval = z.tuple([value, value]).refine(([lo, hi]) => lo <= hi, { message: 'range [min, max] needs min <= max' });
  const choice = z.strictObject({ choice: z.array(value).min(1).max(1000) });
  return z.union([value, interval, choice]).optional();
}

/** Smallest and largest value a range can produce. */
export function rangeExtent(r: NumericRange): [number, number] {
  if (typeof r === 'number') return [r, r];
  if (Array.isArray(r)) return [r[0], r[1]];
  return [Math.min(...r.choice), Math.max(...r.choice)];
}
