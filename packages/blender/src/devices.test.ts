import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UseDeviceRequest, type BlenderDevice } from '@synthline/spec';
import { bestGpuKind, chooseDevice, describeDevices, slotDevices, useDeviceRequest } from './devices.ts';
import { BlenderError } from './errors.ts';

const CPU: BlenderDevice = { type: 'CPU', name: 'AMD EPYC', id: 'CPU' };
const cuda = (i: number, name = 'NVIDIA A10'): BlenderDevice => ({ type: 'CUDA', name, id: `CUDA_${name}_0000:00:1${i}` });
const optix = (i: number, name = 'NVIDIA A10'): BlenderDevice => ({ type: 'OPTIX', name, id: `OPTIX_${name}_0000:00:1${i}` });
const HIP: BlenderDevice = { type: 'HIP', name: 'AMD Radeon PRO W7900', id: 'HIP_0' };
const METAL: BlenderDevice = { type: 'METAL', name: 'Apple M2 Max', id: 'METAL_0' };
const ONEAPI: BlenderDevice = { type: 'ONEAPI', name: 'Intel Arc A770', id: 'ONEAPI_0' };

const unavailable = (pattern: RegExp) => (e: unknown) =>
  e instanceof BlenderError && e.code === 'DEVICE_UNAVAILABLE' && pattern.test(e.message) && !e.retryable;

test('CPU machine: auto and cpu give CPU slots, one for auto slots', () => {
  assert.deepEqual(slotDevices('auto', [CPU], 'auto'), [{ device: 'cpu', label: 'cpu', fallback: false }]);
  assert.deepEqual(
    slotDevices('cpu', [CPU], 3).map((s) => s.device),
    ['cpu', 'cpu', 'cpu'],
  );
  assert.deepEqual(slotDevices('cpu', [CPU, cuda(0)], 'auto'), [{ device: 'cpu', label: 'cpu', fallback: false }]);
});

test('a GPU kind that is absent fails naming every device, or falls back to the CPU when allowed', () => {
  assert.throws(() => slotDevices('cuda', [CPU], 'auto'), unavailable(/^requested cuda, but Blender found: CPU "AMD EPYC" \(CPU\)$/));
  for (const kind of ['optix', 'hip', 'metal'] as const) {
    assert.throws(
      () => slotDevices(kind, [CPU, cuda(0)], 2),
      unavailable(new RegExp(`^requested ${kind}, but Blender found: CPU "AMD EPYC" \\(CPU\\), CUDA "NVIDIA A10"`)),
    );
  }
  assert.throws(() => slotDevices('cuda', [], 1), unavailable(/found: no devices$/));
  assert.deepEqual(slotDevices('cuda', [CPU], 'auto', true), [{ device: 'cpu', label: 'cpu', fallback: true }]);
  assert.deepEqual(
    slotDevices('hip', [CPU], 2, true).map((s) => [s.device, s.fallback]),
    [
      ['cpu', true],
      ['cpu', true],
    ],
  );
});

test('auto slots: one slot per GPU of the chosen kind, each bound to its GPU', () => {
  const devices = [cuda(0), cuda(1, 'NVIDIA A100'), CPU];
  assert.deepEqual(slotDevices('cuda', devices, 'auto'), [
    { device: 'cuda', deviceIndex: 0, label: 'cuda:0 NVIDIA A10', fallback: false },
    { device: 'cuda', deviceIndex: 1, label: 'cuda:1 NVIDIA A100', fallback: false },
  ]);
  assert.deepEqual(
    slotDevices('auto', devices, 'auto').map((s) => s.label),
    ['cuda:0 NVIDIA A10', 'cuda:1 NVIDIA A100'],
  );
});

test('auto prefers optix > cuda > hip > metal > oneapi', () => {
  assert.equal(bestGpuKind([CPU, cuda(0), optix(0)]), 'optix');
  assert.equal(bestGpuKind([cuda(0), HIP, CPU]), 'cuda');
  assert.equal(bestGpuKind([CPU, METAL, HIP]), 'hip');
  assert.equal(bestGpuKind([CPU, ONEAPI, METAL]), 'metal');
  assert.equal(bestGpuKind([CPU, ONEAPI]), 'oneapi');
  assert.equal(bestGpuKind([CPU]), undefined);
  const four = [CPU, cuda(0), cuda(1), cuda(2), cuda(3), optix(0), optix(1), optix(2), optix(3)];
  const slots = slotDevices('auto', four, 'auto');
  assert.deepEqual(
    slots.map((s) => [s.device, s.deviceIndex]),
    [
      ['optix', 0],
      ['optix', 1],
      ['optix', 2],
      ['optix', 3],
    ],
  );
  assert.deepEqual(
    slotDevices('auto', [CPU, ONEAPI], 'auto').map((s) => s.label),
    ['oneapi:0 Intel Arc A770'],
  );
});

