import type { EvalSample } from './inputs.ts';

/** The Wilson score interval of k successes in n trials at 95 % (z = 1.96); [0, 1] for n = 0. */
export function wilson(k: number, n: number, z = 1.959964): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0 or n successes the bound is exactly 0 or 1 (rounding would put it a hair inside).
  return [k === 0 ? 0 : Math.max(0, centre - half), k === n ? 1 : Math.min(1, centre + half)];
}

/** Accuracy of a group of test samples, with its 95 % interval. */
export interface Score {
  n: number;
  correct: number;
  /** null for an empty group. */
  accuracy: number | null;
  ci95: [number, number];
}

export function score(correct: number, n: number): Score {
  return { n, correct, accuracy: n ? correct / n : null, ci95: wilson(correct, n) };
}

/** A rendered parameter read from a label: a number, a category, or absent. */
type Value = number | string | undefined;

/** The rendered parameters a report bins accuracy by. */
interface Param {
  name: string;
  what: string;
  get: (label: Record<string, unknown>, s: EvalSample) => Value;
  /** Only reported when some test sample has it (the realism work's optional sections). */
  optional?: boolean;
}

const at = (o: unknown, ...path: (string | number)[]): unknown => {
  let v = o;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
};
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const lights = (l: Record<string, unknown>) => (Array.isArray(l.lights) ? (l.lights as unknown[]) : undefined);
/** A rendered label: has the plan's camera (photos never do). */
const rendered = (l: Record<string, unknown>) => at(l, 'camera', 'plan') !== undefined;
/** A condition part's presence on a rendered phone: yes / no; absent on a photo. */
const has = (part: string) => (l: Record<string, unknown>) =>
  rendered(l) ? (at(l, 'condition', part) !== undefined ? 'yes' : 'no') : undefined;

export const PARAMS: Param[] = [
  { name: 'camera_distance_m', what: 'camera distance (m)', get: (l) => num(at(l, 'camera', 'plan', 'distance_m')) },
  { name: 'camera_elevation_deg', what: 'camera elevation (deg)', get: (l) => num(at(l, 'camera', 'plan', 'elevation_deg')) },
  { name: 'focal_length_mm', what: 'focal length (mm)', get: (l) => num(at(l, 'camera', 'plan', 'focal_length_mm')) },
  { name: 'light_count', what: 'lights', get: (l) => (rendered(l) ? String(lights(l)?.length ?? 0) : undefined) },
  {
    name: 'light_energy_w',
    what: 'total light energy (W)',
    get: (l) => lights(l)?.reduce<number>((sum, x) => sum + (num(at(x, 'energy_w')) ?? 0), 0),
  },
  { name: 'hdri', what: 'HDRI', get: (l) => str(at(l, 'world', 'hdri')) },
  {
    name: 'background',
    what: 'background',
    get: (l) => {
      const kind = str(at(l, 'background', 'kind'));
      return kind === 'image' ? `image ${str(at(l, 'background', 'name')) ?? ''}`.trim() : kind;
    },
  },
  { name: 'exposure_ev', what: 'exposure (EV)', get: (l) => num(at(l, 'sensor', 'exposure_ev')) },
  { name: 'noise_sigma', what: 'sensor noise (sigma)', get: (l) => num(at(l, 'sensor', 'noise_sigma')) },
  { name: 'blur_sigma_px', what: 'blur (sigma, px)', get: (l) => num(at(l, 'sensor', 'blur_sigma_px')) },
  { name: 'side', what: 'side up', get: (l, s) => (rendered(l) ? (str(at(l, 'pose', 'side_up')) ?? s.attributes.side) : undefined) },
  { name: 'visible_fraction', what: 'visible fraction', get: (l) => (rendered(l) ? num(l.visible_fraction) : undefined) },
  {
    name: 'case',
    what: 'case',
    optional: true,
    get: (l) => (rendered(l) ? (str(at(l, 'condition', 'case', 'kind')) ?? 'none') : undefined),
  },
  { name: 'screen_lit', what: 'lit screen', optional: true, get: has('screen') },
  { name: 'crack', what: 'cracked screen', optional: true, get: has('crack') },
  { name: 'sticker', what: 'sticker', optional: true, get: has('sticker') },
  {
    name: 'motion_travel_m',
    what: 'motion blur travel (m)',
    optional: true,
    get: (l) => (rendered(l) ? (num(at(l, 'motion', 'travel_m')) ?? 0) : undefined),
  },
  {
    name: 'distractors',
    what: 'clutter items',
    optional: true,
    get: (l) => (rendered(l) ? String(Array.isArray(l.distractors) ? l.distractors.length : 0) : undefined),
  },
  {
    name: 'belt_wear',
    what: 'belt wear',
    optional: true,
    get: (l) => (rendered(l) ? (num(at(l, 'belt', 'wear')) ?? 0) : undefined),
  },
];

