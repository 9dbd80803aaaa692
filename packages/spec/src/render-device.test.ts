import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEVICE_KINDS, SampleLabel, SpecError, parseSpec } from './index.ts';

test('render.device defaults to auto and render.allow_cpu_fallback to false', () => {
  const spec = parseSpec({});
  assert.equal(spec.render.device, 'auto');
  assert.equal(spec.render.allow_cpu_fallback, false);
  assert.deepEqual([...DEVICE_KINDS], ['auto', 'cpu', 'cuda', 'optix', 'hip', 'metal']);
  for (const device of DEVICE_KINDS) assert.equal(parseSpec({ render: { device } }).render.device, device);
  assert.equal(parseSpec({ render: { device: 'cuda', allow_cpu_fallback: true } }).render.allow_cpu_fallback, true);
});

test('an unknown device or a non-boolean fallback names the field', () => {
  try {
    parseSpec({ render: { device: 'gpu', allow_cpu_fallback: 'yes' } });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof SpecError);
    const paths = err.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, ['render.allow_cpu_fallback', 'render.device']);
  }
});

test('labels carry render.device; labels written before it still parse', () => {
  const render = { engine: 'cycles', samples: 4, resolution: [64, 64], seed: 1, denoise: false };
  const shape = SampleLabel.shape.render;
  assert.equal(shape.parse({ ...render, device: 'cuda:0 NVIDIA A10' }).device, 'cuda:0 NVIDIA A10');
  assert.equal(shape.parse(render).device, undefined);
});
