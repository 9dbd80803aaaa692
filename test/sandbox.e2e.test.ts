import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { BlenderError, RenderServer, RenderSlot } from '@synthline/blender';
import { ROOT, cli, tempDir, tinySpec } from './helpers.ts';

// Issue 10, item 6: Blender runs with an explicit minimal environment and under a memory cap.
// A hostile model the test writes itself (a glTF whose one accessor declares 400 million
// vertices and no data, so the importer allocates gigabytes of zeros) fails its scan with
// MEMORY_LIMIT; a frame that grabs more than the cap fails with MEMORY_LIMIT, and the same slot
// (on a fresh process) and its neighbour go on rendering; a cap too small for Blender itself
// gives MEMORY_LIMIT too, however Blender dies of it.

const MiB = 1024 * 1024;
const spec = parseSpec(tinySpec({ render: { resolution: [64, 64], samples: 2 } }));

/** A glTF of one mesh whose POSITION accessor has 400,000,000 vertices and no buffer: a few hundred bytes on disk. */
const BOMB = JSON.stringify({
  asset: { version: '2.0' },
  scene: 0,
  scenes: [{ nodes: [0] }],
  nodes: [{ mesh: 0 }],
  meshes: [{ primitives: [{ attributes: { POSITION: 0 } }] }],
  accessors: [{ componentType: 5126, count: 400_000_000, type: 'VEC3', min: [0, 0, 0], max: [1, 1, 1] }],
});

