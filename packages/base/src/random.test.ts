import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stream, normalsFromUniforms } from './random.ts';

test('the generator is roughly uniform and streams are independent', () => {
  const r = new Stream(1, 2, 'x');
  const bins = new Array(10).fill(0);
  for (let i = 0; i < 20000; i++) bins[Math.floor(r.float() * 10)]++;
  for (const b of bins) assert.ok(Math.abs(b - 2000) < 200, `bin ${b}`);
  assert.notEqual(new Stream(1, 2, 'x').nextU32(), new Stream(1, 2, 'y').nextU32());
  assert.notEqual(new Stream(1, 2, 'x').nextU32(), new Stream(1, 3, 'x').nextU32());
  assert.notEqual(new Stream(2 ** 40, 2, 'x').nextU32(), new Stream(2 ** 40 + 1, 2, 'x').nextU32());
});

/** Box-Muller as `Math` computes it: what every dataset's noise was made with. */
function reference(us: Float64Array, vs: Float64Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; 2 * k < n; k++) {
    const m = Math.sqrt(-2 * Math.log(us[k] as number));
    out[2 * k] = m * Math.cos(2 * Math.PI * (vs[k] as number));
    if (2 * k + 1 < n) out[2 * k + 1] = m * Math.sin(2 * Math.PI * (vs[k] as number));
  }
  return out;
}

/** Equal as bits (so +0 and -0 differ), with the first difference named. */
function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  assert.equal(a.length, b.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) assert.fail(`${what}: value ${i} is ${b[i]} where Math gives ${a[i]}`);
  }
}

test('normalsFromUniforms gives Math.log/cos/sin Box-Muller bit for bit, at the edges and at random', () => {
  const ulp = 2 ** -53;
  const u = [1, 1 - ulp, 0.5, 0.5 + 2 * ulp, 0.5 - ulp, ulp, 2 * ulp, 2 ** -30, 0.25, 0.75, 1 - 1 / 512, 1 - 3 / 512];
  // The log table's points and the midpoints between them, where the nearest point changes.
  for (let j = 0; j <= 128; j++) for (const d of [0, 1 / 512, -1 / 512]) u.push(Math.min(1, 0.5 + j / 256 + d));
  const v = [0, ulp, 1 - ulp, 0.5, 0.25, 0.75];
  // Each eighth of the turn (where the quadrant changes) and a hair either side.
  for (let k = 0; k <= 8; k++) for (const d of [0, ulp, -ulp, 1e-9, -1e-9]) v.push(k / 8 + d);
  const edges = v.filter((x) => x >= 0 && x < 1);
  const us = new Float64Array(u.length * edges.length);
  const vs = new Float64Array(us.length);
  for (const [i, a] of u.entries()) {
    for (const [k, b] of edges.entries()) {
      us[i * edges.length + k] = a;
      vs[i * edges.length + k] = b;
    }
  }
  for (const n of [2 * us.length, 2 * us.length - 1]) {
    const got = new Float32Array(n);
    normalsFromUniforms(us, vs, got);
    sameBits(reference(us, vs, n), got, `edge pairs (${n} values)`);
  }
  // Two million pairs from the generator's own draws.
  const r = new Stream(2026, 0, 'normals-test');
  const ru = new Float64Array(1 << 21);
  const rv = new Float64Array(1 << 21);
  for (let k = 0; k < ru.length; k++) {
    ru[k] = 1 - r.float();
    rv[k] = r.float();
  }
  const got = new Float32Array(2 * ru.length);
  normalsFromUniforms(ru, rv, got);
  sameBits(reference(ru, rv, got.length), got, 'random pairs');
});

test('fillNormals draws the same values, and leaves the stream where float() pairs would', () => {
  for (const n of [1, 2, 7, 8192, 196608 + 1]) {
    const a = new Stream(7, n, 'sensor-noise');
    const b = new Stream(7, n, 'sensor-noise');
    const got = new Float32Array(n);
    a.fillNormals(got);
    const us = new Float64Array((n + 1) >> 1);
    const vs = new Float64Array(us.length);
    for (let k = 0; k < us.length; k++) {
      us[k] = 1 - b.float();
      vs[k] = b.float();
    }
    sameBits(reference(us, vs, n), got, `${n} normals`);
    assert.equal(a.nextU32(), b.nextU32(), `${n} normals: the stream moved on as far`);
  }
});