/** The label of the bin of samples that lack a parameter (photos, older labels). */
export const MISSING = 'missing';

/** One bin of a parameter: its samples' accuracy, and the test indices in it. */
export interface Bin extends Score {
  label: string;
  /** For a numeric bin: [low, high] of the values in it. */
  range?: [number, number];
  members: number[];
}

export interface ParamBins {
  name: string;
  what: string;
  kind: 'number' | 'category';
  bins: Bin[];
}

/** At most this many bins for a numeric parameter (equal counts: quantiles). */
export const NUMERIC_BINS = 5;

const round3 = (x: number): number => Number(x.toPrecision(3));

/**
 * Accuracy of the test set binned by every rendered parameter. Categories get a bin each; numbers
 * with few distinct values too, else {@link NUMERIC_BINS} bins of about equal counts. Samples
 * without the parameter go to the `missing` bin, so every parameter's bins add up to the test set.
 * A parameter marked optional is left out when no test sample has it.
 */
export function binParameters(samples: EvalSample[], correct: boolean[]): ParamBins[] {
  const out: ParamBins[] = [];
  for (const p of PARAMS) {
    const values = samples.map((s) => (s.label ? p.get(s.label, s) : undefined));
    const present = values.map((v, i) => [v, i] as const).filter((x): x is readonly [number | string, number] => x[0] !== undefined);
    if (p.optional && present.every(([v]) => v === 'none' || v === 'no' || v === 0 || v === '0')) continue;
    const missing = values.map((v, i) => (v === undefined ? i : -1)).filter((i) => i >= 0);
    const groups: { label: string; range?: [number, number]; members: number[] }[] = [];
    const numeric = present.length > 0 && present.every(([v]) => typeof v === 'number');
    const distinct = new Set(present.map(([v]) => v));
    if (numeric && distinct.size > NUMERIC_BINS) {
      const sorted = [...present].sort((a, b) => (a[0] as number) - (b[0] as number));
      const n = sorted.length;
      let start = 0;
      for (let b = 0; b < NUMERIC_BINS && start < n; b++) {
        let end = b === NUMERIC_BINS - 1 ? n : Math.round(((b + 1) * n) / NUMERIC_BINS);
        // Equal values stay in one bin.
        while (end < n && end > start && sorted[end]?.[0] === sorted[end - 1]?.[0]) end++;
        if (end <= start) continue;
        const lo = sorted[start]?.[0] as number;
        const hi = sorted[end - 1]?.[0] as number;
        groups.push({ label: `${round3(lo)} to ${round3(hi)}`, range: [lo, hi], members: sorted.slice(start, end).map(([, i]) => i) });
        start = end;
      }
    } else {
      const keys = [...distinct].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
      for (const k of keys) groups.push({ label: String(k), members: present.filter(([v]) => v === k).map(([, i]) => i) });
    }
    if (missing.length > 0) groups.push({ label: MISSING, members: missing });
    out.push({
      name: p.name,
      what: p.what,
      kind: numeric ? 'number' : 'category',
      bins: groups.map((g) => ({ ...g, ...score(g.members.filter((i) => correct[i]).length, g.members.length) })),
    });
  }
  return out;
}

/** A bin singled out as failing: its parameter and the bin. */
export interface WorstBin {
  param: string;
  what: string;
  bin: Bin;
}

/**
 * The bins where the probe fails most: not `missing`, with at least `minCount` samples (and 5 %
 * of the test set), below the overall accuracy; lowest accuracy first, the larger bin on a tie.
 */
export function worstBins(params: ParamBins[], total: number, overall: number, count = 3): WorstBin[] {
  const minCount = Math.max(3, Math.ceil(total * 0.05));
  const all: WorstBin[] = [];
  for (const p of params) {
    if (p.bins.length < 2) continue;
    for (const b of p.bins) {
      if (b.label !== MISSING && b.n >= minCount && b.accuracy !== null && b.accuracy < overall)
        all.push({ param: p.name, what: p.what, bin: b });
    }
  }
  all.sort((a, b) => (a.bin.accuracy as number) - (b.bin.accuracy as number) || b.bin.n - a.bin.n || (a.param < b.param ? -1 : 1));
  return all.slice(0, count);
}
