/**
 * Counter-based randomness: the stream of a frame is derived from the job seed, the frame index
 * and a label alone, so any frame can be planned on any worker without planning the ones before
 * it, and adding a parameter under a new label never shifts the values of the others.
 */

/** 32-bit FNV-1a over a string, the start of a stream's state. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 finaliser: spreads every input bit over the output. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** A seeded generator (sfc32) with the draws the planner needs. */
export class Stream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, index: number, label: string) {
    const key = fnv1a(label);
    const seedLo = seed >>> 0;
    const seedHi = Math.floor(seed / 2 ** 32) >>> 0;
    const idxLo = index >>> 0;
    const idxHi = Math.floor(index / 2 ** 32) >>> 0;
    this.a = mix(seedLo ^ 0x9e3779b9);
    this.b = mix(seedHi ^ mix(key));
    this.c = mix(idxLo ^ 0x85ebca6b ^ this.a);
    this.d = mix(idxHi ^ key ^ 0xc2b2ae35);
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 bits. */
  float(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Fills `out` with standard normal draws (Box-Muller, two per pair of {@link float} draws,
   * cosine then sine), each rounded to float32 as `out` stores it: the same values, in the same
   * order, as calling `float()` for each pair would give. The generator's state lives in locals
   * here, which is what makes it fast enough for a draw per pixel (the sensor's noise); the
   * normals themselves come from {@link normalsFromUniforms}.
   */
  fillNormals(out: Float32Array): void {
    const pairs = (out.length + 1) >> 1;
    if (scratchU.length < pairs) {
      scratchU = new Float64Array(pairs);
      scratchV = new Float64Array(pairs);
    }
    const us = scratchU;
    const vs = scratchV;
    let { a, b, c, d } = this;
    for (let k = 0; k < pairs; k++) {
      // u = 1 - float(); v = float(): four nextU32 steps, inlined.
      let t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (((c << 21) | (c >>> 11)) + t) >>> 0;
      const uhi = t >>> 5;
      t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (((c << 21) | (c >>> 11)) + t) >>> 0;
      us[k] = 1 - (uhi * 67108864 + (t >>> 6)) / 9007199254740992;
      t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (((c << 21) | (c >>> 11)) + t) >>> 0;
      const vhi = t >>> 5;
      t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (((c << 21) | (c >>> 11)) + t) >>> 0;
      vs[k] = (vhi * 67108864 + (t >>> 6)) / 9007199254740992;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    normalsFromUniforms(us, vs, out);
  }

  /** Uniform in [lo, hi]. */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element, each equally likely. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** One index, with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((s, w) => s + w, 0);
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/** The uniform draws of {@link Stream.fillNormals}, kept between calls (one frame's noise is 1.5 MB of them at 256 px). */
let scratchU = new Float64Array(0);
let scratchV = new Float64Array(0);

/** ln(c) and 1/c at the 129 points c = 0.5 + j/256 of [0.5, 1]: the logarithm's table. */
const LOG_AT = Float64Array.from({ length: 129 }, (_, j) => Math.log(0.5 + j / 256));
const INV_AT = Float64Array.from({ length: 129 }, (_, j) => 1 / (0.5 + j / 256));
const AT = Float64Array.from({ length: 129 }, (_, j) => 0.5 + j / 256);
/** 2^(k-1): scales u into [0.5, 1) by its binary exponent, exactly. */
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** (k - 1));
/** A double's bits: its exponent is read from the high word. */
const BITS = new Float64Array(1);
const HIGH = new Uint32Array(BITS.buffer, 4, 1);
/** The high word is the second on a little-endian machine (all Node runs on); elsewhere every pair takes `Math`'s path. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The kernels' cosine and sine of y, and the signs each quadrant gives them. */
const PAIR = new Float64Array(2);
const COS_SIGN = Float64Array.of(1, -1, -1, 1);
const SIN_SIGN = Float64Array.of(1, 1, -1, -1);
/** The pairs whose fast value was too close to call (rare), recomputed exactly. */
let recheck = new Int32Array(1024);

/**
 * Box-Muller on uniform pairs: `out[2k] = sqrt(-2 ln u[k]) cos(2 pi v[k])` and `out[2k+1]` the
 * sine, each rounded to float32, bit for bit what `Math.sqrt`, `Math.log`, `Math.cos` and
 * `Math.sin` give (the values every dataset so far was made with), at about half their cost.
 *
 * How: the logarithm from a 129-point table and a degree-8 series of log(1 + r), |r| <= 2^-8; the
 * cosine and sine from a reduction by pi/2 and fdlibm's kernels: each within a few units in the
 * last place of a double of the true value, as `Math`'s are. A float32 has 29 bits fewer than a
 * double, so the fast value rounds to the same float32 as the exact one unless it lies within
 * their combined error of a float32 rounding boundary; `within` bounds that error a thousand
 * times over (2^-40 of the value, plus 2^-44 of the radius for values near zero), and a value
 * whose interval straddles a boundary (a few in ten thousand) is recomputed with `Math`'s
 * functions. `u` is in (0, 1] and `v` in [0, 1), as {@link Stream.float} draws them.
 */
export function normalsFromUniforms(us: Float64Array, vs: Float64Array, out: Float32Array): void {
  const n = out.length;
  const pairs = (n + 1) >> 1;
  const logAt = LOG_AT;
  const invAt = INV_AT;
  const at = AT;
  const pow2 = POW2;
  const bits = BITS;
  const high = HIGH;
  if (recheck.length < pairs) recheck = new Int32Array(pairs);
  const again = recheck;
  const little = LITTLE_ENDIAN;
  const pair = PAIR;
  const cosSign = COS_SIGN;
  const sinSign = SIN_SIGN;
  // The error allowed the fast values: 2^-40 of the value and 2^-44 of the radius.
  const rel = 2 ** -40;
  const abs = 2 ** -44;
  let nAgain = 0;
  // Constants as literals: module-level ones cost a check per use in V8's optimised code.
  for (let k = 0; k < pairs; k++) {
    const u = us[k] as number;
    // ln u = ln w - e ln 2, w = u 2^e in [0.5, 1) (or 0.5 with e = -1 for u = 1).
    bits[0] = u;
    const e = 1022 - ((high[0] as number) >>> 20);
    const w = u * (pow2[e + 1] as number);
    const j = ((w - 0.5) * 256 + 0.5) | 0;
    const r = (w - (at[j] as number)) * (invAt[j] as number);
    const p = r - r * r * (0.5 - r * (1 / 3 - r * (0.25 - r * (0.2 - r * (1 / 6 - r * (1 / 7 - r * 0.125))))));
    const m = Math.sqrt(-2 * ((logAt[j] as number) + p - e * Math.LN2));
    // cos and sin of x = 2 pi v: y = x - q pi/2 in [-pi/4, pi/4] (pi/2 in two parts, as fdlibm).
    const x = 6.283185307179586 * (vs[k] as number);
    const q = (x * 0.6366197723675814 + 0.5) | 0;
    const y = x - q * 1.5707963267341256 - q * 6.077100506506192e-11;
    const z = y * y;
    const sy =
      y +
      y *
        z *
        (-1.6666666666666632e-1 +
          z *
            (8.333333333322489e-3 +
              z * (-1.984126982985795e-4 + z * (2.7557313707070068e-6 + z * (-2.5050760253406863e-8 + z * 1.58969099521155e-10)))));
    const cy =
      1 -
      0.5 * z +
      z *
        z *
        (4.16666666666666e-2 +
          z *
            (-1.388888888887411e-3 +
              z * (2.480158728947673e-5 + z * (-2.7557314351390663e-7 + z * (2.087572321298175e-9 + z * -1.1359647557788195e-11)))));
    // By quadrant: cos x is cy, -sy, -cy, sy and sin x is sy, cy, -sy, -cy (from tables: no branches).
    pair[0] = cy;
    pair[1] = sy;
    const odd = q & 1;
    const cos = (pair[odd] as number) * (cosSign[q & 3] as number);
    const sin = (pair[odd ^ 1] as number) * (sinSign[q & 3] as number);
    const zc = m * cos;
    const zs = m * sin;
    const ec = Math.abs(zc) * rel + m * abs;
    const es = Math.abs(zs) * rel + m * abs;
    out[2 * k] = zc;
    if (2 * k + 1 < n) out[2 * k + 1] = zs;
    if (Math.fround(zc - ec) !== Math.fround(zc + ec) || Math.fround(zs - es) !== Math.fround(zs + es) || m === 0 || !little) {
      again[nAgain++] = k;
    }
  }
  for (let i = 0; i < nAgain; i++) {
    const k = again[i] as number;
    const m = Math.sqrt(-2 * Math.log(us[k] as number));
    const x = 2 * Math.PI * (vs[k] as number);
    out[2 * k] = m * Math.cos(x);
    if (2 * k + 1 < n) out[2 * k + 1] = m * Math.sin(x);
  }
}
