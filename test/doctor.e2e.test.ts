import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { freePort } from '@synthline/cli/private-redis';
import type { DoctorReport } from '../apps/cli/src/doctor.ts';
import { CLI, ROOT, cli, tempDir } from './helpers.ts';

// `synthline doctor` against the real thing: this machine's Blender, a private Redis, real
// folders. A machine that cannot serve is made for real: Redis stopped, an output folder mounted
// read-only, BLENDER pointing nowhere.

let redis: PrivateRedis;
before(async () => {
  redis = await startPrivateRedis({ appendonly: true });
});
after(async () => {
  await redis?.dispose();
});

const parse = (stdout: string) => JSON.parse(stdout) as DoctorReport;
const byName = (r: DoctorReport, name: string) => {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `no ${name} check in ${JSON.stringify(r.checks.map((x) => x.name))}`);
  return c;
};

test('a machine that can serve: every check passes, and --render 2 renders on the CPU with its frames/s', async () => {
  const out = await tempDir();
  const r = await cli(['doctor', '--json', '--render', '2'], {
    REDIS_URL: redis.url,
    SYNTHLINE_OUTPUT: join(out, 'jobs'),
    SYNTHLINE_LIBRARY: join(out, 'lib'),
  });
  assert.equal(r.code, 0, r.all);
  const rep = parse(r.stdout);
  assert.equal(rep.can_serve, true);
  assert.deepEqual(
    rep.checks.map((c) => c.name),
    ['environment', 'blender', 'devices', 'redis', 'storage', 'library', 'render'],
  );
  for (const c of rep.checks) assert.equal(c.status, 'ok', `${c.name}: ${c.summary} ${JSON.stringify(c.problems)}`);
  const blender = byName(rep, 'blender').details as {
    version: string;
    numpy: string | null;
    importers: { format: string; operator: string | null }[];
  };
  assert.match(blender.version, /^[34]\.\d+/);
  assert.ok(blender.numpy, 'numpy imports in Blender');
  assert.ok(
    blender.importers.every((i) => i.operator !== null),
    JSON.stringify(blender.importers),
  );
  assert.match(byName(rep, 'redis').summary, /maxmemory-policy noeviction, persistence AOF/);
  const runs = byName(rep, 'render').details.runs as { kind: string; frames: number; frames_per_s: number; device: string }[];
  assert.equal(runs[0]?.kind, 'cpu');
  assert.equal(runs[0]?.device, 'cpu');
  assert.equal(runs[0]?.frames, 2);
  assert.ok((runs[0]?.frames_per_s ?? 0) > 0);
  // The storage probe leaves nothing behind.
  assert.deepEqual(await readdir(join(out, 'jobs')).catch(() => []), []);

  // The same as a person reads it: one line per check, and the verdict.
  const text = await cli(['doctor'], { REDIS_URL: redis.url, SYNTHLINE_OUTPUT: join(out, 'jobs'), SYNTHLINE_LIBRARY: join(out, 'lib') });
  assert.equal(text.code, 0, text.all);
  assert.match(text.stdout, /^ok {4}blender {5}.*Blender [34]\./m);
  assert.match(text.stdout, /^ok {4}render {6}cpu: 1 frame\(s\) 64x64 at [\d.]+ frames\/s/m);
  assert.match(text.stdout, /this machine can serve as a worker$/);
});

