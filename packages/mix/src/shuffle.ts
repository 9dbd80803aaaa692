import { Stream } from '@synthline/base';

/** The largest seed accepted: every integer up to it is exact in a double. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * A copy of `items` in an order fixed by `seed` and `label` alone (Fisher-Yates over the
 * planner's counter-based stream). Each use gets its own label, so choosing the samples of one
 * class does not shift the choice of another, nor the output order.
 */
export function shuffled<T>(items: readonly T[], seed: number, label: string): T[] {
  const out = [...items];
  const rng = new Stream(seed, 0, `mix/${label}`);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** Compares strings by code unit, the same on every machine and locale. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
