/**
 * Benchmark, not a test: what a scenario costs. Renders the first frames of example specs with
 * `renderDataset` (one warm Blender, sensor effects, shards: what `synthline render` does) at the
 * same resolution and samples, side by side in one run, the order alternating per round, and
 * prints frames/s and each one's ratio to the first, and for a spec with piles (`layout.mode`
 * pile) the rigid-body settle's share of the frame time (from `timings.jsonl`: settle_s over
 * Blender's render_s, and over the wall time of the frames). Usage:
 *   npm run bench:scenarios -- [--frames 16] [--rounds 3] [--size 256] [--samples 16]
 *                              [--specs examples/quickstart.json,examples/busy-line.json] [--out FILE]
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSpec } from '@synthline/spec';
import { renderDataset } from '@synthline/pipeline';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    size: { type: 'string', default: '256' },
    samples: { type: 'string', default: '16' },
    specs: { type: 'string', default: 'examples/quickstart.json,examples/busy-line.json' },
    out: { type: 'string' },
  },
});
const frames = Number(values.frames);
const rounds = Number(values.rounds);
const size = Number(values.size);
const samples = Number(values.samples);
const files = values.specs.split(',');
const root = join(tmpdir(), `synthline-bench-scenarios-${process.pid}`);

const specs = await Promise.all(
  files.map(async (f) => {
    const raw = JSON.parse(await readFile(f, 'utf8')) as { render?: Record<string, unknown> };
    return {
      name: basename(f, '.json'),
      spec: parseSpec({ ...raw, count: Math.max(frames, 1), render: { ...raw.render, resolution: [size, size], samples } }),
    };
  }),
);
const fps: Record<string, number[]> = Object.fromEntries(specs.map((s) => [s.name, []]));
/** Per spec, summed over rounds: seconds of settle, of Blender's frames, and of wall time. */
const settle: Record<string, { settle_s: number; render_s: number; wall_s: number; piles: number }> = {};
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? specs : [...specs].reverse();
  for (const { name, spec } of order) {
    const dir = join(root, `${name}-${r}`);
    await mkdir(dir, { recursive: true });
    const t = performance.now();
    await renderDataset({ spec, outDir: dir, overwrite: true, frames: [0, frames] });
    const wall = (performance.now() - t) / 1000;
    const v = frames / wall;
    fps[name]?.push(v);
    const timings = (await readFile(join(dir, 'timings.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { render_s: number; settle_s?: number });
    const acc = (settle[name] ??= { settle_s: 0, render_s: 0, wall_s: 0, piles: 0 });
    for (const x of timings) {
      acc.render_s += x.render_s;
      acc.settle_s += x.settle_s ?? 0;
      if (x.settle_s !== undefined) acc.piles++;
    }
    acc.wall_s += wall;
    process.stderr.write(`round ${r + 1}/${rounds} ${name}: ${v.toFixed(2)} frames/s\n`);
    await rm(dir, { recursive: true, force: true });
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const first = median(fps[specs[0]?.name ?? ''] ?? []);
process.stdout.write(`\nframes/s at ${size}x${size}, ${samples} samples, ${frames} frames (median of ${rounds} rounds)\n`);
type Settle = { frames_with_pile: number; settle_s: number; share_of_render: number; share_of_wall: number };
const result: Record<string, { fps: number[]; median: number; ratio_to_first: number; settle?: Settle }> = {};
for (const { name } of specs) {
  const m = median(fps[name] ?? []);
  result[name] = { fps: fps[name] ?? [], median: m, ratio_to_first: m / first };
  let line = `  ${name.padEnd(16)} ${m.toFixed(2)}   x${(m / first).toFixed(3)}`;
  const acc = settle[name];
  if (acc && acc.piles > 0) {
    const st: Settle = {
      frames_with_pile: acc.piles,
      settle_s: acc.settle_s,
      share_of_render: acc.settle_s / acc.render_s,
      share_of_wall: acc.settle_s / acc.wall_s,
    };
    result[name].settle = st;
    line += `   settle ${((st.settle_s / st.frames_with_pile) * 1000).toFixed(1)} ms a pile, ${(st.share_of_render * 100).toFixed(1)}% of Blender's frame time, ${(st.share_of_wall * 100).toFixed(1)}% of wall time`;
  }
  process.stdout.write(`${line}\n`);
}
if (values.out)
  await writeFile(values.out, `${JSON.stringify({ date: new Date().toISOString(), frames, rounds, size, samples, result }, null, 2)}\n`);
await rm(root, { recursive: true, force: true });
