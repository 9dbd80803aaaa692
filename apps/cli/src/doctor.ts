import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, parseCommand } from './exit.ts';
import { usageOf } from './usage.ts';
import { Redis } from 'ioredis';
import { GPU_KINDS, parseSpec, type BlenderDevice, type RenderDeviceKind, type RenderResult } from '@synthline/spec';
import { coerceError } from '@synthline/base';
import { EnvError, loadWorkerEnv, type EnvSource, type WorkerEnv } from '@synthline/config';
import { plan } from '@synthline/planner';
import {
  BlenderError,
  RenderSlot,
  chooseDevice,
  describeDevices,
  devicesOfKind,
  findBlender,
  probeBlender,
  type BlenderReport,
} from '@synthline/blender';
import { openStorage } from '@synthline/storage';
import { AssetLibrary } from '@synthline/library';

/**
 * `synthline doctor`: can this machine serve as a worker? Each check reports what it found and,
 * for each problem, one line naming it and one naming the fix. A `fail` means the machine cannot
 * serve (the exit code says so); a `warn` is worth fixing but does not stop a worker.
 */

export type CheckName = 'environment' | 'blender' | 'devices' | 'redis' | 'storage' | 'library' | 'render';
export type Severity = 'fail' | 'warn';

export interface Problem {
  severity: Severity;
  problem: string;
  fix: string;
}

export interface Check {
  name: CheckName;
  /** `skip`: not checked because a check it needs failed (named in `summary`). */
  status: 'ok' | 'warn' | 'fail' | 'skip';
  summary: string;
  problems: Problem[];
  details: Record<string, unknown>;
}

/** One device's frames in the render check (and `--render N`, the GPU smoke test). */
export interface DeviceRun {
  /** `cpu`, or a GPU kind present. */
  kind: RenderDeviceKind;
  /** What rendered: `cpu`, `cuda:0 NVIDIA A10`, ... */
  device: string;
  frames: number;
  /** Starting Blender and building the scene. */
  start_s: number;
  /** Rendering the frames, start excluded. */
  render_s: number;
  frames_per_s: number;
  /** Against the CPU's frames/s (1 on the CPU). */
  speedup: number;
  /** Frames whose bbox differs from the CPU's by more than 2 px (GPU runs only). */
  label_mismatches: number;
  error?: string;
}

export interface DoctorReport {
  /** Whether this machine can serve: no check failed. */
  can_serve: boolean;
  checks: Check[];
}

export interface DoctorOptions {
  env?: EnvSource;
  /** Frames per device in the render check (`--render N`); default 1. */
  renderFrames?: number;
  /** Timeout of the Redis connection, ms. */
  redisTimeoutMs?: number;
}

const check = (name: CheckName, summary: string, problems: Problem[] = [], details: Record<string, unknown> = {}): Check => ({
  name,
  status: problems.some((p) => p.severity === 'fail') ? 'fail' : problems.length > 0 ? 'warn' : 'ok',
  summary,
  problems,
  details,
});
const fail = (problem: string, fix: string): Problem => ({ severity: 'fail', problem, fix });
const warn = (problem: string, fix: string): Problem => ({ severity: 'warn', problem, fix });
const skipped = (name: CheckName, why: string): Check => ({
  name,
  status: 'skip',
  summary: `not checked: ${why}`,
  problems: [],
  details: {},
});

/** The oldest Blender synthline supports (its compat layer covers 3.4 to 4.x). */
const MIN_BLENDER: [number, number] = [3, 4];
/** The oldest Redis BullMQ runs on. */
const MIN_REDIS: [number, number] = [5, 0];

