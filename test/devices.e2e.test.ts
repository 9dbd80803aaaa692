import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadWorkerEnv } from '@synthline/config';
import { Manifest, SampleLabel, parseSpec } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { readTar } from '@synthline/shards';
import { BlenderError, RenderServer, RenderSlot, findBlender, listDevices } from '@synthline/blender';
import { SlotPool } from '../apps/worker/src/slot-pool.ts';
import { cli, tempDir, tinySpec } from './helpers.ts';

// Device choice against the real Blender of this machine: a CPU, no GPU. The GPU branches run in
// the unit tests (packages/blender/src/devices.test.ts, blender-scripts/tests/test_devices.py).

const small = (render: Record<string, unknown> = {}) =>
  tinySpec({ count: 3, render: { resolution: [48, 40], samples: 2, ...render }, output: { shard_size: 8 } });

async function labelsOf(dir: string): Promise<SampleLabel[]> {
  const m = Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));
  const out: SampleLabel[] = [];
  for (const s of m.shards) {
    for await (const x of readTar(join(dir, s.name))) {
      out.push(SampleLabel.parse(JSON.parse(x.members.find((mm) => mm.ext === 'json')?.data.toString() ?? '')));
    }
  }
  return out;
}

const cpuUnavailable = (e: unknown) =>
  e instanceof BlenderError &&
  e.code === 'DEVICE_UNAVAILABLE' &&
  /^requested cuda, but Blender found: .*CPU "[^"]+" \(CPU\)/.test(e.message);

test('listDevices reports the CPU Blender finds, without building a scene', async () => {
  const devices = await listDevices(findBlender());
  assert.ok(
    devices.some((d) => d.type === 'CPU' && d.name.length > 0 && d.id === 'CPU'),
    JSON.stringify(devices),
  );
});

test('auto renders on the CPU here; the slot, the result and the server report it', async () => {
  const spec = parseSpec(small());
  const dir = await tempDir();
  const slot = new RenderSlot();
  try {
    assert.equal(slot.device, '');
    const r = await slot.render(plan(spec, 0), { image: join(dir, 'a.png'), mask: null });
    assert.equal(r.device, 'cpu');
    assert.equal(slot.device, 'cpu');
  } finally {
    await slot.close();
  }
  const server = new RenderServer({ device: 'auto' });
  try {
    assert.equal(server.device, '');
    await server.start();
    assert.equal(server.device, 'cpu');
    assert.equal(server.deviceFallback, false);
    const q = await server.queryDevices();
    assert.equal(q.device, 'cpu');
    assert.ok(q.devices.some((d) => d.type === 'CPU'));
    assert.deepEqual(q.devices, server.devices);
  } finally {
    await server.close();
  }
});

test('synthline render --device auto: every label records render.device', async () => {
  const work = await tempDir();
  const specPath = join(work, 'spec.json');
  await writeFile(specPath, JSON.stringify(small()));
  const r = await cli(['render', specPath, '--out', join(work, 'out'), '--device', 'auto']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /device\s+cpu/);
  const labels = await labelsOf(join(work, 'out'));
  assert.equal(labels.length, 3);
  for (const l of labels) assert.equal(l.render.device, 'cpu');
});

test('cuda without fallback: DEVICE_UNAVAILABLE naming the CPU Blender found, no retries, nothing written', async () => {
  const slot = new RenderSlot({ device: 'cuda' });
  const spec = parseSpec(small());
  const dir = await tempDir();
  try {
    await assert.rejects(slot.warm(), cpuUnavailable);
    await assert.rejects(slot.render(plan(spec, 0), { image: join(dir, 'x.png'), mask: null }), cpuUnavailable);
    assert.equal(slot.starts, 0);
    assert.equal(slot.device, '');
  } finally {
    await slot.close();
  }

  const work = await tempDir();
  const specPath = join(work, 'spec.json');
  await writeFile(specPath, JSON.stringify(small({ device: 'cuda' })));
  const r = await cli(['render', specPath, '--out', join(work, 'out')]);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /requested cuda, but Blender found: CPU "[^"]+" \(CPU\)/);
  assert.equal(existsSync(join(work, 'out', 'dataset.json')), false);
  const bad = await cli(['render', specPath, '--out', join(work, 'out'), '--device', 'gpu']);
  assert.equal(bad.code, 2, bad.all);
  assert.match(bad.stderr, /--device expects one of auto, cpu, cuda/);
});

