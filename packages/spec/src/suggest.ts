/**
 * "Did you mean": the one candidate a mistyped name most likely meant, by one rule used for every
 * kind of name (spec fields, enum values, colours, model ids, CLI commands and options).
 */

/** Shortest string the prefix/substring rule matches on, so `"d"` never suggests `"distance_m"`. */
const MIN_CONTAINED = 3;

/**
 * The candidate `typed` most likely meant, or undefined when none is close or two are equally close.
 * Tried in order, the first rule that matches wins:
 * 1. the same name ignoring case (`"blue"` -> `"Blue"`), then ignoring separators too
 *    (`"model-color"` -> `"model_color"`, `"builtin-iphone-8"` -> `"builtin:iphone-8"`);
 * 2. one name starts with or contains the other, ignoring case, the contained one at least 3
 *    characters (`"distance"` -> `"distance_m"`); a prefix beats a substring, then the nearer length;
 * 3. Damerau-Levenshtein distance (case ignored, a swap of neighbours counts 1) of at most
 *    max(1, floor(length / 3)) of the typed name, for names of 4 characters or more (`"sampels"` -> `"samples"`); the smallest wins.
 * A tie for the best in rules 2 and 3 suggests nothing: a guess between two would mislead.
 */
export function suggest(typed: string, candidates: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  if (!t) return undefined;
  const exact = candidates.find((c) => c.toLowerCase() === t) ?? candidates.find((c) => bare(c) === bare(t));
  if (exact !== undefined) return exact;

  const contained = best(candidates, (c) => {
    const l = c.toLowerCase();
    const [short, long] = l.length <= t.length ? [l, t] : [t, l];
    if (short.length < MIN_CONTAINED) return undefined;
    const diff = long.length - short.length;
    if (long.startsWith(short)) return diff;
    if (long.includes(short)) return 1000 + diff;
    return undefined;
  });
  if (contained.found) return contained.value;

  // A short word is one edit from too many others ("gpu" -> "cpu"): it gets no guess by distance.
  const limit = t.length <= 3 ? 0 : Math.max(1, Math.floor(t.length / 3));
  const near = best(candidates, (c) => {
    const d = editDistance(t, c.toLowerCase(), limit);
    return d <= limit ? d : undefined;
  });
  return near.found ? near.value : undefined;
}

/** A name without case and separators: `"Model-Color"` -> `"modelcolor"`. */
const bare = (s: string) => s.toLowerCase().replace(/[\s_:.-]+/g, '');

/** `; did you mean "x"?` for the candidate {@link suggest} finds, else `''`. */
export function didYouMean(typed: string, candidates: readonly string[], show: (c: string) => string = (c) => c): string {
  const near = suggest(typed, candidates);
  return near === undefined ? '' : `; did you mean "${show(near)}"?`;
}

/** The candidate of lowest score (undefined: not a match); not found when none matches or two tie. */
function best(candidates: readonly string[], score: (c: string) => number | undefined): { found: boolean; value?: string } {
  let top: number | undefined;
  let value: string | undefined;
  let tie = false;
  for (const c of new Set(candidates)) {
    const s = score(c);
    if (s === undefined) continue;
    if (top === undefined || s < top) {
      top = s;
      value = c;
      tie = false;
    } else if (s === top) {
      tie = true;
    }
  }
  return top === undefined || tie ? { found: false } : { found: true, value };
}

/**
 * Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute, or swap two
 * neighbours, each 1). Past `cap` it stops early and answers something larger than `cap`.
 */
export function editDistance(a: string, b: string, cap = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  // Three rows of the dynamic programme: two back (for swaps), one back, and this one.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > cap) return cap + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}