function atLeast(version: string, min: [number, number]): boolean {
  const [a = 0, b = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  return a > min[0] || (a === min[0] && b >= min[1]);
}

/** Runs every check; never throws for what it finds (only for its own bugs). */
export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const checks: Check[] = [];

  let cfg: WorkerEnv | undefined;
  try {
    cfg = loadWorkerEnv(env);
    checks.push(check('environment', 'the worker settings parse'));
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    checks.push(
      check(
        'environment',
        'the worker settings do not parse',
        err.problems.map((p) => fail(`${p.variable}: ${p.message}`, `set ${p.variable} to a valid value, or unset it for the default`)),
      ),
    );
  }

  const blender = await checkBlender(env);
  checks.push(blender.check);
  checks.push(blender.report ? checkDevices(blender.report.devices, cfg) : skipped('devices', 'Blender did not start'));
  checks.push(cfg ? await checkRedis(cfg.REDIS_URL, opts.redisTimeoutMs ?? 3000) : skipped('redis', 'REDIS_URL does not parse'));
  checks.push(cfg ? await checkStorage(cfg.SYNTHLINE_OUTPUT, env) : skipped('storage', 'SYNTHLINE_OUTPUT does not parse'));
  checks.push(cfg ? await checkLibrary(cfg.SYNTHLINE_LIBRARY) : skipped('library', 'SYNTHLINE_LIBRARY does not parse'));
  checks.push(
    blender.report && blender.path
      ? await checkRender(blender.path, blender.report.devices, opts.renderFrames ?? 1, env, cfg?.BLENDER_THREADS ?? 0)
      : skipped('render', 'Blender did not start'),
  );
  return { can_serve: !checks.some((c) => c.status === 'fail'), checks };
}

async function checkBlender(env: EnvSource): Promise<{ check: Check; report?: BlenderReport; path?: string }> {
  let path: string;
  try {
    path = findBlender(env as NodeJS.ProcessEnv);
  } catch (err) {
    const e = coerceError(err);
    return {
      check: check('blender', 'Blender not found', [
        fail(
          e.message.split('. ')[0] ?? e.message,
          'apt-get install -y blender python3-numpy (Debian/Ubuntu), or set BLENDER=/path/to/blender',
        ),
      ]),
    };
  }
  let report: BlenderReport;
  try {
    report = await probeBlender(path, { env: env as NodeJS.ProcessEnv });
  } catch (err) {
    const e = coerceError(err);
    const tail = err instanceof BlenderError ? err.logTail.slice(-3).join(' | ') : '';
    return {
      path,
      check: check('blender', `${path} does not start`, [
        fail(
          `${e.message}${tail ? ` (last lines: ${tail})` : ''}`,
          'run it by hand: blender -b --factory-startup --version; reinstall it if it fails',
        ),
      ]),
    };
  }
  const r = report.report;
  const problems: Problem[] = [];
  if (!atLeast(report.blender_version, MIN_BLENDER)) {
    problems.push(
      fail(
        `Blender ${report.blender_version} is older than ${MIN_BLENDER.join('.')}`,
        'install Blender 3.4 or later (Debian 12: apt-get install blender)',
      ),
    );
  }
  if (!r.numpy) {
    problems.push(
      fail(
        `Blender's Python ${r.python} cannot import numpy (${r.numpy_error ?? 'not installed'})`,
        "apt-get install -y python3-numpy (Debian's Blender uses the system Python); official builds bundle it",
      ),
    );
  }
  const missing = r.importers.filter((i) => i.operator === null).map((i) => i.format);
  if (missing.length > 0) {
    problems.push(
      warn(
        `no importer for ${missing.join(', ')}: library products in these formats cannot be scanned`,
        'use Blender 3.4 or later with its bundled add-ons enabled',
      ),
    );
  }
  const importers = r.importers.filter((i) => i.operator !== null).map((i) => i.format);
  return {
    path,
    report,
    check: check(
      'blender',
      `${path}: Blender ${report.blender_version}, Python ${r.python}, numpy ${r.numpy ?? 'missing'}; importers: ${importers.join(' ')}; engines: ${r.engines.map((e) => e.engine).join(' ')}`,
      problems,
      { path, version: report.blender_version, python: r.python, numpy: r.numpy, importers: r.importers, engines: r.engines },
    ),
  };
}

