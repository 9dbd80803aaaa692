/**
 * Prints the FramePlans of a spec as JSON lines, exactly as the driver sends them to the render
 * server (the planner's plan plus `outputs`): the plans the dev tools in blender-scripts/tools and
 * bench_loop.py render, so they exercise the planner the service uses, never a copy of it.
 *
 *   node --import tsx scripts/plan-frames.ts <spec.json> --out-dir DIR [--frames A:B] [--library DIR]
 *
 * Images go to DIR/<key>.png, with DIR/<key>.mask.png and DIR/<key>.depth.png when the spec's
 * output.annotations ask for them. --frames defaults to every frame of the spec.
 */
import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { WirePlan, parseSpec } from '@synthline/spec';
import { plan, planContext } from '@synthline/planner';
import { AssetLibrary } from '@synthline/library';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'out-dir': { type: 'string' }, frames: { type: 'string' }, library: { type: 'string' } },
});
const [specPath] = positionals;
if (!specPath || !values['out-dir']) {
  process.stderr.write('usage: plan-frames.ts <spec.json> --out-dir DIR [--frames A:B] [--library DIR]\n');
  process.exit(2);
}
const spec = parseSpec(JSON.parse(readFileSync(specPath, 'utf8')));
const out = resolve(values['out-dir']);
const [start, end] = values.frames ? values.frames.split(':').map(Number) : [0, spec.count];
if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= (start ?? -1) && (start ?? 0) <= (end ?? -1) && (end ?? 0) <= spec.count)) {
  process.stderr.write(`--frames: expected A:B with 0 <= A <= B <= ${spec.count}, got "${values.frames}"\n`);
  process.exit(2);
}
const ctx = planContext(spec, values.library ? await AssetLibrary.open(values.library) : undefined);
const want = spec.output.annotations;
const lines: string[] = [];
for (let i = start ?? 0; i < (end ?? 0); i++) {
  const p = plan(spec, i, ctx);
  const outputs = {
    image: join(out, `${p.key}.png`),
    mask: want.mask ? join(out, `${p.key}.mask.png`) : null,
    depth: want.depth ? join(out, `${p.key}.depth.png`) : null,
  };
  lines.push(JSON.stringify(WirePlan.parse({ ...p, outputs })));
}
process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