test("Blender inherits nothing secret from the worker's environment", async () => {
  const secrets = {
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret-aws',
    REDIS_URL: 'redis://:sandbox-secret-redis@h:6379',
    SYNTHLINE_API_KEYS: 'x:sandbox-secret-key',
  };
  const saved = { ...process.env };
  Object.assign(process.env, secrets, { CUDA_VISIBLE_DEVICES: '' });
  const server = new RenderServer({ env: { MY_TOKEN: 'sandbox-secret-extra' } });
  try {
    await server.start();
    const environ = (await readFile(`/proc/${server.pid}/environ`, 'utf8')).split('\0');
    const names = environ.filter((e) => e.includes('=')).map((e) => e.slice(0, e.indexOf('=')));
    for (const s of [...Object.values(secrets), 'sandbox-secret-extra'])
      assert.ok(!environ.some((e) => e.includes(s)), `${s} reached Blender`);
    assert.ok(names.includes('PATH') && names.includes('PYTHONUNBUFFERED'));
    assert.ok(names.includes('CUDA_VISIBLE_DEVICES'), 'GPU selection passes');
    // PWD: the shell that sets the memory cap adds it.
    assert.ok(
      names.every((n) =>
        /^(PWD|PATH|PYTHONUNBUFFERED|HOME|USER|LOGNAME|LANG|LANGUAGE|TZ|TMPDIR|TEMP|TMP|XDG_CACHE_HOME|LD_LIBRARY_PATH|DISPLAY|WAYLAND_DISPLAY|XDG_RUNTIME_DIR|EGL_PLATFORM|LIBGL_ALWAYS_SOFTWARE|GPU_DEVICE_ORDINAL|OCIO|(LC|CUDA|NVIDIA|HIP|ROCR|HSA|MESA|__GLX|__EGL|__GL|__NV|OPTIX)_.*)$/.test(
          n,
        ),
      ),
      names.join(' '),
    );
  } finally {
    await server.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('a model that explodes in memory fails its scan with MEMORY_LIMIT; the next product scans', async () => {
  const lib = await tempDir('synthline-sandbox-lib-');
  const colors = [{ name: 'Red', srgb: '#D01818' }];
  await mkdir(join(lib, 'products', 'a-bomb'), { recursive: true });
  await writeFile(join(lib, 'products', 'a-bomb', 'bomb.gltf'), BOMB);
  await writeFile(join(lib, 'products', 'a-bomb', 'product.json'), JSON.stringify({ name: 'Bomb', dimensions_mm: [10, 10, 10], colors }));
  await mkdir(join(lib, 'products', 'box'), { recursive: true });
  await copyFile(join(ROOT, 'test', 'fixtures', 'khronos', 'Box.gltf'), join(lib, 'products', 'box', 'Box.gltf'));
  await writeFile(join(lib, 'products', 'box', 'product.json'), JSON.stringify({ name: 'Box', dimensions_mm: [80, 80, 80], colors }));
  const r = await cli(['assets', 'scan', '--library', lib], { BLENDER_MEMORY_LIMIT_MB: '1024' });
  assert.match(r.all, /FAIL library:a-bomb[\s\S]*?error: MEMORY_LIMIT: Blender ran out of memory under its limit of 1024 MiB/, r.all);
  assert.match(r.all, /ok +library:box /, 'the product after it scans in the same run');
  const scan = JSON.parse(await readFile(join(lib, '.synthline', 'scan.json'), 'utf8')) as { products: Record<string, { ok: boolean }> };
  assert.equal(scan.products['a-bomb']?.ok, false);
  assert.equal(scan.products.box?.ok, true);
});

test('a frame past the memory cap fails with MEMORY_LIMIT; the slot renders the next, its neighbour is untouched', async () => {
  const dir = await tempDir();
  const capped = new RenderSlot({ memoryLimitBytes: 1024 * MiB });
  const neighbour = new RenderSlot({ memoryLimitBytes: 1024 * MiB });
  try {
    await Promise.all([capped.warm(), neighbour.warm()]);
    const neighbourPid = neighbour.pid;
    const hog = { ...plan(spec, 0), debug: { crash: false, allocate_mb: 2048 } };
    const [failed, other] = await Promise.allSettled([
      capped.render(hog, { image: join(dir, 'hog.png'), mask: null }),
      neighbour.render(plan(spec, 1), { image: join(dir, 'n1.png'), mask: null }),
    ]);
    assert.equal(failed.status, 'rejected');
    const err = (failed as PromiseRejectedResult).reason as BlenderError;
    assert.ok(err instanceof BlenderError);
    assert.equal(err.code, 'MEMORY_LIMIT', err.message);
    assert.match(err.message, /limit of 1024 MiB.*BLENDER_MEMORY_LIMIT_MB/);
    assert.equal(other.status, 'fulfilled', 'the other slot rendered meanwhile');
    // Under the cap an ordinary frame has room: the same slot renders the next one.
    const next = await capped.render(plan(spec, 2), { image: join(dir, 'next.png'), mask: null });
    assert.equal(next.index, 2);
    assert.equal(neighbour.pid, neighbourPid, 'the neighbour never restarted');
    assert.equal(capped.starts, 2, 'the slot replaced the process that ran out of memory');
    const status = await readFile(`/proc/${capped.pid}/status`, 'utf8');
    const data = Number(/VmData:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
    assert.ok(data > 0 && data < 768 * MiB, `a Blender that rendered holds ${Math.round(data / MiB)} MiB of data, well under the cap`);
  } finally {
    await capped.close();
    await neighbour.close();
  }
});

test('a cap too small for Blender: MEMORY_LIMIT at start, and for a normal frame whichever way Blender dies of it', async () => {
  // Below what Blender needs to start: the start fails naming the cap.
  const tiny = new RenderServer({ memoryLimitBytes: 64 * MiB });
  await assert.rejects(
    tiny.start(),
    (e: unknown) =>
      e instanceof BlenderError &&
      e.code === 'MEMORY_LIMIT' &&
      /could not start under its memory limit of 64 MiB.*BLENDER_MEMORY_LIMIT_MB/.test(e.message),
  );
  await tiny.close();
  // Just above what an idle Blender holds: a normal frame runs out, in Cycles' C++ (often a
  // null pointer: SIGSEGV, with nothing logged) or in Python; either way the frame fails with
  // MEMORY_LIMIT, not as a crash that would be retried.
  const probe = new RenderServer({ memoryLimitBytes: 0 });
  await probe.start();
  const idle = Number(/VmData:\s+(\d+) kB/.exec(await readFile(`/proc/${probe.pid}/status`, 'utf8'))?.[1]) * 1024;
  await probe.close();
  const limit = Math.ceil((idle + 48 * MiB) / MiB) * MiB;
  const events: string[] = [];
  const slot = new RenderSlot({
    memoryLimitBytes: limit,
    onEvent: (e) => void events.push(e.type === 'crashed' ? `${e.index}:${e.error.code}` : e.type),
  });
  const dir = await tempDir();
  try {
    // Two frames in flight on one process, as a worker sends them.
    const results = await Promise.allSettled([0, 1].map((i) => slot.render(plan(spec, i), { image: join(dir, `f${i}.png`), mask: null })));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason as BlenderError;
      assert.ok(e instanceof BlenderError);
      assert.equal(e.code, 'MEMORY_LIMIT', `${e.message}\n${e.logTail.slice(-5).join('\n')}`);
      assert.match(e.message, new RegExp(`limit of ${limit / MiB} MiB.*BLENDER_MEMORY_LIMIT_MB`));
    }
    // Either the process died of frame 0 (frame 1, queued behind it, then fails on a fresh one),
    // or Python caught frame 0's MemoryError and frame 1 ran out on the same process, which the
    // slot retires once it has drained. Never a retry after MEMORY_LIMIT.
    const ways = [
      ['started', '0:MEMORY_LIMIT', '1:BLENDER_CRASHED', 'started', '1:MEMORY_LIMIT'],
      ['started', '0:MEMORY_LIMIT', '1:MEMORY_LIMIT'],
    ];
    assert.ok(
      ways.some((w) => JSON.stringify(w) === JSON.stringify(events)),
      JSON.stringify(events),
    );
  } finally {
    await slot.close();
  }
});