function checkDevices(devices: BlenderDevice[], cfg: WorkerEnv | undefined): Check {
  const gpus = GPU_KINDS.filter((k) => devicesOfKind(devices, k).length > 0);
  const auto = chooseDevice(devices, 'auto');
  const details: Record<string, unknown> = { devices, gpu_kinds: gpus, auto: auto.label };
  const problems: Problem[] = [];
  const wanted = cfg?.WORKER_DEVICE ?? 'auto';
  let summary = `${describeDevices(devices)}; auto renders on ${auto.label}`;
  if (gpus.length === 0) summary += ' (no GPU: the CPU renders)';
  if (wanted !== 'auto') {
    try {
      const c = chooseDevice(devices, wanted, undefined, cfg?.WORKER_ALLOW_CPU_FALLBACK ?? false);
      details.worker_device = c.label;
      summary += `; WORKER_DEVICE=${wanted} renders on ${c.label}`;
      if (c.fallback)
        problems.push(
          warn(
            `WORKER_DEVICE=${wanted}: ${c.note}; the worker falls back to the CPU`,
            `install the ${wanted.toUpperCase()} driver, or set WORKER_DEVICE=auto`,
          ),
        );
    } catch (err) {
      problems.push(
        fail(
          `WORKER_DEVICE=${wanted}: ${coerceError(err).message}`,
          `install the ${wanted.toUpperCase()} driver and runtime, set WORKER_DEVICE=auto (or cpu), or WORKER_ALLOW_CPU_FALLBACK=1`,
        ),
      );
    }
  }
  return check('devices', summary, problems, details);
}

/** `field:value` lines of Redis INFO. */
function infoFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

async function checkRedis(url: string, timeoutMs: number): Promise<Check> {
  const where = url.replace(/\/\/[^@/]*@/, '//***@'); // no password in the report
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // connect() rejects with "Connection is closed."; the reason (ECONNREFUSED, ENOTFOUND, auth) is the last 'error' event.
  let cause: Error | undefined;
  redis.on('error', (e: Error) => {
    cause = e;
  });
  try {
    await redis.connect();
    const info = infoFields(await redis.info());
    const version = info.get('redis_version') ?? '?';
    const policy = info.get('maxmemory_policy') ?? '?';
    const aof = info.get('aof_enabled') === '1';
    let save = '';
    try {
      const r = (await redis.config('GET', 'save')) as string[];
      save = r[1] ?? '';
    } catch {
      save = '?'; // CONFIG may be renamed or forbidden by ACL: say unknown, do not fail
    }
    const persistence = aof
      ? 'AOF'
      : save && save !== '?'
        ? `RDB snapshots (save ${save})`
        : save === '?'
          ? 'unknown (CONFIG GET refused)'
          : 'none';
    const problems: Problem[] = [];
    if (!atLeast(version, MIN_REDIS))
      problems.push(
        fail(
          `Redis ${version} is older than ${MIN_REDIS.join('.')}, which BullMQ needs`,
          'upgrade Redis (Debian 12: apt-get install redis-server gives 7.0)',
        ),
      );
    if (policy !== 'noeviction') {
      problems.push(
        fail(
          `maxmemory-policy is ${policy}: Redis may evict queued jobs under memory pressure`,
          'set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)',
        ),
      );
    }
    if (persistence === 'none')
      problems.push(
        warn('Redis persists nothing: a Redis restart loses every queued job', 'set appendonly yes (or a save schedule) in redis.conf'),
      );
    return check('redis', `${where}: Redis ${version}, maxmemory-policy ${policy}, persistence ${persistence}`, problems, {
      url: where,
      version,
      maxmemory_policy: policy,
      persistence,
    });
  } catch (err) {
    const e = cause ?? coerceError(err);
    return check('redis', `${where} unreachable`, [
      fail(`cannot reach Redis at ${where}: ${e.message}`, 'start Redis (apt-get install redis-server), or set REDIS_URL to where it runs'),
    ]);
  } finally {
    redis.disconnect();
  }
}