test('every GPU kind asked for by name', () => {
  const all = [CPU, cuda(0), optix(0), HIP, METAL, ONEAPI];
  for (const [kind, name] of [
    ['cuda', 'NVIDIA A10'],
    ['optix', 'NVIDIA A10'],
    ['hip', 'AMD Radeon PRO W7900'],
    ['metal', 'Apple M2 Max'],
  ] as const) {
    assert.deepEqual(slotDevices(kind, all, 'auto'), [{ device: kind, deviceIndex: 0, label: `${kind}:0 ${name}`, fallback: false }]);
  }
});

test('a number of slots spreads them over the GPUs round robin', () => {
  const devices = [CPU, HIP, { ...HIP, id: 'HIP_1' }];
  assert.deepEqual(
    slotDevices('hip', devices, 5).map((s) => s.deviceIndex),
    [0, 1, 0, 1, 0],
  );
  assert.deepEqual(
    slotDevices('hip', devices, 1).map((s) => s.deviceIndex),
    [0],
  );
});

test('bad slot counts are refused', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => slotDevices('cpu', [CPU], bad), RangeError);
});

test('device descriptions', () => {
  assert.equal(describeDevices([CPU, HIP]), 'CPU "AMD EPYC" (CPU), HIP "AMD Radeon PRO W7900" (HIP_0)');
  assert.equal(describeDevices([]), 'no devices');
});

test('one render server: every GPU of the kind without an index, one with it', () => {
  const a10 = [cuda(0), cuda(1)];
  const all = chooseDevice([CPU, ...a10], 'cuda');
  assert.deepEqual([all.kind, all.index, all.label, all.enable], ['cuda', undefined, 'cuda:0 NVIDIA A10, cuda:1 NVIDIA A10', a10]);
  const one = chooseDevice([CPU, ...a10], 'cuda', 1);
  assert.deepEqual([one.index, one.label, one.enable], [1, 'cuda:1 NVIDIA A10', [a10[1]]]);
  assert.equal(chooseDevice([CPU, cuda(0), optix(0)], 'auto', 0).label, 'optix:0 NVIDIA A10');
  for (const kind of ['cpu', 'auto'] as const) {
    const c = chooseDevice([CPU], kind, 3);
    assert.deepEqual([c.kind, c.label, c.enable, c.fallback], ['cpu', 'cpu', [], false], 'the index is ignored on the CPU');
  }
});

test('one render server: a GPU index that is not there fails naming it, or falls back', () => {
  assert.throws(
    () => chooseDevice([CPU, cuda(0), cuda(1)], 'cuda', 2),
    unavailable(/^requested cuda:2, but Blender found: CPU .*CUDA "NVIDIA A10" \(CUDA_NVIDIA A10_0000:00:11\)$/),
  );
  assert.throws(() => chooseDevice([CPU, HIP], 'auto', 1), unavailable(/^requested auto \(hip\):1, /));
  const fb = chooseDevice([CPU, cuda(0)], 'cuda', 5, true);
  assert.deepEqual([fb.kind, fb.label, fb.fallback], ['cpu', 'cpu', true]);
  assert.match(fb.note, /^requested cuda:5, but Blender found: CPU "AMD EPYC"/);
  for (const bad of [-1, 1.5]) assert.throws(() => chooseDevice([CPU], 'cuda', bad), RangeError);
});

test('the use_device request the render server is sent matches the protocol', () => {
  const gpu = useDeviceRequest(chooseDevice([CPU, cuda(0), cuda(1)], 'cuda', 1));
  assert.deepEqual(gpu, {
    op: 'use_device',
    kind: 'cuda',
    index: 1,
    compute_device_type: 'CUDA',
    enable: [cuda(1).id],
    label: 'cuda:1 NVIDIA A10',
  });
  const cpu = useDeviceRequest(chooseDevice([CPU], 'auto'));
  assert.deepEqual(cpu, { op: 'use_device', kind: 'cpu', index: null, compute_device_type: 'NONE', enable: [], label: 'cpu' });
  for (const r of [gpu, cpu, useDeviceRequest(chooseDevice([CPU, ONEAPI], 'auto'))]) assert.deepEqual(UseDeviceRequest.parse(r), r);
});
