import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotDevices } from '@synthline/blender';
import type { BlenderDevice } from '@synthline/spec';
import { SlotPool } from './slot-pool.ts';

const CPU: BlenderDevice = { type: 'CPU', name: 'AMD EPYC', id: 'CPU' };
const A10 = (i: number): BlenderDevice => ({ type: 'CUDA', name: 'NVIDIA A10', id: `CUDA_${i}` });

test('a pool on two GPUs binds one slot to each and refuses specs naming another kind', async () => {
  const list = async () => [A10(0), A10(1), CPU];
  const pool = await SlotPool.create('auto', { blender: '/nonexistent/blender', device: 'auto' }, list);
  try {
    assert.equal(pool.slots.length, 2);
    assert.deepEqual(pool.deviceLabels, ['cuda:0 NVIDIA A10', 'cuda:1 NVIDIA A10']);
    assert.deepEqual(
      pool.devices.map((d) => d?.deviceIndex),
      [0, 1],
    );
    for (const ok of ['auto', 'cuda'] as const) assert.equal(pool.refusal(ok, false), undefined);
    assert.equal(
      pool.refusal('optix', false),
      'this job\'s spec asks for render.device "optix", but this worker renders on cuda:0 NVIDIA A10, cuda:1 NVIDIA A10',
    );
    assert.match(pool.refusal('cpu', true) ?? '', /render\.device "cpu" \(or the CPU\), but this worker renders on cuda:0/);
  } finally {
    await pool.close();
  }
});

test('numbered slots on one GPU share it; a missing kind fails or falls back', async () => {
  const list = async () => [CPU, A10(0)];
  const pool = await SlotPool.create(3, { blender: '/x', device: 'cuda' }, list);
  assert.deepEqual(
    pool.devices.map((d) => d?.label),
    ['cuda:0 NVIDIA A10', 'cuda:0 NVIDIA A10', 'cuda:0 NVIDIA A10'],
  );
  await pool.close();
  await assert.rejects(
    SlotPool.create(1, { blender: '/x', device: 'hip' }, list),
    /requested hip, but Blender found: CPU "AMD EPYC" \(CPU\), CUDA/,
  );
  const fb = await SlotPool.create('auto', { blender: '/x', device: 'hip', allowCpuFallback: true }, list);
  assert.deepEqual(fb.deviceLabels, ['cpu']);
  assert.match(fb.refusal('hip', false) ?? '', /renders on cpu$/);
  assert.equal(fb.refusal('hip', true), undefined);
  await fb.close();
});

test('cpu pools list no devices; a pool built without devices learns its kind from its slots', async () => {
  const pool = await SlotPool.create('auto', { blender: '/x', device: 'cpu' }, async () => assert.fail('listed devices for cpu'));
  assert.deepEqual(pool.deviceLabels, ['cpu']);
  await pool.close();
  const plain = new SlotPool(2, { blender: '/x' });
  assert.deepEqual(plain.deviceLabels, ['', '']);
  assert.equal(plain.refusal('cuda', false), undefined, 'not started yet: nothing to refuse on');
  await plain.close();
  assert.throws(() => new SlotPool(3, {}, slotDevices('cpu', [CPU], 2)), RangeError);
});