async function checkStorage(url: string, env: EnvSource): Promise<Check> {
  const probeJob = `doctor-probe-${randomBytes(6).toString('hex')}`;
  const data = `synthline doctor ${new Date().toISOString()}\n`;
  let where = url;
  try {
    const storage = openStorage(url, env);
    where = storage.url(probeJob).replace(`/${probeJob}`, '');
    await storage.check();
    if (!(await storage.commitBytes(probeJob, 'probe.txt', data))) throw new Error('a probe object with the same name already exists');
    const got = await storage.withFile(probeJob, 'probe.txt', (p) => readFile(p, 'utf8'));
    if (got !== data) throw new Error('the probe object read back differs from what was written');
    await storage.remove(probeJob);
    await storage.release(probeJob);
    if (await storage.exists(probeJob, 'probe.txt')) throw new Error('the probe object is still there after deleting it');
    return check('storage', `${where}: wrote, read and deleted a probe object`, [], { url: where });
  } catch (err) {
    const e = coerceError(err);
    return check('storage', `${where} cannot be used`, [
      fail(
        `output storage ${where}: ${e.message}`,
        'make SYNTHLINE_OUTPUT a folder this user can write (or an s3:// bucket with write access)',
      ),
    ]);
  }
}

async function checkLibrary(root: string): Promise<Check> {
  try {
    const lib = await AssetLibrary.open(root);
    const total = lib.folders.length;
    if (total === 0)
      return check('library', `${lib.source}: no library products (specs use the builtin catalog)`, [], { root: lib.source, products: 0 });
    const unusable = lib.folders.filter((f) => f.errors.length > 0).map((f) => f.id);
    const failed = lib.folders.filter((f) => f.errors.length === 0 && lib.current(f.id)?.ok === false).map((f) => f.id);
    const unscanned = lib.folders.filter((f) => f.errors.length === 0 && lib.current(f.id) === undefined).map((f) => f.id);
    const usable = total - unusable.length - failed.length - unscanned.length;
    const problems: Problem[] = [];
    if (unscanned.length > 0)
      problems.push(
        warn(`${unscanned.length} product(s) not scanned since they changed: ${unscanned.slice(0, 5).join(', ')}`, 'synthline assets scan'),
      );
    if (failed.length + unusable.length > 0) {
      problems.push(
        warn(
          `${failed.length + unusable.length} product(s) unusable: ${[...unusable, ...failed].slice(0, 5).join(', ')}`,
          "see synthline assets scan for each one's error, fix the files and scan again",
        ),
      );
    }
    return check(
      'library',
      `${lib.source}: ${total} products, ${usable} usable, ${lib.backgrounds.length} background photos, ${lib.hdris.length} HDRIs`,
      problems,
      {
        root: lib.source,
        products: total,
        usable,
        unscanned,
        unusable: [...unusable, ...failed],
      },
    );
  } catch (err) {
    return check('library', `${root} cannot be read`, [
      fail(`asset library ${root}: ${coerceError(err).message}`, 'make SYNTHLINE_LIBRARY a readable folder (or s3:// prefix), or unset it'),
    ]);
  }
}

/** The spec of the render check: small and fast, but the real scene. */
const doctorSpec = (frames: number) => parseSpec({ name: 'doctor', seed: 1, count: frames, render: { resolution: [64, 64], samples: 4 } });

async function renderOn(kind: RenderDeviceKind, frames: number, blender: string, env: EnvSource, threads: number, dir: string) {
  const spec = doctorSpec(frames);
  const slot = new RenderSlot({
    blender,
    device: kind,
    env: env as NodeJS.ProcessEnv,
    threads,
    maxFramesPerProcess: frames + 1,
    attempts: 1,
  });
  const results: RenderResult[] = [];
  try {
    const t0 = performance.now();
    await slot.warm();
    const t1 = performance.now();
    for (let i = 0; i < frames; i++) results.push(await slot.render(plan(spec, i), { image: join(dir, `${kind}-${i}.png`), mask: null }));
    const t2 = performance.now();
    return { device: slot.device, start_s: (t1 - t0) / 1000, render_s: (t2 - t1) / 1000, results };
  } finally {
    await slot.close();
  }
}

