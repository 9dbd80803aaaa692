import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { coerceError } from '@synthline/base';
import {
  DeviceInfo,
  DevicesLine,
  ProbeResult,
  ReadyLine,
  RenderResult,
  isServerErrorCode,
  type BlenderDevice,
  type FrameOutputs,
  type FramePlan,
  type ProductSource,
  type RenderDeviceKind,
  type WirePlan,
} from '@synthline/spec';
import { chooseDevice, useDeviceRequest, type DeviceChoice, type DeviceKind } from './devices.ts';
import { BlenderError } from './errors.ts';
import { findBlender } from './find-blender.ts';
import {
  blenderEnv,
  cappedCommand,
  defaultMemoryLimit,
  looksOutOfMemory,
  memoryLimitMessage,
  oomLineOf,
  readDataBytes,
  readOomKills,
  type MemoryFacts,
} from './sandbox.ts';

/** The bpy entry point, a fixed versioned file: no user text ever becomes Python source. */
export const RENDER_SERVER_SCRIPT = fileURLToPath(new URL('../../../blender-scripts/render_server.py', import.meta.url));
/** Lists Cycles devices without building a scene (no render server, no numpy). */
const LIST_DEVICES_SCRIPT = fileURLToPath(new URL('../../../blender-scripts/list_devices.py', import.meta.url));

export interface RenderServerOptions {
  /** Blender executable; default {@link findBlender}. */
  blender?: string;
  /** Cycles threads; 0 = all cores. */
  threads?: number;
  /** How long Blender may take to start and build its scene. */
  startTimeoutMs?: number;
  /** Lines of Blender's own stdout/stderr kept for error messages. */
  logLines?: number;
  /**
   * Environment to take Blender's variables from (default `process.env`); only the names
   * {@link blenderEnv} allows reach Blender, whatever else it holds.
   */
  env?: NodeJS.ProcessEnv;
  /** Most memory Blender may allocate, in bytes (RLIMIT_DATA); 0 = no limit. Default {@link defaultMemoryLimit}. */
  memoryLimitBytes?: number;
  /** Cycles device kind; default `auto` (the best GPU kind present, else the CPU). */
  device?: DeviceKind;
  /** Render on this one GPU of the kind (0 = first, Blender's order); default: all of them. */
  deviceIndex?: number;
  /** Render on the CPU when the GPU asked for is absent, instead of failing to start. */
  allowCpuFallback?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Any line the server writes, read loosely; each kind is then checked against its protocol schema. */
interface Reply {
  id?: number | null;
  type?: string;
  ok?: boolean;
  result?: unknown;
  error?: { code?: string; message?: string; traceback?: string };
}

/**
 * Starts Blender with the {@link blenderEnv} environment (execa's `extendEnv: false`: nothing of
 * process.env but the allowlist) and, when `memoryLimitBytes` > 0, under RLIMIT_DATA (see
 * {@link cappedCommand} for why that limit).
 */
function spawnBlender(blender: string, args: string[], env: NodeJS.ProcessEnv | undefined, memoryLimitBytes = 0) {
  const [file, argv] = cappedCommand(blender, args, memoryLimitBytes);
  return execa(file, argv, {
    // fd 3 carries requests, fd 4 replies; stdout and stderr stay Blender's own.
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    cleanup: true,
    extendEnv: false,
    env: blenderEnv({ ...process.env, ...env }),
  });
}

/**
 * One long-lived Blender process running blender-scripts/render_server.py. Requests go in as
 * JSON lines on fd 3, replies come back on fd 4; stdout and stderr are Blender's own logging and
 * are only kept as a tail for error messages. Requests may be pipelined.
 */
export class RenderServer {
  /** Blender's version as reported by the server once it is ready. */
  blenderVersion = '';
  /** Every device Blender found (the CPU included), once ready. */
  devices: BlenderDevice[] = [];
  /** The GPU asked for was absent and the server renders on the CPU instead. */
  deviceFallback = false;
  private usedDevice = '';
  private usedKind: RenderDeviceKind | '' = '';
  private proc: ReturnType<typeof spawnBlender> | undefined;
  private requests: Writable | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly log: string[] = [];
  private exited: Promise<void> | undefined;
  private dead: BlenderError | undefined;
  private readyWaiter: Pending | undefined;
  /** The last line Blender logged about a failed allocation since its last reply. */
  private oomLine: string | undefined;
  /** The most data (VmData) Blender was seen to hold since its last reply, sampled while it works. */
  private peakData = 0;
  private sampler: NodeJS.Timeout | undefined;
  /** The kernel's count of OOM kills when Blender started. */
  private oomKillsAtStart: number | undefined;
  /** The driver sent Blender a SIGKILL itself (a timeout, close or kill), so an OOM killer did not. */
  private killedByUs = false;

