import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSpec, type FramePlan } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { BlenderError, RenderSlot, type SlotEvent } from '@synthline/blender';
import { tempDir, tinySpec } from './helpers.ts';

const spec = parseSpec(tinySpec({ render: { resolution: [64, 64], samples: 4 } }));

async function renderTo(slot: RenderSlot, p: FramePlan, dir: string, name = p.key) {
  const image = join(dir, `${name}.png`);
  const result = await slot.render(p, { image, mask: null });
  return { result, bytes: await readFile(image) };
}

test('a long-lived slot renders frames and recycles its process after N frames', async () => {
  const dir = await tempDir();
  const events: SlotEvent[] = [];
  const recycling = new RenderSlot({ maxFramesPerProcess: 2, onEvent: (e) => events.push(e) });
  const steady = new RenderSlot();
  try {
    for (let i = 0; i < 5; i++) {
      const a = await renderTo(recycling, plan(spec, i), dir, `r${i}`);
      const b = await renderTo(steady, plan(spec, i), dir, `s${i}`);
      assert.deepEqual(a.bytes, b.bytes, `frame ${i}: a recycled process renders the same pixels`);
      assert.deepEqual(a.result.bbox, b.result.bbox);
    }
    assert.equal(recycling.starts, 3);
    assert.equal(steady.starts, 1);
    assert.equal(events.filter((e) => e.type === 'recycled').length, 2);
  } finally {
    await recycling.close();
    await steady.close();
  }
});

test('Blender killed mid-frame: the slot restarts it and the frame completes', async () => {
  const dir = await tempDir();
  const slot = new RenderSlot();
  try {
    await slot.warm();
    const pid = slot.pid;
    assert.ok(pid);
    const slow = { ...plan(spec, 0), render: { ...plan(spec, 0).render, samples: 256, resolution: [192, 192] as [number, number] } };
    const pending = renderTo(slot, slow, dir);
    // Kill it while it renders: the request is in flight once the process has it.
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const { result } = await pending;
    assert.equal(result.index, 0);
    assert.equal(slot.starts, 2);
    assert.notEqual(slot.pid, pid);
  } finally {
    await slot.close();
  }
});

test('a frame that crashes Blender every time fails with the error; the next frame renders', async () => {
  const dir = await tempDir();
  const events: SlotEvent[] = [];
  const slot = new RenderSlot({ attempts: 2, onEvent: (e) => events.push(e) });
  try {
    const crash = { ...plan(spec, 1), debug: { crash: true } };
    await assert.rejects(
      renderTo(slot, crash, dir),
      (e: unknown) => e instanceof BlenderError && e.code === 'BLENDER_CRASHED' && /SIGABRT/.test(e.message),
    );
    assert.equal(events.filter((e) => e.type === 'crashed').length, 2);
    const ok = await renderTo(slot, plan(spec, 2), dir);
    assert.equal(ok.result.index, 2);
  } finally {
    await slot.close();
  }
});

test('a bad plan is answered with an error and the process lives on', async () => {
  const dir = await tempDir();
  const slot = new RenderSlot();
  try {
    // Not a plan TypeScript would build: the render server checks it against the protocol schema too.
    const bad = { ...plan(spec, 3), world: { ...plan(spec, 3).world, hdri: 'no-such-hdri' as FramePlan['world']['hdri'] } };
    await assert.rejects(
      renderTo(slot, bad, dir),
      (e: unknown) => e instanceof BlenderError && e.code === 'BAD_PLAN' && !e.retryable && /^world\.hdri: .*no-such-hdri/.test(e.message),
    );
    await renderTo(slot, plan(spec, 3), dir);
    assert.equal(slot.starts, 1);
  } finally {
    await slot.close();
  }
});

test('a frame past its timeout is killed and reported', async () => {
  const dir = await tempDir();
  const slot = new RenderSlot({ frameTimeoutMs: 50, attempts: 2 });
  try {
    const slow = { ...plan(spec, 4), render: { ...plan(spec, 4).render, samples: 512, resolution: [256, 256] as [number, number] } };
    await assert.rejects(renderTo(slot, slow, dir), (e: unknown) => e instanceof BlenderError && e.code === 'FRAME_TIMEOUT');
    assert.equal(slot.starts, 2);
  } finally {
    await slot.close();
  }
});
