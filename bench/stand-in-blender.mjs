#!/usr/bin/env node
/**
 * A stand-in for the Blender executable, for bench/pipeline-ceiling.ts: it speaks the render
 * server's protocol (packages/spec/src/protocol.ts; blender-scripts/render_server.py is the real
 * server) and answers every render at once, as a GPU fast enough to cost nothing would. What is
 * left is synthline's own per-frame work: the plan, the pipe, the PNG decode, the sensor effects,
 * the encoding and the shard.
 *
 * Run in Blender's place through `BLENDER=bench/stand-in-blender.mjs` (or RenderServer's
 * `blender` option): it takes Blender's arguments (`--in-fd N --out-fd M` after `--`) and ignores
 * the rest. Each render writes a real Cycles render of the asked resolution to the plan's image
 * path: bench/fixtures/frame-<size>.png where one is kept (256x256 and 512x512, rendered once with
 * Blender at 16 samples, because PNG decode and encode cost depends on the content, and a flat
 * synthetic image would flatter them), else the 512 one resized, made once per size at first use.
 * It lists one OptiX GPU besides the CPU, so that a slot's `auto` device takes it.
 */
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import sharp from 'sharp';

const BLENDER_VERSION = '4.3.0 (stand-in)';
const DEVICES = [
  { type: 'CPU', name: 'stand-in CPU', id: 'CPU' },
  { type: 'OPTIX', name: 'stand-in GPU (answers at once)', id: 'OPTIX_stand-in_0000:00:00' },
];
const FIXTURES = new URL('./fixtures/', import.meta.url);

const argv = process.argv.slice(process.argv.indexOf('--') + 1);
const fdArg = (name) => {
  const i = argv.indexOf(name);
  const fd = i >= 0 ? Number(argv[i + 1]) : Number.NaN;
  // A bad command line throws: Node prints it and exits 1, as a Blender that cannot start would.
  if (!Number.isInteger(fd)) throw new Error(`stand-in-blender: expected ${name} <fd> after "--" (as RenderServer passes it)`);
  return fd;
};
const input = createReadStream('', { fd: fdArg('--in-fd') });
const output = createWriteStream('', { fd: fdArg('--out-fd') });
const send = (obj) => output.write(`${JSON.stringify(obj)}\n`);

/** PNG bytes per `WxH`, and the single-channel ones for masks and depth. */
const images = new Map();
const planes = new Map();

async function imageOf(w, h) {
  const key = `${w}x${h}`;
  let png = images.get(key);
  if (!png) {
    try {
      png = readFileSync(new URL(`frame-${w}.png`, FIXTURES));
      const meta = await sharp(png).metadata();
      if (meta.width !== w || meta.height !== h) png = undefined;
    } catch {
      png = undefined;
    }
    // No render of this size kept: the largest one, resized (still a real render's content).
    png ??= await sharp(readFileSync(new URL('frame-512.png', FIXTURES)))
      .resize(w, h, { fit: 'fill' })
      .png()
      .toBuffer();
    images.set(key, png);
  }
  return png;
}

async function planeOf(w, h) {
  const key = `${w}x${h}`;
  let png = planes.get(key);
  if (!png) {
    png = await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    planes.set(key, png);
  }
  return png;
}

/** A result valid under RenderResult: a fixed camera and pose, the plan's index and paths. */
function resultOf(plan, seconds, device) {
  const [w, h] = plan.render.resolution;
  const f = 1.25 * w;
  const identity = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  return {
    index: plan.index,
    image: plan.outputs.image,
    mask: plan.outputs.mask ?? null,
    depth: plan.outputs.depth ?? null,
    depth_units: 'mm',
    visible_fraction: 1,
    bbox: [Math.round(w * 0.34), Math.round(h * 0.18), Math.round(w * 0.33), Math.round(h * 0.58)],
    visible_pixels: Math.round(w * h * 0.17),
    camera: {
      K: [
        [f, 0, (w - 1) / 2],
        [0, f, (h - 1) / 2],
        [0, 0, 1],
      ],
      world_to_camera: identity,
      convention: 'opencv',
    },
    product: {
      matrix_world: identity,
      location_m: [0, 0, 0],
      rotation_euler_deg: [0, 180, 0],
      dimensions_m: [0.0715, 0.1475, 0.00785],
      scale: 1,
      scale_residual: null,
    },
    seconds,
    blender_version: BLENDER_VERSION,
    rss_bytes: process.memoryUsage.rss(),
    device,
  };
}

async function render(id, plan, device) {
  const t0 = performance.now();
  const [w, h] = plan.render.resolution;
  writeFileSync(plan.outputs.image, await imageOf(w, h));
  if (plan.outputs.mask) writeFileSync(plan.outputs.mask, await planeOf(w, h));
  if (plan.outputs.depth) writeFileSync(plan.outputs.depth, await planeOf(w, h));
  send({ id, ok: true, result: resultOf(plan, Number(((performance.now() - t0) / 1000).toFixed(6)), device) });
}

const error = (id, code, message) => send({ id, ok: false, error: { code, message, traceback: '' } });

async function serve() {
  // The kept renders are read before the first line: a frame's answer costs nothing but the write.
  await Promise.all([imageOf(256, 256), imageOf(512, 512)]);
  send({ type: 'devices', blender_version: BLENDER_VERSION, devices: DEVICES });
  let use;
  // Requests are handled one at a time, in order, as the real server does.
  for await (const line of createInterface({ input })) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (err) {
      error(null, 'BAD_REQUEST', `unparseable request: ${err.message}`);
      continue;
    }
    if (!use) {
      if (req.op !== 'use_device') {
        send({ type: 'error', error: { code: 'BAD_REQUEST', message: `expected use_device first, got ${req.op}`, traceback: '' } });
        continue;
      }
      use = req;
      send({ type: 'ready', blender_version: BLENDER_VERSION, pid: process.pid, python: '3.11.0', device: use.label, device_kind: use.kind });
      continue;
    }
    const id = req.id ?? null;
    switch (req.op) {
      case 'render':
        try {
          await render(id, req.plan, use.label);
        } catch (err) {
          error(id, 'RENDER_FAILED', `stand-in: ${err.message}`);
        }
        break;
      case 'ping':
        send({ id, ok: true, result: { rss_bytes: process.memoryUsage.rss() } });
        break;
      case 'devices':
        send({ id, ok: true, result: { device: use.label, device_kind: use.kind, devices: DEVICES } });
        break;
      case 'shutdown':
        send({ id, ok: true, result: { rss_bytes: process.memoryUsage.rss() } });
        // Both pipes closed, nothing is left to wait on: the process ends with exit code 0.
        output.end();
        input.destroy();
        return;
      default:
        error(id, 'BAD_REQUEST', `unknown op ${JSON.stringify(req.op)}`);
    }
  }
  // EOF: the driver closed the pipe or died; closing ours lets the process end.
  output.end();
}

await serve();
