/**
 * Benchmark, not a test: the pipeline's ceiling. How many frames/s synthline's own per-frame work
 * can sustain when Blender answers at once, as a fast GPU nearly does: the plan, the render
 * server's protocol (a real RenderSlot and RenderServer, its zod checks included), the PNG decode,
 * the sensor effects, the encoding, the label and the tar. Blender is bench/stand-in-blender.mjs,
 * which writes a kept Cycles render of the asked size for every frame and replies at once.
 *
 * Each measurement runs in a child process, as a worker runs batches: `--slots` lanes, each with
 * its own slot, take batches of 24 frames (the default SYNTHLINE_BATCH_SIZE) from one queue and
 * render each with `renderFrames` into a tar of its own (TarWriter, as a fragment is written).
 * Slots are started and the pipeline warmed on a few frames before the clock starts. Measured:
 * frames/s; the process's CPU time per frame (process.cpuUsage, all threads: the sensor pool's
 * included, the stand-in's own not); the event loop's longest block and p99
 * (monitorEventLoopDelay, 1 ms resolution); the main thread's busy time per frame (event loop
 * utilisation) and its garbage-collection pauses (the longest, and the total per frame), which
 * tell its own per-frame work from V8's collector in the longest block. Apart from that, each stage's cost per call (plan,
 * decode, sensor effects, encode) is timed by calling those functions one by one on the same
 * images and plans ("stage costs, measured apart").
 *
 * `--baseline <dir>`: another checkout (a git worktree of an older commit with its own
 * node_modules) measured in the same run, the order alternating per round. Its children run this
 * bench/pipeline-ceiling.ts and stand-in, so that both are measured the same way, loading that
 * checkout's packages (children load packages from their working directory).
 *
 *   npm run bench:pipeline -- [--sizes 256,512] [--slots 1,4] [--frames 200] [--rounds 3]
 *                             [--out bench/results/pipeline-ceiling.json] [--baseline <dir>]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

type SpecModule = typeof import('@synthline/spec');
type PlannerModule = typeof import('@synthline/planner');
type BlenderModule = typeof import('@synthline/blender');
type PipelineModule = typeof import('@synthline/pipeline');
type ShardsModule = typeof import('@synthline/shards');
type SensorModule = typeof import('@synthline/sensor');

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
/** The worker's default batch size (SYNTHLINE_BATCH_SIZE). */
const BATCH = 24;
/** Frames rendered before the clock starts, per slot (starts the stand-ins, the sensor threads, the JIT). */
const WARM_PER_SLOT = 6;
/**
 * Calls per stage in the stage pass, after untimed ones: V8 optimises the JavaScript stages (the
 * PNG decode, the noise) only after some tens of calls, as a worker's threads long have.
 */
const STAGE_CALLS = 30;
const STAGE_WARM = 60;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512' },
    slots: { type: 'string', default: '1,4' },
    frames: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/pipeline-ceiling.json' },
    baseline: { type: 'string' },
    child: { type: 'boolean', default: false },
    stages: { type: 'boolean', default: false },
    size: { type: 'string' },
    'stand-in': { type: 'string' },
  },
});

