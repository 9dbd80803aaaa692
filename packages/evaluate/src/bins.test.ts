import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binParameters, MISSING, wilson, worstBins } from './bins.ts';
import type { EvalSample } from './inputs.ts';

test('Wilson intervals: known values, exact ends at 0 and n', () => {
  const [lo, hi] = wilson(8, 10);
  assert.ok(Math.abs(lo - 0.4902) < 1e-3 && Math.abs(hi - 0.9433) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(
    wilson(24, 24).map((x) => x <= 1),
    [true, true],
  );
  assert.equal(wilson(24, 24)[1], 1);
  assert.equal(wilson(0, 5)[0], 0);
  assert.deepEqual(wilson(0, 0), [0, 1]);
});

const sample = (label: Record<string, unknown> | undefined, i: number): EvalSample => ({
  id: `s${i}`,
  source: label ? 'synthetic' : 'real',
  class: 'c',
  attributes: {},
  ...(label ? { label } : {}),
  image: { kind: 'file', path: '/dev/null' },
});

test('bins: numbers in equal-count bins, categories by value, photos in "missing"; every parameter adds up', () => {
  const labels = Array.from({ length: 20 }, (_, i) => ({
    camera: { plan: { distance_m: 0.2 + i * 0.01, elevation_deg: 60, focal_length_mm: 35 } },
    world: { hdri: i % 2 ? 'night' : 'studio' },
    lights: [{ energy_w: 10 }, { energy_w: i }],
    sensor: { exposure_ev: 0, noise_sigma: i / 1000, blur_sigma_px: 0.5 },
    background: { kind: 'belt' },
    pose: { side_up: 'front' },
    visible_fraction: 1,
    ...(i === 3 ? { condition: { case: { kind: 'clear' } } } : {}),
  }));
  const samples = [...labels.map((l, i) => sample(l, i)), sample(undefined, 20), sample(undefined, 21)];
  const correct = samples.map((_, i) => i % 3 !== 0);
  const bins = binParameters(samples, correct);
  for (const p of bins)
    assert.equal(
      p.bins.reduce((s, b) => s + b.n, 0),
      22,
      p.name,
    );
  const dist = bins.find((p) => p.name === 'camera_distance_m');
  assert.deepEqual(
    dist?.bins.map((b) => b.n),
    [4, 4, 4, 4, 4, 2],
  );
  assert.equal(dist?.bins.at(-1)?.label, MISSING);
  assert.deepEqual(
    bins.find((p) => p.name === 'hdri')?.bins.map((b) => [b.label, b.n]),
    [
      ['night', 10],
      ['studio', 10],
      [MISSING, 2],
    ],
  );
  assert.deepEqual(
    bins.find((p) => p.name === 'case')?.bins.map((b) => [b.label, b.n]),
    [
      ['clear', 1],
      ['none', 19],
      [MISSING, 2],
    ],
  );
  assert.equal(
    bins.find((p) => p.name === 'crack'),
    undefined,
    'a condition no sample has is left out',
  );
  const worst = worstBins(bins, 22, correct.filter(Boolean).length / 22);
  for (const w of worst) assert.notEqual(w.bin.label, MISSING);
});
