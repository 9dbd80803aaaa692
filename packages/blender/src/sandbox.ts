import { readFileSync } from 'node:fs';
import { BlenderEnv, parseSome, type EnvSource } from '@synthline/config';

/**
 * How Blender is confined: the environment it may see, the memory it may allocate, and how a
 * death for lack of memory is told from any other crash. Blender reads untrusted model files,
 * so it gets none of the worker's secrets, and a model that explodes in memory fails its frame
 * or scan with MEMORY_LIMIT instead of taking the host, the worker or the other slots with it.
 */

const MiB = 1024 * 1024;

/**
 * PATH without pyenv: Debian's Blender takes its Python from the first python3 on PATH, and a
 * pyenv one brings a standard library without numpy.
 */
export function systemPath(path = ''): string {
  return path
    .split(':')
    .filter((p) => p && !p.includes('/.pyenv/'))
    .join(':');
}

/**
 * Variables Blender may see: locale, home, temp and cache folders, display, the library path
 * (GPU images put the driver's libraries there) and GPU selection. Nothing else: no BLENDER_*
 * (user scripts and add-on folders are not a job's business), no PYTHON*, no LD_PRELOAD.
 */
const BLENDER_ENV_NAMES = new Set([
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'XDG_CACHE_HOME',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XDG_RUNTIME_DIR',
  'EGL_PLATFORM',
  'LIBGL_ALWAYS_SOFTWARE',
  'GPU_DEVICE_ORDINAL',
  'OCIO',
  'LD_LIBRARY_PATH',
]);
const BLENDER_ENV_PREFIXES = ['LC_', 'CUDA_', 'NVIDIA_', 'HIP_', 'ROCR_', 'HSA_', 'MESA_', '__GLX_', '__EGL_', '__GL_', '__NV_', 'OPTIX_'];

/**
 * The environment Blender runs with: an allowlist of `from` (see above), PATH without pyenv, and
 * unbuffered Python. A worker's secrets (AWS keys, REDIS_URL with its password, API keys) never
 * reach Blender, nor a model's scripts through it.
 */
export function blenderEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && (BLENDER_ENV_NAMES.has(k) || BLENDER_ENV_PREFIXES.some((p) => k.startsWith(p)))) env[k] = v;
  }
  env.PATH = systemPath(from.PATH ?? '/usr/local/bin:/usr/bin:/bin');
  env.PYTHONUNBUFFERED = '1';
  return env;
}

/**
 * Default cap on Blender's memory, bytes: `BLENDER_MEMORY_LIMIT_MB` (0 = none) where set, else
 * three quarters of this machine's RAM, at most 8 GiB (the rule, and why, are in
 * @synthline/config's BlenderEnv). Throws EnvError for a bad value.
 */
export function defaultMemoryLimit(env: EnvSource = process.env): number {
  return parseSome(BlenderEnv, ['BLENDER_MEMORY_LIMIT_MB'], env).BLENDER_MEMORY_LIMIT_MB * MiB;
}

/**
 * The command that runs `blender args` under a cap of `limitBytes` (0: none): RLIMIT_DATA, set
 * by a shell that then execs Blender (same process, so signals and pipes are Blender's own).
 * Why RLIMIT_DATA: it counts what Blender can write to (heap, anonymous mappings, thread
 * stacks), not address space merely reserved. CUDA and OptiX reserve tens of GiB of address
 * space at start, which RLIMIT_AS would refuse; a cgroup would need a writable cgroup tree,
 * which containers seldom give. Allocation past the limit fails (malloc returns null, Python
 * raises MemoryError, C++ throws bad_alloc) in Blender alone, instead of the host swapping or
 * the kernel's OOM killer picking a process of its own choice. The cap is per process: N slots
 * may take N times it.
 */
export function cappedCommand(blender: string, args: string[], limitBytes: number): [string, string[]] {
  if (!(limitBytes > 0)) return [blender, args];
  const kib = String(Math.max(1, Math.floor(limitBytes / 1024)));
  return ['/bin/sh', ['-c', 'ulimit -d "$0" || exit 126; exec "$@"', kib, blender, ...args]];
}

/** Whether a line of Blender's log or error says an allocation failed. */
export function looksOutOfMemory(text: string): boolean {
  return OOM_PATTERN.test(text);
}
// Python's MemoryError, numpy's "Unable to allocate", C++'s bad_alloc, Blender's guarded
// allocator ("Malloc returns null: len=... in Cycles Alloc"), Cycles and GPU drivers' "out of memory".
// The dynamic loader too, when the cap leaves no room to load Blender's libraries (seen with
// Debian 13's Blender 4.3: "cannot map zero-fill pages").
const OOM_PATTERN =
  /MemoryError|std::bad_alloc|out of memory|Memory allocation failed|Unable to allocate|returns null|Cannot allocate memory|malloc\(\) failed|cannot map zero-fill pages|failed to map segment from shared object/i;

