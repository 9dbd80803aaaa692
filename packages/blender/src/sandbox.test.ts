import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blenderEnv, cappedCommand, defaultMemoryLimit, memoryLimitMessage, oomLineOf, readDataBytes, readOomKills } from './sandbox.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test('blenderEnv keeps the allowlist and drops everything else', () => {
  const env = blenderEnv({
    PATH: '/root/.pyenv/shims:/usr/local/bin:/usr/bin',
    HOME: '/home/w',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TMPDIR: '/tmp/x',
    CUDA_VISIBLE_DEVICES: '1',
    NVIDIA_VISIBLE_DEVICES: 'all',
    HIP_VISIBLE_DEVICES: '0',
    LD_LIBRARY_PATH: '/usr/local/nvidia/lib64',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_ACCESS_KEY_ID: 'id',
    REDIS_URL: 'redis://:pw@h:6379',
    SYNTHLINE_API_KEYS: 'k',
    BLENDER_USER_SCRIPTS: '/evil',
    PYTHONPATH: '/evil',
    PYTHONUNBUFFERED: '0',
    LD_PRELOAD: '/evil.so',
    NODE_OPTIONS: '--inspect',
    BLENDER: '/opt/blender/blender',
  });
  assert.deepEqual(Object.keys(env).sort(), [
    'CUDA_VISIBLE_DEVICES',
    'HIP_VISIBLE_DEVICES',
    'HOME',
    'LANG',
    'LC_ALL',
    'LD_LIBRARY_PATH',
    'NVIDIA_VISIBLE_DEVICES',
    'PATH',
    'PYTHONUNBUFFERED',
    'TMPDIR',
  ]);
  assert.equal(env.PATH, '/usr/local/bin:/usr/bin', 'pyenv left out');
  assert.equal(env.PYTHONUNBUFFERED, '1');
  assert.equal(blenderEnv({}).PATH, '/usr/local/bin:/usr/bin:/bin');
});

test('defaultMemoryLimit: BLENDER_MEMORY_LIMIT_MB, 0 = none, else 3/4 of RAM up to 8 GiB', () => {
  assert.equal(defaultMemoryLimit({ BLENDER_MEMORY_LIMIT_MB: '1024' }), GiB);
  assert.equal(defaultMemoryLimit({ BLENDER_MEMORY_LIMIT_MB: '0' }), 0);
  const auto = defaultMemoryLimit({});
  assert.ok(auto > 0 && auto <= 8 * GiB);
  assert.equal(defaultMemoryLimit({ BLENDER_MEMORY_LIMIT_MB: '' }), auto);
  for (const bad of ['-1', '1.5', 'lots'])
    assert.throws(() => defaultMemoryLimit({ BLENDER_MEMORY_LIMIT_MB: bad }), /BLENDER_MEMORY_LIMIT_MB: ".*" is not a whole number/);
});

test('cappedCommand sets RLIMIT_DATA in KiB through a shell that execs Blender; 0 runs it plainly', () => {
  assert.deepEqual(cappedCommand('/usr/bin/blender', ['-b'], 0), ['/usr/bin/blender', ['-b']]);
  const [file, args] = cappedCommand('/usr/bin/blender', ['-b', '--', 'x y'], GiB);
  assert.equal(file, '/bin/sh');
  assert.deepEqual(args.slice(2), ['1048576', '/usr/bin/blender', '-b', '--', 'x y']);
  assert.match(args[1] ?? '', /ulimit -d "\$0".*exec "\$@"/);
});

test('memoryLimitMessage tells a death for lack of memory from any other failure', () => {
  const limitBytes = GiB;
  // A failed allocation that says so: Python, numpy, C++, Blender's allocator.
  for (const line of [
    'MemoryError',
    'numpy.core._exceptions._ArrayMemoryError: Unable to allocate 4.47 GiB for an array',
    "terminate called after throwing an instance of 'std::bad_alloc'",
    'Malloc returns null: len=268435456 in Cycles Alloc, total 689126928',
  ]) {
    assert.match(
      memoryLimitMessage({ limitBytes, oomLine: line }) ?? '',
      /^Blender ran out of memory under its limit of 1024 MiB .*BLENDER_MEMORY_LIMIT_MB/,
      line,
    );
    assert.equal(oomLineOf(`a\n${line}\nb`), line);
  }
  assert.equal(memoryLimitMessage({ limitBytes: 0, oomLine: 'MemoryError' }), undefined, 'no cap, no MEMORY_LIMIT');
  assert.match(
    memoryLimitMessage({ limitBytes, oomLine: 'MemoryError', starting: true }) ?? '',
    /could not start under its memory limit of 1024 MiB/,
  );
  // The GPU's memory: raising the host's cap would not help, and the message does not say it would.
  const gpu = memoryLimitMessage({ limitBytes, oomLine: 'CUDA error: Out of memory in cuMemAlloc(&device_pointer, size)' }) ?? '';
  assert.match(gpu, /^the GPU ran out of memory/);
  assert.doesNotMatch(gpu, /BLENDER_MEMORY_LIMIT_MB/);
  // A crash near the cap (an unchecked malloc), but not one far below it.
  assert.match(
    memoryLimitMessage({ limitBytes, signal: 'SIGSEGV', peakDataBytes: 900 * MiB }) ?? '',
    /died of SIGSEGV holding 900 MiB of its memory limit of 1024 MiB/,
  );
  assert.equal(memoryLimitMessage({ limitBytes, signal: 'SIGSEGV', peakDataBytes: 400 * MiB }), undefined);
  assert.equal(
    memoryLimitMessage({ limitBytes: 8 * GiB, signal: 'SIGABRT', peakDataBytes: 500 * MiB }),
    undefined,
    'a plain crash stays a crash',
  );
  assert.match(memoryLimitMessage({ limitBytes: 8 * GiB, signal: 'SIGSEGV', peakDataBytes: 6.5 * GiB }) ?? '', /holding 6656 MiB/);
  assert.equal(memoryLimitMessage({ limitBytes, signal: 'SIGTERM', peakDataBytes: GiB }), undefined);
  // The kernel's OOM killer: a SIGKILL the driver did not send while the machine's count grew.
  const killed = { limitBytes, signal: 'SIGKILL', oomKillsBefore: 3, oomKillsAfter: 4 };
  assert.match(memoryLimitMessage(killed) ?? '', /OOM killer.*before Blender reached its own limit of 1024 MiB.*BLENDER_MEMORY_LIMIT_MB/);
  assert.match(
    memoryLimitMessage({ ...killed, limitBytes: 0 }) ?? '',
    /OOM killer: the machine or its container ran out of memory; set BLENDER_MEMORY_LIMIT_MB/,
  );
  assert.equal(memoryLimitMessage({ ...killed, killedByUs: true }), undefined, 'our own SIGKILL (a timeout) is not the OOM killer');
  assert.equal(memoryLimitMessage({ ...killed, oomKillsAfter: 3 }), undefined, 'killed by someone else');
  assert.equal(memoryLimitMessage({ ...killed, oomKillsAfter: undefined }), undefined);
});

test('readDataBytes and readOomKills read /proc', { skip: process.platform !== 'linux' }, () => {
  const data = readDataBytes(process.pid);
  assert.ok(data !== undefined && data > 0);
  assert.equal(readDataBytes(2 ** 30), undefined);
  assert.ok((readOomKills() ?? 0) >= 0);
});