const wholes = (s: string, what: string): number[] =>
  s.split(',').map((v) => {
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--${what} takes whole numbers >= 1 separated by commas, got "${s}"`);
    return n;
  });

/** A synthline checkout's package, loaded from the working directory (this one, or the baseline). */
function load<T>(pkg: string): Promise<T> {
  return import(pathToFileURL(join(process.cwd(), 'packages', pkg, 'src', 'index.ts')).href) as Promise<T>;
}

/** The quickstart's scene with sensor noise and grain always on, so the sensor work is a real frame's. */
async function benchSpec(size: number, count: number) {
  const { parseSpec } = await load<SpecModule>('spec');
  return parseSpec({
    version: 1,
    name: 'pipeline-ceiling',
    seed: 2026,
    count,
    render: { resolution: [size, size], samples: 16, engine: 'cycles', format: 'png' },
    sensor: { noise_sigma: [0.01, 0.03], grain_strength: [0.01, 0.03] },
    output: { shard_size: 100 },
  });
}

interface RunResult {
  size: number;
  slots: number;
  frames: number;
  failed: number;
  firstError?: string;
  wall_s: number;
  fps: number;
  cpu_ms_per_frame: number;
  /** The stand-ins' own CPU per frame (writing the PNG and the reply), not in cpu_ms_per_frame. */
  stand_in_cpu_ms_per_frame: number | null;
  loop_max_ms: number;
  loop_p99_ms: number;
  /** The main thread's busy time per frame (event loop utilisation: its own work and its GC, and any time the OS ran another thread instead). */
  main_busy_ms_per_frame: number;
  /** The main thread's own CPU time per frame (Linux: its /proc task entry; null elsewhere). */
  main_cpu_ms_per_frame: number | null;
  /** The main thread's longest garbage-collection pause, and its GC time per frame. */
  gc_max_ms: number;
  gc_ms_per_frame: number;
  tar_bytes_per_frame: number;
}

/** utime + stime of a process (or with `thread`, of that one thread of it), ms; null where /proc cannot tell. */
function procCpuMs(pid: number | undefined, thread?: number): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** One measurement (child process): `frames` frames of `size` through `slots` slots. */
async function runPipeline(size: number, slots: number, frames: number, standIn: string): Promise<RunResult> {
  const { planContext } = await load<PlannerModule>('planner');
  const { RenderSlot } = await load<BlenderModule>('blender');
  const { renderFrames } = await load<PipelineModule>('pipeline');
  const { TarWriter } = await load<ShardsModule>('shards');
  const warm = WARM_PER_SLOT * slots;
  const spec = await benchSpec(size, warm + frames);
  const context = planContext(spec);
  const dir = await mkdtemp(join(tmpdir(), 'synthline-ceiling-'));
  const slotList = Array.from({ length: slots }, () => new RenderSlot({ blender: standIn }));
  let failed = 0;
  let firstError: string | undefined;
  let tarBytes = 0;

  /** Batches of [start, end) over [from, to), taken by the lanes in turn. */
  const queueOf = (from: number, to: number, batch: number) => {
    let next = from;
    return (): [number, number] | undefined => {
      if (next >= to) return undefined;
      const b: [number, number] = [next, Math.min(to, next + batch)];
      next = b[1];
      return b;
    };
  };
  const lane = async (slot: InstanceType<BlenderModule['RenderSlot']>, take: () => [number, number] | undefined) => {
    for (let b = take(); b; b = take()) {
      const [start, end] = b;
      const writer = new TarWriter(join(dir, `${String(start).padStart(6, '0')}.tar`));
      const indices = {
        [Symbol.iterator]: function* () {
          for (let i = start; i < end; i++) yield i;
        },
      };
      for await (const outcome of renderFrames({ spec, indices, slot, context })) {
        if (outcome.ok) await writer.add(outcome.frame.sample);
        else {
          failed++;
          firstError ??= `${outcome.failure.code}: ${outcome.failure.error}`;
        }
      }
      const info = await writer.finish();
      tarBytes += info.bytes;
    }
  };

  try {
    await Promise.all(slotList.map((s) => s.warm()));
    const warmQueue = queueOf(0, warm, WARM_PER_SLOT);
    await Promise.all(slotList.map((s) => lane(s, warmQueue)));
    failed = 0;
    tarBytes = 0;
    const standInAt = slotList.map((s) => procCpuMs(s.pid));

    const loop = monitorEventLoopDelay({ resolution: 1 });
    const take = queueOf(warm, warm + frames, BATCH);
    const gcPauses: number[] = [];
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration);
    });
    gc.observe({ entryTypes: ['gc'] });
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const main0 = procCpuMs(process.pid, process.pid);
    const t0 = performance.now();
    loop.enable();
    await Promise.all(slotList.map((s) => lane(s, take)));
    loop.disable();
    const elu = performance.eventLoopUtilization(elu0);
    const main1 = procCpuMs(process.pid, process.pid);
    // GC entries arrive on a later tick: let the observer take the run's last ones.
    await new Promise((r) => setImmediate(r));
    gc.disconnect();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const standInNow = slotList.map((s) => procCpuMs(s.pid));
    const standInMs = standInNow.every((v, i) => v !== null && standInAt[i] !== null)
      ? standInNow.reduce<number>((sum, v, i) => sum + (v ?? 0) - (standInAt[i] ?? 0), 0)
      : null;
    const done = frames - failed;
    return {
      size,
      slots,
      frames,
      failed,
      ...(firstError ? { firstError } : {}),
      wall_s: wall,
      fps: done / wall,
      cpu_ms_per_frame: (cpu.user + cpu.system) / 1000 / frames,
      stand_in_cpu_ms_per_frame: standInMs === null ? null : standInMs / frames,
      loop_max_ms: loop.max / 1e6,
      loop_p99_ms: loop.percentile(99) / 1e6,
      main_busy_ms_per_frame: elu.active / frames,
      main_cpu_ms_per_frame: main0 === null || main1 === null ? null : (main1 - main0) / frames,
      gc_max_ms: Math.max(0, ...gcPauses),
      gc_ms_per_frame: gcPauses.reduce((a, b) => a + b, 0) / frames,
      tar_bytes_per_frame: tarBytes / frames,
    };
  } finally {
    await Promise.all(slotList.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  }
}

interface StageCost {
  /** Wall time per call, ms (median of the calls). */
  wall_ms: number;
  /** CPU time per call, ms (all threads: libvips works on several). */
  cpu_ms: number;
}

interface StagesResult {
  size: number;
  calls: number;
  plan: StageCost;
  decode: StageCost;
  sensor: StageCost;
  encode: StageCost;
}

/**
 * The stage pass (child process): each stage's cost per call, on the main thread one call at a
 * time: `plan`, then `decodeRgb` of the stand-in's image, `applySensor` with each plan's sensor
 * settings and `encode` as the spec asks (png), as the sensor pool's threads call them.
 */
async function measureStages(size: number, standIn: string): Promise<StagesResult> {
  const { plan, planContext } = await load<PlannerModule>('planner');
  const { RenderSlot } = await load<BlenderModule>('blender');
  const { decodeRgb, applySensor, encode } = await load<SensorModule>('sensor');
  const spec = await benchSpec(size, STAGE_WARM + STAGE_CALLS);
  const context = planContext(spec);
  const dir = await mkdtemp(join(tmpdir(), 'synthline-stages-'));
  const image = join(dir, 'frame.png');
  const slot = new RenderSlot({ blender: standIn });
  try {
    await slot.render(plan(spec, 0, context), { image, mask: null, depth: null });
  } finally {
    await slot.close();
  }
  const costs: Record<'plan' | 'decode' | 'sensor' | 'encode', { wall: number[]; cpu: number[] }> = {
    plan: { wall: [], cpu: [] },
    decode: { wall: [], cpu: [] },
    sensor: { wall: [], cpu: [] },
    encode: { wall: [], cpu: [] },
  };
  const timed = async <T>(stage: keyof typeof costs, f: () => T | Promise<T>): Promise<T> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await f();
    costs[stage].wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    costs[stage].cpu.push((c.user + c.system) / 1000);
    return out;
  };
  try {
    // Untimed passes first: sharp's and the JIT's first calls cost more than any later one.
    for (let i = 0; i < STAGE_WARM + STAGE_CALLS; i++) {
      const p = await timed('plan', () => plan(spec, i, context));
      const raw = await timed('decode', () => decodeRgb(image));
      const processed = await timed('sensor', () => applySensor(raw, p.sensor));
      await timed('encode', () => encode(processed, spec.render.format, spec.render.quality));
      if (i !== STAGE_WARM - 1) continue;
      for (const c of Object.values(costs)) {
        c.wall.length = 0;
        c.cpu.length = 0;
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const cost = (stage: keyof typeof costs): StageCost => ({
    wall_ms: median(costs[stage].wall),
    cpu_ms: costs[stage].cpu.reduce((a, b) => a + b, 0) / costs[stage].cpu.length,
  });
  return { size, calls: STAGE_CALLS, plan: cost('plan'), decode: cost('decode'), sensor: cost('sensor'), encode: cost('encode') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A checkout measured: this one, or the baseline. */
interface Checkout {
  name: 'current' | 'baseline';
  dir: string;
  script: string;
  standIn: string;
  commit: string;
}

function checkout(name: Checkout['name'], dir: string): Checkout {
  if (!existsSync(join(dir, 'packages', 'pipeline', 'src', 'index.ts')) || !existsSync(join(dir, 'node_modules'))) {
    throw new Error(`${dir} is not a synthline checkout with its node_modules: give --baseline a worktree where \`npm ci\` has run`);
  }
  let commit = '?';
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no');
    if (dirty) commit += '+changes';
  } catch {
    // not a git checkout: the commit stays unknown
  }
  return { name, dir, script: join(ROOT, 'bench', 'pipeline-ceiling.ts'), standIn: join(ROOT, 'bench', 'stand-in-blender.mjs'), commit };
}