/** The last line of `text` that says an allocation failed. */
export function oomLineOf(text: string): string | undefined {
  return text
    .split('\n')
    .reverse()
    .find((l) => OOM_PATTERN.test(l));
}

/** VmData of a live process, bytes (what RLIMIT_DATA counts); undefined where unreadable. */
export function readDataBytes(pid: number): number | undefined {
  try {
    const kib = /^VmData:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Processes the kernel's OOM killer has killed since boot (`oom_kill` of /proc/vmstat, which
 * counts kills by a container's memory cgroup too); undefined where unreadable.
 */
export function readOomKills(): number | undefined {
  try {
    const n = /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1];
    return n === undefined ? undefined : Number(n);
  } catch {
    return undefined;
  }
}

/** What is known when a request failed or Blender died. */
export interface MemoryFacts {
  /** The cap Blender ran under, bytes (0: none). */
  limitBytes: number;
  /** A line of Blender's log or of the error that says an allocation failed. */
  oomLine?: string;
  /** The signal that ended Blender, if it died of one. */
  signal?: string;
  /** The driver sent that SIGKILL itself (timeout, close, kill). */
  killedByUs?: boolean;
  /** {@link readOomKills} when Blender started and when it died. */
  oomKillsBefore?: number;
  oomKillsAfter?: number;
  /** The most data (VmData) Blender was seen to hold while the failed requests ran. */
  peakDataBytes?: number;
  /** Blender died before its render server was ready. */
  starting?: boolean;
}

/** Crashes by these signals are what an unchecked failed allocation looks like. */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL']);

/**
 * When the facts say Blender failed for lack of memory, the MEMORY_LIMIT message (naming the
 * cap and how to raise it); else undefined. Four ways:
 * - an allocation failed and said so (MemoryError, bad_alloc, "returns null") under the cap;
 * - the GPU's memory ran out (a driver's "out of memory" naming CUDA, OptiX, HIP, ...);
 * - Blender died of a crash signal while holding data within max(1/4 of the cap, 512 MiB) of
 *   it: code that does not check malloc's result dies of a null pointer instead of saying so,
 *   and a process that close to its cap has most likely hit it (the VmData seen is sampled,
 *   so the margin is wide; a normal frame holds about 0.5 GiB);
 * - the kernel's OOM killer took it (a SIGKILL the driver did not send while the machine's
 *   count of OOM kills grew): the machine or its container ran out before Blender's own cap.
 */
export function memoryLimitMessage(f: MemoryFacts): string | undefined {
  const mib = (b: number) => Math.round(b / MiB);
  const raise = 'raise BLENDER_MEMORY_LIMIT_MB (memoryLimitBytes; 0 = no limit) if the asset is legitimate';
  if (f.oomLine && /\b(CUDA|OptiX|HIP|Metal|oneAPI|GPU)\b/i.test(f.oomLine)) {
    return `the GPU ran out of memory (a model or scene too large for it): ${f.oomLine.trim().slice(0, 200)}`;
  }
  const limit = f.limitBytes > 0 ? f.limitBytes : 0;
  const nearLimit =
    !!limit &&
    !!f.signal &&
    CRASH_SIGNALS.has(f.signal) &&
    f.peakDataBytes !== undefined &&
    f.peakDataBytes >= limit - Math.max(limit / 4, 512 * MiB);
  if (limit && f.starting && (f.oomLine || nearLimit)) {
    return `Blender could not start under its memory limit of ${mib(limit)} MiB (it needs a few hundred MiB, more with many render threads); raise BLENDER_MEMORY_LIMIT_MB (memoryLimitBytes; 0 = no limit)`;
  }
  if (limit && f.oomLine) {
    return `Blender ran out of memory under its limit of ${mib(limit)} MiB (a model or scene too large for it); ${raise}`;
  }
  if (nearLimit) {
    return `Blender died of ${f.signal} holding ${mib(f.peakDataBytes ?? 0)} MiB of its memory limit of ${mib(limit)} MiB: it most likely ran out of memory (a model or scene too large for it); ${raise}`;
  }
  if (
    f.signal === 'SIGKILL' &&
    !f.killedByUs &&
    f.oomKillsBefore !== undefined &&
    f.oomKillsAfter !== undefined &&
    f.oomKillsAfter > f.oomKillsBefore
  ) {
    return `Blender was killed by the kernel's OOM killer: the machine or its container ran out of memory${limit ? ` before Blender reached its own limit of ${mib(limit)} MiB` : ''}; set BLENDER_MEMORY_LIMIT_MB (memoryLimitBytes) below the memory each Blender can really have, so that such a model fails on its own`;
  }
  return undefined;
}