test('Redis stopped, a read-only output folder and no Blender: each named with its fix, exit 1', async () => {
  const out = await tempDir();
  const jobs = join(out, 'jobs');
  await mkdir(jobs);
  const closedPort = await freePort(); // nothing listens there: Redis is not running
  const env = { REDIS_URL: `redis://127.0.0.1:${closedPort}`, SYNTHLINE_OUTPUT: jobs, BLENDER: join(out, 'no-such-blender') };
  // Read-only for real: root writes through file modes, so the folder is bind-mounted read-only
  // in a mount namespace of the doctor's own (as another user, a mode of 0555 does the same).
  const r =
    process.getuid?.() === 0
      ? await execa(
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
            'sh',
            jobs,
            'node',
            CLI,
            'doctor',
            '--json',
          ],
          { reject: false, cwd: ROOT, env: { ...process.env, ...env } },
        ).then((x) => ({ code: x.exitCode ?? -1, stdout: String(x.stdout), all: `${x.stdout}\n${x.stderr}` }))
      : await (async () => {
          await execa('chmod', ['0555', jobs]);
          return cli(['doctor', '--json'], env);
        })();
  assert.equal(r.code, 1, r.all);
  const rep = parse(r.stdout);
  assert.equal(rep.can_serve, false);
  const blender = byName(rep, 'blender');
  assert.equal(blender.status, 'fail');
  assert.match(blender.problems[0]?.problem ?? '', /Blender was not found \(looked for ".*no-such-blender"\)/);
  assert.match(blender.problems[0]?.fix ?? '', /apt-get install -y blender python3-numpy.*BLENDER=/);
  const redisCheck = byName(rep, 'redis');
  assert.equal(redisCheck.status, 'fail');
  assert.match(
    redisCheck.problems[0]?.problem ?? '',
    new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`),
  );
  assert.match(redisCheck.problems[0]?.fix ?? '', /REDIS_URL/);
  const storage = byName(rep, 'storage');
  assert.equal(storage.status, 'fail');
  assert.match(storage.problems[0]?.problem ?? '', /EROFS|EACCES|read-only|permission denied/i);
  assert.match(storage.problems[0]?.fix ?? '', /SYNTHLINE_OUTPUT/);
  // What needs Blender is not checked, and says why.
  assert.equal(byName(rep, 'devices').status, 'skip');
  assert.equal(byName(rep, 'render').status, 'skip');
});

test('a Redis that may evict jobs fails the check, naming the policy and the fix', async () => {
  const { Redis } = await import('ioredis');
  const c = new Redis(redis.url);
  try {
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const r = await cli(['doctor', '--json'], { REDIS_URL: redis.url, SYNTHLINE_OUTPUT: join(await tempDir(), 'jobs') });
    assert.equal(r.code, 1, r.all);
    const check = byName(parse(r.stdout), 'redis');
    assert.equal(check.status, 'fail');
    assert.match(check.problems[0]?.problem ?? '', /maxmemory-policy is allkeys-lru/);
    assert.match(check.problems[0]?.fix ?? '', /maxmemory-policy noeviction/);
  } finally {
    await c.config('SET', 'maxmemory-policy', 'noeviction');
    c.disconnect();
  }
});

test("worker --doctor (the worker image's start): a machine that cannot serve exits 1 before taking work", async () => {
  const out = await tempDir();
  const r = await cli(['worker', '--doctor'], {
    REDIS_URL: redis.url,
    SYNTHLINE_OUTPUT: join(out, 'jobs'),
    BLENDER: join(out, 'no-such-blender'),
    WORKER_HTTP_PORT: '0',
  });
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /^FAIL {2}blender {5}Blender not found/m);
  assert.match(r.stderr, /this machine cannot serve as a worker: blender failed/);
  assert.doesNotMatch(r.stderr, /running; SIGTERM/, 'the worker did not start');
});

test('a worker with a bad flag or bad variables names each one and takes no work', async () => {
  const out = await tempDir();
  const base = { REDIS_URL: redis.url, SYNTHLINE_OUTPUT: join(out, 'jobs'), WORKER_HTTP_PORT: '0' };
  const flag = await cli(['worker', '--slots', 'many'], base);
  assert.equal(flag.code, 2, flag.all);
  assert.match(flag.stderr, /--slots: "many" is not auto or a whole number/);
  assert.doesNotMatch(flag.stderr, /WORKER_SLOTS/, 'the flag the user typed is named, not the variable behind it');

  // Every bad variable the worker reads (its own, Blender's, S3's for a bucket) in one message.
  const env = await cli(['worker'], {
    ...base,
    WORKER_SLOTS: 'many',
    SYNTHLINE_PREFIX: 'has space',
    BLENDER_MEMORY_LIMIT_MB: 'lots',
    SYNTHLINE_OUTPUT: 's3://bucket/out',
    SYNTHLINE_S3_PATH_STYLE: 'yes',
  });
  assert.equal(env.code, 2, env.all);
  const named = [...env.stderr.matchAll(/^ {2}([A-Z0-9_]+): /gm)].map((m) => m[1]).sort();
  assert.deepEqual(named, ['BLENDER_MEMORY_LIMIT_MB', 'SYNTHLINE_PREFIX', 'SYNTHLINE_S3_PATH_STYLE', 'WORKER_SLOTS'], env.stderr);
  assert.doesNotMatch(env.stderr, /running; SIGTERM/, 'the worker did not start');
});