async function checkRender(blender: string, devices: BlenderDevice[], frames: number, env: EnvSource, threads: number): Promise<Check> {
  const kinds: RenderDeviceKind[] = ['cpu', ...GPU_KINDS.filter((k) => devicesOfKind(devices, k).length > 0)];
  const dir = await mkdtemp(join(tmpdir(), 'synthline-doctor-'));
  const runs: DeviceRun[] = [];
  const problems: Problem[] = [];
  let cpu: { fps: number; boxes: (RenderResult['bbox'] | null)[] } | undefined;
  try {
    for (const kind of kinds) {
      try {
        const r = await renderOn(kind, frames, blender, env, threads, dir);
        const fps = frames / Math.max(r.render_s, 1e-6);
        const boxes = r.results.map((x) => x.bbox);
        if (kind === 'cpu') cpu = { fps, boxes };
        const mismatches = cpu && kind !== 'cpu' ? boxes.filter((b, i) => !sameBox(b, cpu?.boxes[i] ?? null)).length : 0;
        runs.push({
          kind,
          device: r.device,
          frames,
          start_s: round(r.start_s),
          render_s: round(r.render_s),
          frames_per_s: round(fps),
          speedup: cpu ? round(fps / cpu.fps) : 1,
          label_mismatches: mismatches,
        });
        if (mismatches > 0)
          problems.push(
            warn(
              `${kind}: ${mismatches} of ${frames} frames have a bbox more than 2 px from the CPU's`,
              'compare the Blender versions and drivers; report it with `synthline doctor --render N --json`',
            ),
          );
      } catch (err) {
        const e = coerceError(err);
        runs.push({
          kind,
          device: kind,
          frames,
          start_s: 0,
          render_s: 0,
          frames_per_s: 0,
          speedup: 0,
          label_mismatches: 0,
          error: e.message,
        });
        problems.push(
          fail(
            `rendering on ${kind} failed: ${e.message}`,
            kind === 'cpu'
              ? "run synthline render examples/quickstart.json --out /tmp/q to see Blender's log"
              : `check the ${kind.toUpperCase()} driver (nvidia-smi), or set WORKER_DEVICE=cpu`,
          ),
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const summary = runs
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${r.device}: ${r.frames} frame(s) 64x64 at ${r.frames_per_s} frames/s (start ${r.start_s} s)${r.kind === 'cpu' ? '' : `, ${r.speedup}x the CPU`}`,
    )
    .join('; ');
  return check('render', summary || 'no device rendered', problems, { runs });
}

const round = (x: number) => Math.round(x * 100) / 100;

function sameBox(a: RenderResult['bbox'] | null, b: RenderResult['bbox'] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.every((v, i) => Math.abs(v - (b[i] as number)) <= 2);
}

/** The report for a person: one line per check, then one `problem` and one `fix` line per problem. */
export function formatReport(r: DoctorReport): string {
  const tag = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${tag[c.status]}  ${c.name.padEnd(11)} ${c.summary}`);
    for (const p of c.problems) {
      lines.push(`      ${p.severity === 'fail' ? 'problem' : 'warning'}: ${p.problem}`);
      lines.push(`      fix: ${p.fix}`);
    }
  }
  const failed = r.checks.filter((c) => c.status === 'fail').map((c) => c.name);
  lines.push(r.can_serve ? 'this machine can serve as a worker' : `this machine cannot serve as a worker: ${failed.join(', ')} failed`);
  return `${lines.join('\n')}\n`;
}

/** `synthline doctor [--json] [--render N]`: exit 0 when this machine can serve, 1 when not. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'doctor',
    usageOf('doctor'),
    argv,
    { json: { type: 'boolean', default: false }, render: { type: 'string' } },
    false,
  );
  let renderFrames = 1;
  if (values.render !== undefined) {
    renderFrames = Number(values.render);
    if (!(Number.isInteger(renderFrames) && renderFrames >= 1 && renderFrames <= 1000)) {
      throw new UsageError(`doctor: --render expects a whole number of frames from 1 to 1000, got "${values.render}"`, usageOf('doctor'));
    }
  }
  const report = await runDoctor({ renderFrames });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.can_serve ? 0 : 1;
}