  constructor(private readonly opts: RenderServerOptions = {}) {}

  /** Whether the process is running and has not failed. */
  get alive(): boolean {
    return this.proc !== undefined && this.dead === undefined;
  }

  /** The process id, while running. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Blender's last log lines. */
  get logTail(): string[] {
    return [...this.log];
  }

  /** The device the server renders on (`cpu`, `cuda:0 NVIDIA A10`, ...); '' before it is ready. */
  get device(): string {
    return this.usedDevice;
  }

  /** The kind of device it renders on (`cpu`, `cuda`, ...); '' before it is ready. */
  get deviceKind(): RenderDeviceKind | '' {
    return this.usedKind;
  }

  /**
   * Starts Blender and waits for the server's `ready` line. In between, the server lists the
   * devices Blender found and this side decides what it renders on ({@link chooseDevice}).
   */
  async start(): Promise<void> {
    const index = this.opts.deviceIndex;
    if (index !== undefined && !(Number.isInteger(index) && index >= 0)) {
      throw new RangeError(`deviceIndex must be a whole number >= 0, got ${index}`);
    }
    const blender = this.opts.blender ?? findBlender({ ...process.env, ...this.opts.env });
    const args = [
      '-b',
      '--factory-startup',
      '-Y',
      '--python-exit-code',
      '3',
      '-t',
      String(this.opts.threads ?? 0),
      '--python',
      RENDER_SERVER_SCRIPT,
      '--',
      '--in-fd',
      '3',
      '--out-fd',
      '4',
    ];
    this.oomKillsAtStart = readOomKills();
    const proc = spawnBlender(blender, args, this.opts.env, this.memoryLimit);
    this.proc = proc;
    if (this.memoryLimit > 0) {
      // What Blender holds near its death tells a failed allocation from another crash (see memoryLimitMessage).
      this.sampler = setInterval(() => this.sampleData(), 50);
      this.sampler.unref();
    }
    const fds = proc.stdio as unknown as (Readable | Writable | null)[];
    this.requests = fds[3] as Writable;
    this.requests.on('error', () => undefined); // EPIPE after a crash is reported by the exit
    for (const stream of [proc.stdout, proc.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (l) => this.keepLog(l));
    }
    createInterface({ input: fds[4] as Readable }).on('line', (l) => this.onReply(l));
    this.exited = proc.then(
      (r) => this.onExit(r.exitCode, r.signal ?? undefined, r.failed ? r.message : undefined),
      (e: unknown) => this.onExit(undefined, undefined, coerceError(e).message),
    );

    const ready = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.fail('BLENDER_START_FAILED', `Blender did not become ready within ${this.startTimeout} ms`)),
        this.startTimeout,
      );
      this.readyWaiter = { resolve, reject, timer };
    });
    try {
      await ready;
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Renders one frame; rejects with a {@link BlenderError} on failure, timeout or crash. */
  async render(plan: FramePlan, outputs: FrameOutputs, timeoutMs: number): Promise<RenderResult> {
    const wire: WirePlan = { ...plan, outputs: { mask: null, depth: null, ...outputs } };
    const raw = await this.request('render', { plan: wire }, timeoutMs);
    return RenderResult.parse({ device: this.usedDevice, ...(raw as object) });
  }

  /** The device in use and every device Blender found, asked of the running server. */
  async queryDevices(timeoutMs = 10_000): Promise<DeviceInfo> {
    return DeviceInfo.parse(await this.request('devices', {}, timeoutMs));
  }

  /** Imports a model file and reports what is in it, without keeping it in the scene. */
  async probe(source: ProductSource, timeoutMs: number): Promise<ProbeResult> {
    return ProbeResult.parse(await this.request('probe', { source }, timeoutMs));
  }

  /** Round trip to the server; returns its resident memory. */
  async ping(timeoutMs = 10_000): Promise<{ rss_bytes: number }> {
    return (await this.request('ping', {}, timeoutMs)) as { rss_bytes: number };
  }

  /** Asks the server to exit, then kills it if it has not within `graceMs`. Safe to call twice. */
  async close(graceMs = 5_000): Promise<void> {
    if (!this.proc) return;
    if (this.alive) {
      try {
        this.requests?.write(`${JSON.stringify({ id: this.nextId++, op: 'shutdown' })}\n`);
        this.requests?.end();
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => this.sigkill(), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process at once (a hung frame). */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.sigkill();
    await this.exited;
  }

  /** The memory cap Blender runs under, bytes (0: none). */
  get memoryLimit(): number {
    return this.opts.memoryLimitBytes ?? defaultMemoryLimit();
  }

  /** A MEMORY_LIMIT error naming the cap, when the facts say Blender failed for lack of memory. */
  private memoryError(facts: Omit<MemoryFacts, 'limitBytes'>, logTail: string[]): BlenderError | undefined {
    const message = memoryLimitMessage({ limitBytes: this.memoryLimit, ...facts });
    return message === undefined ? undefined : new BlenderError('MEMORY_LIMIT', message, logTail);
  }

  private sigkill(): void {
    this.killedByUs = true;
    this.proc?.kill('SIGKILL');
  }

  /** Notes the data Blender holds, while it works on a request or starts. */
  private sampleData(): void {
    const pid = this.proc?.pid;
    if (pid === undefined || this.dead || (this.pending.size === 0 && !this.readyWaiter)) return;
    const data = readDataBytes(pid);
    if (data !== undefined && data > this.peakData) this.peakData = data;
  }

  private get startTimeout(): number {
    return this.opts.startTimeoutMs ?? 60_000;
  }

  private request(op: string, body: object, timeoutMs: number): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    if (!this.requests) return Promise.reject(new BlenderError('SERVER_CLOSED', 'render server is not started'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = this.fail('FRAME_TIMEOUT', `Blender did not answer "${op}" within ${timeoutMs} ms; killed it`);
        this.sigkill();
        reject(err);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.requests?.write(`${JSON.stringify({ id, op, ...body })}\n`);
    });
  }

  private onReply(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      this.keepLog(`[protocol] unparseable reply: ${line.slice(0, 200)}`);
      return;
    }
    if (msg.type === 'devices') {
      this.onDevices(msg);
      return;
    }
    if (msg.type === 'error' && msg.id === undefined) {
      // The server could not switch to the device it was told (it waits for us to kill it).
      const e = msg.error ?? {};
      this.startFailed(this.fail('BLENDER_START_FAILED', e.message ?? 'the render server could not start'));
      return;
    }
    if (msg.type === 'ready') {
      const ready = ReadyLine.safeParse(msg);
      if (!ready.success) {
        this.startFailed(
          this.fail('BLENDER_START_FAILED', `the render server's ready line does not match the protocol: ${ready.error.message}`),
        );
        return;
      }
      this.blenderVersion = ready.data.blender_version;
      this.usedDevice = ready.data.device;
      this.usedKind = ready.data.device_kind;
      const w = this.readyWaiter;
      this.readyWaiter = undefined;
      if (w) {
        clearTimeout(w.timer);
        w.resolve(undefined);
      }
      return;
    }
    if (msg.id === undefined || msg.id === null) return;
    const oomLine = this.oomLine;
    this.oomLine = undefined;
    this.peakData = 0;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else {
      const e = msg.error ?? {};
      const detail = e.traceback ? [...this.log, ...e.traceback.split('\n')] : this.logTail;
      // Python raised MemoryError (or an importer gave up) under the cap: the process lives on, but the request failed for memory.
      const oom = this.memoryError({ oomLine: oomLineOf(`${e.message ?? ''}\n${e.traceback ?? ''}`) ?? oomLine }, detail);
      // The server's code is the error's code (the protocol's enum); one it should not send stays visible in the message.
      const err = isServerErrorCode(e.code)
        ? new BlenderError(e.code, e.message ?? 'render failed', detail)
        : new BlenderError('FRAME_FAILED', `${e.code ?? 'ERROR'}: ${e.message ?? 'render failed'}`, detail);
      p.reject(oom ?? err);
    }
  }

  private onExit(code: number | undefined, signal: string | undefined, message?: string): void {
    clearInterval(this.sampler);
    const how = signal ? `killed by ${signal}` : `exited with code ${code ?? '?'}`;
    // A death for lack of memory: a failed allocation in its last words, a crash near the cap, the OOM killer.
    const starting = this.readyWaiter !== undefined;
    const oom = this.dead
      ? undefined
      : this.memoryError(
          {
            oomLine: this.oomLine,
            signal,
            killedByUs: this.killedByUs,
            oomKillsBefore: this.oomKillsAtStart,
            oomKillsAfter: signal === 'SIGKILL' && !this.killedByUs ? readOomKills() : undefined,
            peakDataBytes: this.peakData,
            starting,
          },
          this.logTail,
        );
    if (oom) this.dead = oom;
    const err =
      this.dead ?? this.fail('BLENDER_CRASHED', `Blender ${how}${message && !signal && code === undefined ? `: ${message}` : ''}`);
    // Requests run in order: the oldest pending one ran out of memory; those queued behind it
    // are innocent, and get an error a fresh process may retry.
    let first = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(
        first || err.code !== 'MEMORY_LIMIT'
          ? err
          : new BlenderError('BLENDER_CRASHED', `Blender died on an earlier request: ${err.message}`, err.logTail),
      );
      first = false;
    }
    this.pending.clear();
    const w = this.readyWaiter;
    this.readyWaiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(oom ?? new BlenderError('BLENDER_START_FAILED', `Blender ${how} before it was ready`, this.logTail));
    }
  }

  /**
   * The server's first line: every device Blender found. Decides what to render on and answers
   * `use_device`; a GPU that is not there fails the start (the process is killed by start()).
   */
  private onDevices(msg: Reply): void {
    const line = DevicesLine.safeParse(msg);
    if (!line.success) {
      this.startFailed(
        this.fail('BLENDER_START_FAILED', `the render server's devices line does not match the protocol: ${line.error.message}`),
      );
      return;
    }
    this.devices = line.data.devices;
    let choice: DeviceChoice;
    try {
      choice = chooseDevice(this.devices, this.opts.device ?? 'auto', this.opts.deviceIndex, this.opts.allowCpuFallback ?? false);
    } catch (err) {
      const e = coerceError(err);
      this.startFailed(this.fail(e instanceof BlenderError ? e.code : 'BLENDER_START_FAILED', e.message));
      return;
    }
    this.deviceFallback = choice.fallback;
    if (choice.fallback) this.keepLog(`[device] ${choice.note}; rendering on the CPU`);
    this.requests?.write(`${JSON.stringify(useDeviceRequest(choice))}\n`);
  }

  /** Rejects the start with `err`. */
  private startFailed(err: BlenderError): void {
    const w = this.readyWaiter;
    this.readyWaiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Marks the server dead with the first error that killed it. */
  private fail(code: BlenderError['code'], message: string): BlenderError {
    this.dead ??= new BlenderError(code, message, this.logTail);
    return this.dead;
  }

  private keepLog(line: string): void {
    if (looksOutOfMemory(line)) this.oomLine = line;
    this.log.push(line);
    const max = this.opts.logLines ?? 40;
    if (this.log.length > max) this.log.splice(0, this.log.length - max);
  }
}