/** Runs one child measurement in a checkout; its last stdout line is the JSON result. */
function runChild<T>(co: Checkout, args: string[]): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', co.script, '--child', '--stand-in', co.standIn, ...args], {
      cwd: co.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        reject(new Error(`${co.name} child (${args.join(' ')}) exited with ${code}:\n${err.slice(-2000)}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${co.name} child (${args.join(' ')}) printed no JSON result:\n${out.slice(-1000)}${err.slice(-1000)}`));
      }
    });
  });
}

async function childMain(): Promise<void> {
  const standIn = values['stand-in'] ?? join(ROOT, 'bench', 'stand-in-blender.mjs');
  const size = wholes(values.size ?? '', 'size')[0] as number;
  const result = values.stages
    ? await measureStages(size, standIn)
    : await runPipeline(size, wholes(values.slots, 'slots')[0] as number, wholes(values.frames, 'frames')[0] as number, standIn);
  // Slots are closed and the sensor pool's threads are unref'd: the child ends when this is out.
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const f1 = (n: number | null | undefined) => (n === null || n === undefined ? '-' : n.toFixed(1));
const f2 = (n: number | null | undefined) => (n === null || n === undefined ? '-' : n.toFixed(2));

async function parentMain(): Promise<void> {
  const sizes = wholes(values.sizes, 'sizes');
  const slotCounts = wholes(values.slots, 'slots');
  const frames = wholes(values.frames, 'frames')[0] as number;
  const rounds = wholes(values.rounds, 'rounds')[0] as number;
  const checkouts = [checkout('current', ROOT), ...(values.baseline ? [checkout('baseline', resolve(values.baseline))] : [])];
  const configs = sizes.flatMap((size) => slotCounts.map((slots) => ({ size, slots })));
  console.log(
    `pipeline ceiling: sizes ${sizes.join(',')}, slots ${slotCounts.join(',')}, ${frames} frames, ${rounds} rounds; ` +
      checkouts.map((c) => `${c.name} ${c.commit} (${c.dir})`).join(' vs '),
  );

  const runs = new Map<string, RunResult[]>();
  const key = (co: string, size: number, slots: number) => `${co} ${size} ${slots}`;
  for (let r = 0; r < rounds; r++) {
    for (const { size, slots } of configs) {
      const order = r % 2 === 0 ? checkouts : [...checkouts].reverse();
      for (const co of order) {
        const res = await runChild<RunResult>(co, ['--size', String(size), '--slots', String(slots), '--frames', String(frames)]);
        const k = key(co.name, size, slots);
        runs.set(k, [...(runs.get(k) ?? []), res]);
        console.log(
          `  round ${r + 1} ${co.name.padEnd(8)} ${size}px ${slots} slot(s): ${f1(res.fps)} frames/s, ${f1(res.cpu_ms_per_frame)} ms CPU/frame, loop max ${f1(res.loop_max_ms)} ms (GC max ${f1(res.gc_max_ms)}), main busy ${f2(res.main_busy_ms_per_frame)} ms/frame (CPU ${f2(res.main_cpu_ms_per_frame)})${res.failed ? `, ${res.failed} FAILED (${res.firstError})` : ''}`,
        );
      }
    }
  }
  const stages: (StagesResult & { checkout: string })[] = [];
  for (const size of sizes) {
    for (const co of checkouts) {
      stages.push({ checkout: co.name, ...(await runChild<StagesResult>(co, ['--stages', '--size', String(size)])) });
    }
  }

  const results = checkouts.flatMap((co) =>
    configs.map(({ size, slots }) => {
      const rs = runs.get(key(co.name, size, slots)) ?? [];
      const standIn = rs.map((x) => x.stand_in_cpu_ms_per_frame).filter((x): x is number => x !== null);
      const mainCpu = rs.map((x) => x.main_cpu_ms_per_frame).filter((x): x is number => x !== null);
      return {
        checkout: co.name,
        commit: co.commit,
        size,
        slots,
        frames,
        fps_median: median(rs.map((x) => x.fps)),
        fps_rounds: rs.map((x) => Number(x.fps.toFixed(2))),
        cpu_ms_per_frame_median: median(rs.map((x) => x.cpu_ms_per_frame)),
        stand_in_cpu_ms_per_frame_median: standIn.length ? median(standIn) : null,
        loop_max_ms: Math.max(...rs.map((x) => x.loop_max_ms)),
        loop_p99_ms_median: median(rs.map((x) => x.loop_p99_ms)),
        main_busy_ms_per_frame_median: median(rs.map((x) => x.main_busy_ms_per_frame)),
        main_cpu_ms_per_frame_median: mainCpu.length ? median(mainCpu) : null,
        gc_max_ms: Math.max(...rs.map((x) => x.gc_max_ms)),
        gc_ms_per_frame_median: median(rs.map((x) => x.gc_ms_per_frame)),
        tar_bytes_per_frame: median(rs.map((x) => x.tar_bytes_per_frame)),
        failed: rs.reduce((a, x) => a + x.failed, 0),
      };
    }),
  );

  console.log('\nframes/s with Blender answering at once (median of rounds)');
  console.log(
    'checkout  size  slots  frames/s  CPU ms/frame  stand-in CPU ms/frame  loop max ms  loop p99 ms  main busy ms/frame  main CPU ms/frame  GC max ms  GC ms/frame  failed',
  );
  for (const x of results) {
    console.log(
      `${x.checkout.padEnd(8)}  ${String(x.size).padStart(4)}  ${String(x.slots).padStart(5)}  ${f1(x.fps_median).padStart(8)}  ${f2(x.cpu_ms_per_frame_median).padStart(12)}  ${f2(x.stand_in_cpu_ms_per_frame_median).padStart(21)}  ${f1(x.loop_max_ms).padStart(11)}  ${f1(x.loop_p99_ms_median).padStart(11)}  ${f2(x.main_busy_ms_per_frame_median).padStart(18)}  ${f2(x.main_cpu_ms_per_frame_median).padStart(17)}  ${f1(x.gc_max_ms).padStart(9)}  ${f2(x.gc_ms_per_frame_median).padStart(11)}  ${String(x.failed).padStart(6)}`,
    );
  }
  console.log(`\nstage costs, measured apart (one call at a time on the main thread, ${STAGE_CALLS} calls; wall median / CPU mean, ms)`);
  console.log('checkout  size        plan            decode           sensor           encode');
  for (const s of stages) {
    const c = (x: StageCost) => `${f2(x.wall_ms)} / ${f2(x.cpu_ms)}`.padStart(15);
    console.log(`${s.checkout.padEnd(8)}  ${String(s.size).padStart(4)}  ${c(s.plan)}  ${c(s.decode)}  ${c(s.sensor)}  ${c(s.encode)}`);
  }

  const out = resolve(ROOT, values.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        bench: 'pipeline-ceiling',
        date: new Date().toISOString(),
        machine: { cpu: cpus()[0]?.model ?? '?', cores: availableParallelism(), node: process.version },
        options: { sizes, slots: slotCounts, frames, rounds, batch: BATCH, warm_frames_per_slot: WARM_PER_SLOT },
        checkouts: checkouts.map((c) => ({ name: c.name, commit: c.commit, dir: c.dir })),
        results,
        stage_costs_measured_apart: stages,
        runs: Object.fromEntries(runs),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwritten to ${out}`);
}

if (values.child) await childMain();
else await parentMain();
