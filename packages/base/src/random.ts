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
   * here, which is what makes it fast enough for a draw per pixel (the sensor's noise).
   */
  fillNormals(out: Float32Array): void {
    let { a, b, c, d } = this;
    const n = out.length;
    const TWO_PI = 2 * Math.PI;
    for (let i = 0; i < n; i += 2) {
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
      const u = 1 - (uhi * 67108864 + (t >>> 6)) / 9007199254740992;
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
      const v = (vhi * 67108864 + (t >>> 6)) / 9007199254740992;
      const m = Math.sqrt(-2 * Math.log(u));
      out[i] = m * Math.cos(TWO_PI * v);
      if (i + 1 < n) out[i + 1] = m * Math.sin(TWO_PI * v);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
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