/**
 * The devices Blender finds (the CPU included), without building a scene: spawns Blender once
 * with blender-scripts/list_devices.py. Throws a {@link BlenderError} if Blender fails.
 */
export async function listDevices(
  blender: string = findBlender(),
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<BlenderDevice[]> {
  return (await devicesLine(blender, false, opts)).devices;
}

/** What `synthline doctor` learns from one Blender start: version, devices, Python, numpy, importers, engines. */
export type BlenderReport = DevicesLine & { report: NonNullable<DevicesLine['report']> };

/** {@link listDevices} with list_devices.py's `--report`: see {@link BlenderReport}. */
export async function probeBlender(
  blender: string = findBlender(),
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<BlenderReport> {
  const line = await devicesLine(blender, true, opts);
  if (!line.report) throw new BlenderError('BLENDER_START_FAILED', 'list_devices.py --report answered without a report');
  return line as BlenderReport;
}

async function devicesLine(blender: string, report: boolean, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<DevicesLine> {
  const args = [
    '-b',
    '--factory-startup',
    '-Y',
    '--python-exit-code',
    '3',
    '--python',
    LIST_DEVICES_SCRIPT,
    '--',
    '--out-fd',
    '4',
    ...(report ? ['--report'] : []),
  ];
  const proc = spawnBlender(blender, args, opts.env);
  const fds = proc.stdio as unknown as (Readable | Writable | null)[];
  const log: string[] = [];
  const keep = (l: string) => {
    log.push(l);
    if (log.length > 40) log.shift();
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', keep);
  }
  let found: DevicesLine | undefined;
  const replies = createInterface({ input: fds[4] as Readable });
  const repliesDone = new Promise<void>((res) => replies.on('close', res));
  replies.on('line', (l) => {
    try {
      const msg = DevicesLine.safeParse(JSON.parse(l));
      if (msg.success) found = msg.data;
      else keep(`[protocol] not a devices line: ${l.slice(0, 200)}`);
    } catch {
      keep(`[protocol] unparseable reply: ${l.slice(0, 200)}`);
    }
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  try {
    const [r] = await Promise.all([proc, repliesDone]);
    if (found) return found;
    const how = r.signal
      ? `was killed by ${r.signal}${r.signal === 'SIGKILL' ? ` (no answer within ${timeoutMs} ms?)` : ''}`
      : `exited with code ${r.exitCode ?? '?'}`;
    throw new BlenderError('BLENDER_START_FAILED', `Blender listed no devices: it ${how}`, log);
  } finally {
    clearTimeout(timer);
  }
}