test('cuda with fallback renders on the CPU (spec field and CLI flag)', async () => {
  const server = new RenderServer({ device: 'cuda', allowCpuFallback: true });
  try {
    await server.start();
    assert.equal(server.device, 'cpu');
    assert.equal(server.deviceFallback, true);
  } finally {
    await server.close();
  }
  const work = await tempDir();
  const viaSpec = join(work, 'spec.json');
  await writeFile(viaSpec, JSON.stringify(small({ device: 'cuda', allow_cpu_fallback: true })));
  const a = await cli(['render', viaSpec, '--out', join(work, 'a')]);
  assert.equal(a.code, 0, a.all);
  const viaFlag = join(work, 'spec2.json');
  await writeFile(viaFlag, JSON.stringify(small()));
  const b = await cli(['render', viaFlag, '--out', join(work, 'b'), '--device', 'cuda', '--allow-cpu-fallback']);
  assert.equal(b.code, 0, b.all);
  for (const dir of [join(work, 'a'), join(work, 'b')]) {
    const labels = await labelsOf(dir);
    assert.equal(labels.length, 3);
    for (const l of labels) assert.equal(l.render.device, 'cpu');
  }
  const m = Manifest.parse(JSON.parse(await readFile(join(work, 'b', 'dataset.json'), 'utf8')));
  assert.equal(parseSpec(m.spec).render.device, 'cuda', 'the manifest keeps the spec as rendered, flags applied');
});

test('worker slots: auto on a CPU machine is one CPU slot; a missing GPU fails the start or falls back', async () => {
  const env = loadWorkerEnv({ WORKER_SLOTS: 'auto', WORKER_DEVICE: 'auto', WORKER_ALLOW_CPU_FALLBACK: '0' });
  assert.equal(env.WORKER_SLOTS, 'auto');
  assert.equal(env.WORKER_ALLOW_CPU_FALLBACK, false);
  assert.equal(loadWorkerEnv({ WORKER_ALLOW_CPU_FALLBACK: '1' }).WORKER_ALLOW_CPU_FALLBACK, true);
  assert.equal(loadWorkerEnv({}).WORKER_SLOTS, 1);
  assert.equal(loadWorkerEnv({}).WORKER_DEVICE, 'auto');
  assert.throws(() => loadWorkerEnv({ WORKER_DEVICE: 'gpu' }), /WORKER_DEVICE/);
  assert.throws(() => loadWorkerEnv({ WORKER_SLOTS: '0' }), /WORKER_SLOTS/);

  const blender = findBlender();
  const auto = await SlotPool.create('auto', { blender, device: 'auto' });
  assert.deepEqual(auto.deviceLabels, ['cpu']);
  assert.equal(auto.refusal('auto', false), undefined);
  assert.equal(auto.refusal('cpu', false), undefined);
  assert.match(auto.refusal('cuda', false) ?? '', /render\.device "cuda", but this worker renders on cpu$/);
  assert.equal(auto.refusal('cuda', true), undefined, 'a spec allowing CPU fallback may run here');
  await auto.close();

  await assert.rejects(SlotPool.create(2, { blender, device: 'cuda' }), cpuUnavailable);
  const fallback = await SlotPool.create(2, { blender, device: 'cuda', allowCpuFallback: true });
  assert.deepEqual(fallback.deviceLabels, ['cpu', 'cpu']);
  await fallback.close();
});
