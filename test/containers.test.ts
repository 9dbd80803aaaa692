import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';

// The container images and the compose file, checked without a Docker engine: the linters of
// scripts/check-containers.sh, then the properties a fleet relies on, read from the files.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHECK = join(ROOT, 'scripts', 'check-containers.sh');

/** The development token: docker/dev.env holds its hash as the API key "dev" (refused without SYNTHLINE_ALLOW_DEV_TOKEN=1). */
const DEV_TOKEN = 'sl_dev_insecure_compose_token';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** A Dockerfile's instructions by stage, continuation lines joined, comments dropped, ARG defaults substituted in FROM. */
function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(fm, `FROM ${args}`);
      const image = (fm[1] as string).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => globalArgs.get(a ?? b) ?? '');
      stages.push({ from: image, name: fm[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === 'ARG') {
        const [k, v] = args.split('=');
        globalArgs.set(k as string, v ?? '');
      }
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return { globalArgs, stages };
}

const all = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword);
const last = (s: Stage, keyword: string) => all(s, keyword).at(-1);
/** `ENV A=1 B=2` instructions of a stage as one map. */
function envOf(s: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of all(s, 'ENV'))
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1] as string, (m[2] as string).replace(/^"|"$/g, ''));
  return env;
}
/** `ARG NAME=default` of a stage. */
function argOf(s: Stage, name: string): string | undefined {
  for (const i of all(s, 'ARG')) {
    const [k, v] = i.args.split('=');
    if (k === name) return v;
  }
  return undefined;
}

async function dockerfile(name: string) {
  return parseDockerfile(await readFile(join(ROOT, 'docker', name), 'utf8'));
}

// --- docker-compose.yml, read as `docker compose config` reads it --------------------------------

type Env = Record<string, string | undefined>;

/** `${VAR:?reason}` (or `${VAR?reason}`) met VAR unset or empty: compose fails with this. */
class MissingVariable extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`required variable ${variable} is missing a value: ${reason}`);
  }
}

/** An interpolation in the compose file: `${name<op>arg}` (op and arg undefined for `${name}` and `$name`). */
interface Use {
  name: string;
  op: string | undefined;
  arg: string | undefined;
  /** Where it is: a path of keys, e.g. services.api.environment.SYNTHLINE_API_KEYS. */
  at: string;
}

/** Index of the `}` closing the `${` at s[start] (nested `${...}` counted), as compose-go finds it; -1 if none. */
function closingBrace(s: string, start: number): number {
  let open = 0;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

const BRACED = /^([_a-z][_a-z0-9]*)(?:(:?[-+?])([\s\S]*))?$/i;
const NAMED = /^[_a-z][_a-z0-9]*/i;

/**
 * Compose's interpolation of one string (the compose-spec rules, as compose-go applies them):
 * `$$` is a `$`; `$VAR` and `${VAR}`; `${VAR:-default}` / `${VAR-default}` (default when unset or
 * empty / unset); `${VAR:?reason}` / `${VAR?reason}` (fail when unset or empty / unset);
 * `${VAR:+alt}` / `${VAR+alt}` (alt when set and non-empty / set). Nested in default, reason and alt.
 */
function interpolate(s: string, env: Env, at = ''): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] !== '$') {
      out += s[i++];
      continue;
    }
    if (s[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    const named = NAMED.exec(s.slice(i + 1));
    if (named) {
      out += env[named[0]] ?? '';
      i += 1 + named[0].length;
      continue;
    }
    if (s[i + 1] !== '{') {
      out += s[i++];
      continue;
    }
    const end = closingBrace(s, i + 1);
    const m = end < 0 ? null : BRACED.exec(s.slice(i + 2, end));
    if (!m) throw new Error(`invalid interpolation at ${at}: ${s}`);
    const [, name, op, arg = ''] = m as unknown as [string, string, string | undefined, string | undefined];
    const value = env[name];
    const set = value !== undefined;
    const full = set && value !== '';
    switch (op) {
      case undefined:
        out += value ?? '';
        break;
      case ':-':
        out += full ? value : interpolate(arg, env, at);
        break;
      case '-':
        out += set ? value : interpolate(arg, env, at);
        break;
      case ':+':
        out += full ? interpolate(arg, env, at) : (value ?? '');
        break;
      case '+':
        out += set ? interpolate(arg, env, at) : '';
        break;
      case ':?':
        if (!full) throw new MissingVariable(name, interpolate(arg, env, at));
        out += value;
        break;
      case '?':
        if (!set) throw new MissingVariable(name, interpolate(arg, env, at));
        out += value;
        break;
    }
    i = end + 1;
  }
  return out;
}

/** Every interpolation in a string, nested ones included. */
function usesIn(s: string, at: string): Use[] {
  const uses: Use[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$') continue;
    if (s[i + 1] === '$') {
      i++;
      continue;
    }
    const named = NAMED.exec(s.slice(i + 1));
    if (named) {
      uses.push({ name: named[0], op: undefined, arg: undefined, at });
      continue;
    }
    if (s[i + 1] !== '{') continue;
    const end = closingBrace(s, i + 1);
    const m = end < 0 ? null : BRACED.exec(s.slice(i + 2, end));
    assert.ok(m, `a valid interpolation at ${at}: ${s}`);
    uses.push({ name: m[1] as string, op: m[2], arg: m[3], at });
    if (m[3]) uses.push(...usesIn(m[3], at));
    i = end;
  }
  return uses;
}

/** Applies `fn` to every string value of a YAML tree (keys are not interpolated, as in compose). */
function mapStrings(node: unknown, fn: (s: string, at: string) => unknown, at = ''): unknown {
  if (typeof node === 'string') return fn(node, at);
  if (Array.isArray(node)) return node.map((v, i) => mapStrings(v, fn, `${at}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapStrings(v, fn, at ? `${at}.${k}` : k)]));
  }
  return node;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, walked by the assertions below
type Compose = { name?: string; services: Record<string, any>; volumes?: Record<string, unknown> };

/** docker-compose.yml as YAML, anchors merged, not interpolated. */
async function rawCompose(): Promise<Compose> {
  return parseYaml(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
}

/** Every interpolation in docker-compose.yml. */
async function composeUses(): Promise<Use[]> {
  const uses: Use[] = [];
  mapStrings(await rawCompose(), (s, at) => uses.push(...usesIn(s, at)));
  return uses;
}

/** docker-compose.yml interpolated with `env`, or the variables compose would refuse it for. */
async function composeWith(env: Env): Promise<{ config: Compose; missing: MissingVariable[] }> {
  const missing: MissingVariable[] = [];
  const config = mapStrings(await rawCompose(), (s, at) => {
    try {
      return interpolate(s, env, at);
    } catch (e) {
      if (e instanceof MissingVariable) {
        missing.push(e);
        return '';
      }
      throw e;
    }
  }) as Compose;
  return { config, missing };
}

/** docker-compose.yml with `env`, which must be complete. */
async function compose(env: Env = PROD): Promise<Compose> {
  const { config, missing } = await composeWith(env);
  assert.deepEqual(
    missing.map((m) => m.message),
    [],
    'compose interpolates without errors',
  );
  return config;
}

/** An env file of `KEY=value` lines (# comments), as docker/dev.env is written: no quotes, no `$`. */
async function readEnvFile(path: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const raw of (await readFile(path, 'utf8')).split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `${path}: KEY=value, got ${line}`);
    assert.doesNotMatch(m[2] as string, /["'$\s]/, `${path}: ${m[1]} has a plain value (no quotes, $ or spaces)`);
    env[m[1] as string] = m[2] as string;
  }
  return env;
}

/** Compose's byte sizes: 512m, 1g, 2.5gb, 1073741824. */
function bytes(size: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(String(size).trim());
  assert.ok(m, `a memory size: ${size}`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] as string).toLowerCase()] as number;
  return Number(m[1]) * unit;
}
const MiB = 2 ** 20;

/** A service's mounts, short (`src:target[:ro]`) or long syntax. */
function mounts(svc: { volumes?: unknown[] }): { source: string; target: string; readOnly: boolean }[] {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode = ''] = v.split(':') as [string, string, string?];
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    const l = v as { source: string; target: string; read_only?: boolean };
    return { source: l.source, target: l.target, readOnly: l.read_only === true };
  });
}

/** The secrets an operator must set: no default in docker-compose.yml, only docker/dev.env has development values. */
const SECRETS = ['SYNTHLINE_API_KEYS', 'REDIS_PASSWORD', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD'];
const DEV_ENV = join(ROOT, 'docker', 'dev.env');

/** What an operator sets: a key of their own and random passwords. */
const PROD: Env = {
  SYNTHLINE_API_KEYS: `ops:${createHash('sha256').update('sl_operator_token').digest('hex')}`,
  REDIS_PASSWORD: 'c0ffee5a1t0f4ee2d9b1e7a3c5f80d12',
  MINIO_ROOT_USER: 'synthline-ops',
  MINIO_ROOT_PASSWORD: '9e1f3a7b5c2d4e6f8a0b1c3d5e7f9a2b',
};

const WORKERS = ['worker', 'worker-cpu'];
/** Services running the worker image: the workers and the one-shot library scan. */
const BLENDER_SERVICES = [...WORKERS, 'assets-scan'];
/** GPUs a GPU worker's default memory limit is sized for (WORKER_SLOTS=auto: a slot, so a Blender, per GPU). */
const GPUS_SIZED_FOR = 4;
/** Memory a worker's Node process keeps beside its Blenders. */
const NODE_ROOM_MB = 2048;

async function runCheck(args: string[] = []) {
  return execa('bash', [CHECK, ...args], { cwd: ROOT, reject: false, timeout: 120_000, all: true });
}

test('scripts/check-containers.sh: dclint and dockerfile-utils pass on the repository files', async () => {
  const r = await runCheck();
  assert.equal(r.exitCode, 0, r.all);
  assert.match(r.all ?? '', /check-containers: ok \(1 compose file\(s\), 2 Dockerfile\(s\)\)/);
});

test('the check fails on a broken compose file and a broken Dockerfile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synthline-containers-'));
  try {
    const good = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
    // An unknown key in a service.
    const unknownKey = join(dir, 'unknown-key.yml');
    await writeFile(unknownKey, good.replace('  redis:\n    image:', '  redis:\n    restart_policy: always\n    image:'));
    // A wrong type: a port list given as a number.
    const wrongType = join(dir, 'wrong-type.yml');
    await writeFile(wrongType, good.replace("    ports:\n      - '127.0.0.1:8080:8080'", '    ports: 8080'));
    // A Dockerfile with an unknown instruction and a bad HEALTHCHECK duration.
    const badDockerfile = join(dir, 'bad.Dockerfile');
    await writeFile(badDockerfile, 'FROM node:20-bookworm-slim\nRUNN echo hi\nHEALTHCHECK --interval=often CMD true\nUSER node\n');
    for (const f of [unknownKey, wrongType]) assert.notEqual(await readFile(f, 'utf8'), good, `${f} differs from the real file`);

    for (const f of [unknownKey, wrongType]) {
      const r = await runCheck([f]);
      assert.equal(r.exitCode, 1, `${f} should fail:\n${r.all}`);
      assert.match(r.all ?? '', /invalid-schema/);
      assert.match(r.all ?? '', /FAIL dclint/);
    }
    const r = await runCheck([badDockerfile]);
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all ?? '', /Unknown instruction: RUNN/);
    assert.match(r.all ?? '', /invalid duration often/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('both images run as a non-root user, have a HEALTHCHECK on /healthz, and start synthline', async () => {
  for (const [name, command, port] of [
    ['api.Dockerfile', '"serve"', '8080'],
    // The worker checks the machine (synthline doctor) before it takes work.
    ['worker.Dockerfile', '"worker", "--doctor"', '9464'],
  ] as const) {
    const { stages } = await dockerfile(name);
    const final = stages.at(-1);
    assert.ok(final, `${name} has a stage`);
    const user = last(final, 'USER')?.args;
    assert.ok(user, `${name}: the final stage sets USER`);
    assert.ok(!/^(root|0)(:|$)/.test(user), `${name}: USER ${user} is not root`);
    const hc = last(final, 'HEALTHCHECK')?.args ?? '';
    assert.match(hc, /\bCMD\b/, `${name}: HEALTHCHECK with a command`);
    assert.match(hc, /\/healthz/, `${name}: HEALTHCHECK asks /healthz`);
    assert.ok(hc.includes(port), `${name}: HEALTHCHECK on port ${port}`);
    assert.equal(last(final, 'EXPOSE')?.args, port, `${name}: EXPOSE ${port}`);
    assert.equal(last(final, 'ENTRYPOINT')?.args, '["node", "/app/apps/cli/bin/synthline.js"]', `${name}: ENTRYPOINT is synthline`);
    assert.equal(last(final, 'CMD')?.args, `[${command}]`, `${name}: CMD synthline ${command}`);
    // The sources run through tsx: the images install production dependencies only.
    assert.ok(
      stages.some((s) => all(s, 'RUN').some((i) => i.args.includes('npm ci --omit=dev'))),
      `${name}: npm ci --omit=dev`,
    );
  }
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  assert.ok(pkg.dependencies.tsx, 'tsx is a production dependency (the images omit dev dependencies)');
  assert.equal(pkg.devDependencies?.tsx, undefined);
});

test('the api image is the official Node 20 image listening on 0.0.0.0:8080', async () => {
  const { stages } = await dockerfile('api.Dockerfile');
  for (const s of stages) assert.equal(s.from, 'node:20-bookworm-slim');
  const env = envOf(stages.at(-1) as Stage);
  assert.equal(env.get('HOST'), '0.0.0.0');
  assert.equal(env.get('PORT'), '8080');
});

test('the worker image: a pinned nvidia/cuda base, Blender 4.2 LTS checked by sha256, Node 20, BLENDER set', async () => {
  const { stages } = await dockerfile('worker.Dockerfile');
  const final = stages.at(-1) as Stage;
  assert.match(final.from, /^nvidia\/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+$/, `final stage FROM ${final.from}`);

  const blender = stages.find((s) => all(s, 'RUN').some((i) => i.args.includes('download.blender.org')));
  assert.ok(blender, 'a stage downloads Blender from download.blender.org');
  assert.match(blender.from, /^nvidia\/cuda:/);
  const version = argOf(blender, 'BLENDER_VERSION') ?? '';
  assert.match(version, /^4\.2\.\d+$/, `BLENDER_VERSION ${version} is a 4.2 LTS release`);
  assert.match(argOf(blender, 'BLENDER_SHA256') ?? '', /^[0-9a-f]{64}$/, 'BLENDER_SHA256 is pinned');
  const run = all(blender, 'RUN')
    .map((i) => i.args)
    .join('\n');
  assert.match(run, /https:\/\/download\.blender\.org\/release\/Blender\$\{series\}\/\$\{tarball\}/);
  assert.match(run, /echo "\$\{BLENDER_SHA256\} +\/tmp\/\$\{tarball\}" \| sha256sum -c -/, 'the tarball is checked against BLENDER_SHA256');
  assert.ok(run.indexOf('sha256sum -c') < run.indexOf('tar -xJf'), 'checked before it is unpacked');
  const raw = await readFile(join(ROOT, 'docker', 'worker.Dockerfile'), 'utf8');
  assert.ok(
    raw.includes('echo "${BLENDER_SHA256}  /tmp/${tarball}" | sha256sum -c -'),
    'two spaces between hash and file, as sha256sum -c wants',
  );
  assert.equal(argOf(final, 'BLENDER_VERSION'), version, 'the final stage checks the same version');
  const finalRun = all(final, 'RUN')
    .map((i) => i.args)
    .join('\n');
  assert.match(
    finalRun,
    /blender --factory-startup .*--version .*grep -F "Blender \$\{BLENDER_VERSION\}"/,
    'the build runs the installed Blender once',
  );
  for (const lib of ['libxi6', 'libxxf86vm1', 'libxfixes3', 'libxrender1', 'libgl1', 'libxkbcommon0', 'libsm6']) {
    assert.ok(finalRun.includes(lib), `Blender's ${lib} is installed`);
  }

  const copies = all(final, 'COPY').map((i) => i.args);
  assert.ok(copies.includes('--from=blender /opt/blender /opt/blender'));
  const nodeStage = stages.find((s) => s.name === 'deps');
  assert.equal(nodeStage?.from, 'node:20-bookworm-slim', 'Node 20 comes from the official image');
  assert.ok(copies.includes('--from=deps /usr/local/bin/node /usr/local/bin/node'));

  const env = envOf(final);
  assert.equal(env.get('BLENDER'), '/opt/blender/blender', 'BLENDER, which find-blender.ts reads');
  const caps = (env.get('NVIDIA_DRIVER_CAPABILITIES') ?? '').split(',');
  for (const c of ['compute', 'utility', 'graphics']) assert.ok(caps.includes(c), `NVIDIA_DRIVER_CAPABILITIES has ${c}`);
  assert.equal(env.get('WORKER_HTTP_HOST'), '0.0.0.0');
  assert.equal(env.get('WORKER_HTTP_PORT'), '9464');
  assert.equal(env.get('WORKER_SLOTS'), 'auto');
  const findBlender = await readFile(join(ROOT, 'packages/blender/src/find-blender.ts'), 'utf8');
  assert.match(findBlender, /\['BLENDER'\]/);
});

test('.dockerignore keeps dependencies, outputs and git out of the build context', async () => {
  const entries = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  for (const e of ['**/node_modules', '.git', 'out', 'bench/results']) assert.ok(entries.includes(e), `.dockerignore lists ${e}`);
});

test('compose: redis with AOF and noeviction, every service healthy or a one-shot, images pinned', async () => {
  const c = await compose();
  assert.equal(c.name, 'synthline');
  const s = c.services;
  assert.deepEqual(Object.keys(s).sort(), ['api', 'assets-scan', 'minio', 'minio-init', 'redis', 'worker', 'worker-cpu']);

  const redisCmd = (s.redis.command as string[]).join(' ');
  assert.match(s.redis.image, /^redis:7(\.\d+)*(-[\w.]+)?$/);
  assert.match(redisCmd, /--appendonly yes/);
  assert.match(redisCmd, /--maxmemory-policy noeviction/);
  // The healthcheck authenticates (redis-cli reads REDISCLI_AUTH) and wants PONG, not a NOAUTH error.
  assert.deepEqual(s.redis.healthcheck.test, ['CMD-SHELL', 'redis-cli ping | grep -q PONG']);
  assert.equal(s.redis.environment.REDISCLI_AUTH, PROD.REDIS_PASSWORD);

  const oneShots = new Set<string>();
  for (const svc of Object.values(s)) {
    for (const [dep, cond] of Object.entries((svc.depends_on ?? {}) as Record<string, { condition: string }>)) {
      assert.ok(s[dep], `depends on a service that exists: ${dep}`);
      if (cond.condition === 'service_completed_successfully') oneShots.add(dep);
    }
  }
  assert.deepEqual([...oneShots], ['minio-init']);
  // assets-scan is run by hand (`docker compose run --rm assets-scan`): a one-shot in its own profile.
  assert.deepEqual(s['assets-scan'].profiles, ['scan']);
  assert.deepEqual(s['assets-scan'].healthcheck, { disable: true }, "assets-scan serves no /healthz: the image's healthcheck is off");
  oneShots.add('assets-scan');
  for (const [name, svc] of Object.entries(s)) {
    if (oneShots.has(name)) {
      assert.equal(svc.restart, 'no', `${name} is a one-shot: never restarted`);
      assert.ok(svc.healthcheck === undefined || svc.healthcheck.disable === true, `${name}: no healthcheck`);
      continue;
    }
    assert.ok(svc.healthcheck?.test, `${name} has a healthcheck`);
    assert.notEqual(svc.healthcheck.disable, true, `${name}: healthcheck not disabled`);
    assert.equal(svc.restart, 'unless-stopped', `${name} restarts`);
  }

  for (const [name, svc] of Object.entries(s)) {
    if (svc.image) {
      assert.match(svc.image, /^[\w./-]+:[\w.-]+$/, `${name}: image has a tag`);
      assert.doesNotMatch(svc.image, /:latest$/, `${name}: image is pinned`);
    } else {
      assert.ok(existsSync(join(ROOT, svc.build.context, svc.build.dockerfile)), `${name}: builds ${svc.build.dockerfile}`);
    }
  }
  for (const name of ['api', ...WORKERS]) {
    assert.deepEqual(
      s[name].depends_on,
      {
        'minio-init': { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      },
      `${name} waits for Redis and the bucket`,
    );
  }
  assert.equal(s['minio-init'].depends_on.minio.condition, 'service_healthy');
  assert.ok(s.minio.healthcheck.test.includes('ready'));
  assert.ok(c.volumes && 'redis-data' in c.volumes && 'minio-data' in c.volumes, 'redis and minio keep their data in volumes');
  assert.equal(s.redis.ports, undefined, 'Redis is not published on the host');
});

test('compose: api and workers share Redis (with its password) and the bucket', async () => {
  const s = (await compose()).services;
  const bucket = /^s3:\/\/([^/]+)\//.exec(s.api.environment.SYNTHLINE_OUTPUT)?.[1];
  assert.equal(bucket, 'synthline');
  assert.deepEqual(s['minio-init'].command, ['mb', '--ignore-existing', `local/${bucket}`], 'minio-init creates the bucket');
  assert.equal(s['minio-init'].environment.MC_HOST_local, `http://${PROD.MINIO_ROOT_USER}:${PROD.MINIO_ROOT_PASSWORD}@minio:9000`);
  for (const name of ['api', ...WORKERS]) {
    const env = s[name].environment as Record<string, string>;
    assert.equal(env.REDIS_URL, `redis://:${PROD.REDIS_PASSWORD}@redis:6379`, `${name}: REDIS_URL carries the password`);
    const url = new URL(env.REDIS_URL);
    assert.equal(decodeURIComponent(url.password), PROD.REDIS_PASSWORD, `${name}: ioredis reads the password from the URL`);
    assert.equal(url.username, '', `${name}: the default user`);
    assert.equal(env.SYNTHLINE_OUTPUT, 's3://synthline/datasets', `${name}: SYNTHLINE_OUTPUT`);
    assert.equal(env.AWS_ENDPOINT_URL, 'http://minio:9000', `${name}: AWS_ENDPOINT_URL`);
    assert.equal(env.SYNTHLINE_S3_PATH_STYLE, '1', `${name}: path-style S3 for MinIO`);
    assert.ok(env.AWS_REGION, `${name}: AWS_REGION has a value`);
    assert.equal(env.AWS_ACCESS_KEY_ID, s.minio.environment.MINIO_ROOT_USER, `${name}: MinIO's user`);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, s.minio.environment.MINIO_ROOT_PASSWORD, `${name}: MinIO's password`);
  }
  assert.equal(s.minio.environment.MINIO_ROOT_USER, PROD.MINIO_ROOT_USER);
  assert.equal(s.minio.environment.MINIO_ROOT_PASSWORD, PROD.MINIO_ROOT_PASSWORD);
  const redisCmd = s.redis.command as string[];
  assert.equal(redisCmd[redisCmd.indexOf('--requirepass') + 1], PROD.REDIS_PASSWORD, 'redis-server --requirepass REDIS_PASSWORD');
  const api = s.api.environment as Record<string, string>;
  assert.equal(api.HOST, '0.0.0.0');
  assert.equal(api.SYNTHLINE_API_KEYS, PROD.SYNTHLINE_API_KEYS, "the operator's keys");
  assert.equal(api.SYNTHLINE_ALLOW_DEV_TOKEN, '0', 'the development key stays refused');
  assert.deepEqual(s.api.ports, ['127.0.0.1:8080:8080']);
});

test('compose: no secret has a default; the development values come only from docker/dev.env, opted into', async () => {
  const uses = await composeUses();
  const raw = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
  const dev = await readEnvFile(DEV_ENV);
  const devHash = createHash('sha256').update(DEV_TOKEN).digest('hex');

  // Every use of a secret is ${VAR:?reason}: unset or empty, compose stops and says how to set it.
  for (const name of SECRETS) {
    const of = uses.filter((u) => u.name === name);
    assert.ok(of.length > 0, `docker-compose.yml uses ${name}`);
    for (const u of of) {
      assert.equal(u.op, ':?', `${u.at}: \${${name}} is required (:?), never defaulted`);
      assert.match(u.arg ?? '', /docker\/dev\.env/, `${u.at}: the reason names the development opt-in`);
    }
  }
  // No default or alternative anywhere falls back to a development value, and none is written in the file.
  const devValues = [devHash, DEV_TOKEN, ...SECRETS.map((k) => dev[k] as string)];
  for (const u of uses) {
    if (u.op === ':?' || u.op === '?' || u.arg === undefined) continue;
    for (const v of devValues) assert.ok(!u.arg.includes(v), `${u.at}: \${${u.name}${u.op}...} does not fall back to a development value`);
  }
  for (const v of [devHash, ...SECRETS.filter((k) => k !== 'MINIO_ROOT_USER').map((k) => dev[k] as string)]) {
    assert.ok(!raw.includes(v), `docker-compose.yml does not contain the development value ${v}`);
  }
  // SYNTHLINE_ALLOW_DEV_TOKEN: 0 unless set, and only docker/dev.env sets it.
  const allow = uses.filter((u) => u.name === 'SYNTHLINE_ALLOW_DEV_TOKEN');
  assert.deepEqual(
    allow.map((u) => [u.at, u.op, u.arg]),
    [['services.api.environment.SYNTHLINE_ALLOW_DEV_TOKEN', ':-', '0']],
  );

  // docker/dev.env: the dev key (the hash of the documented token), the API's opt-in, dev passwords.
  assert.deepEqual(Object.keys(dev).sort(), [...SECRETS, 'SYNTHLINE_ALLOW_DEV_TOKEN'].sort());
  assert.equal(dev.SYNTHLINE_API_KEYS, `dev:${devHash}`, `the development key is the hash of ${DEV_TOKEN}`);
  assert.equal(dev.SYNTHLINE_ALLOW_DEV_TOKEN, '1');
  assert.ok((dev.MINIO_ROOT_PASSWORD as string).length >= 8, 'MinIO wants a password of 8 characters or more');
  assert.ok((await readFile(DEV_ENV, 'utf8')).includes(DEV_TOKEN), 'docker/dev.env names the token in a comment');
  const api = (await compose(dev)).services.api.environment as Record<string, string>;
  assert.equal(api.SYNTHLINE_API_KEYS, `dev:${devHash}`);
  assert.equal(api.SYNTHLINE_ALLOW_DEV_TOKEN, '1', 'with docker/dev.env the API accepts the development key');

  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(DEV_TOKEN), 'the README uses the same dev token');
  assert.ok(readme.includes('--env-file docker/dev.env'), 'the README shows the development opt-in');
  // Not baked into an image: docker/ is outside the build context.
  const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  assert.ok(ignored.includes('docker'), '.dockerignore keeps docker/ (and dev.env) out of the images');
});

test('compose: interpolation fails naming each secret left unset or empty, and succeeds with all of them', async () => {
  const none = await composeWith({});
  assert.deepEqual([...new Set(none.missing.map((m) => m.variable))].sort(), [...SECRETS].sort());
  for (const m of none.missing)
    assert.match(m.message, new RegExp(`^required variable ${m.variable} is missing a value: set ${m.variable} .*docker/dev\\.env`));
  for (const name of SECRETS) {
    for (const value of [undefined, '']) {
      const { missing } = await composeWith({ ...PROD, [name]: value });
      assert.deepEqual(
        [...new Set(missing.map((m) => m.variable))],
        [name],
        `${name}=${value === undefined ? '(unset)' : '""'} is refused`,
      );
    }
  }
  assert.deepEqual((await composeWith(PROD)).missing, []);
  assert.deepEqual((await composeWith(await readEnvFile(DEV_ENV))).missing, []);
  // The interpolation itself, on the forms compose knows.
  const env = { A: 'a', E: '' };
  const cases: [string, string][] = [
    ['$$A', '$A'],
    ['$A-${A}', 'a-a'],
    ['${U:-d}', 'd'],
    ['${E:-d}', 'd'],
    ['${E-d}', ''],
    ['${U-d}', 'd'],
    ['${A:+x}', 'x'],
    ['${E:+x}', ''],
    ['${E+x}', 'x'],
    ['${U:-${A}}', 'a'],
    ['${A:?no}', 'a'],
    ['${E?no}', ''],
  ];
  for (const [t, want] of cases) assert.equal(interpolate(t, env), want, t);
  assert.throws(() => interpolate('${E:?empty}', env), /required variable E is missing a value: empty/);
  assert.throws(() => interpolate('${U?unset}', env), /required variable U is missing a value: unset/);
});

test('compose: the library is read-only for the api and the workers; only the assets-scan one-shot writes it', async () => {
  const s = (await compose()).services;
  const library = (name: string) => {
    const target = s[name].environment.SYNTHLINE_LIBRARY as string;
    assert.equal(target, '/data/library', `${name}: SYNTHLINE_LIBRARY`);
    const m = mounts(s[name]).filter((x) => x.target === target);
    assert.equal(m.length, 1, `${name} mounts the library once`);
    assert.equal(m[0]?.source, './library', `${name}: the host's ./library`);
    return m[0] as { readOnly: boolean };
  };
  for (const name of ['api', ...WORKERS]) assert.ok(library(name).readOnly, `${name} mounts the library read-only (:ro)`);
  // `synthline assets scan` writes .synthline/scan.json into the library: it alone mounts it writable.
  assert.equal(library('assets-scan').readOnly, false, 'assets-scan writes its scan results into the library');
  assert.deepEqual(s['assets-scan'].command, ['assets', 'scan']);
  assert.equal(s['assets-scan'].build.dockerfile, 'docker/worker.Dockerfile', 'the scan probes in the Blender of the worker image');
  for (const [name, svc] of Object.entries(s)) {
    if (name === 'assets-scan') continue;
    for (const m of mounts(svc)) if (m.source === './library') assert.ok(m.readOnly, `${name}: ./library read-only`);
  }
});

test("compose: every service has a memory limit; Blender's cap leaves the workers room for Node", async () => {
  for (const env of [PROD, { ...PROD, WORKER_MEMORY_LIMIT: '64g', WORKER_CPU_MEMORY_LIMIT: '12g', BLENDER_MEMORY_LIMIT_MB: '8192' }]) {
    const s = (await compose(env)).services;
    const limitOf = (name: string) => {
      const svc = s[name];
      const limit = svc.deploy?.resources?.limits?.memory ?? svc.mem_limit;
      assert.ok(limit !== undefined, `${name} has a memory limit (deploy.resources.limits.memory or mem_limit)`);
      const b = bytes(limit);
      assert.ok(b >= 64 * MiB, `${name}: ${limit} is a usable limit`);
      return b;
    };
    for (const name of Object.keys(s)) limitOf(name);

    // Redis refuses writes at maxmemory rather than being killed at the container's limit.
    const cmd = s.redis.command as string[];
    const maxmemory = bytes(cmd[cmd.indexOf('--maxmemory') + 1]);
    assert.ok(cmd.includes('--maxmemory') && maxmemory <= 0.75 * limitOf('redis'), 'redis --maxmemory well below its limit');

    for (const name of BLENDER_SERVICES) {
      const e = s[name].environment as Record<string, string>;
      const cap = Number(e.BLENDER_MEMORY_LIMIT_MB);
      assert.ok(Number.isInteger(cap) && cap >= 1024, `${name}: BLENDER_MEMORY_LIMIT_MB ${e.BLENDER_MEMORY_LIMIT_MB}`);
      assert.equal(e.BLENDER_MEMORY_LIMIT_MB, env.BLENDER_MEMORY_LIMIT_MB ?? '6144', `${name}: the same Blender cap as every worker`);
      const slots = name === 'assets-scan' ? 1 : e.WORKER_SLOTS === 'auto' ? GPUS_SIZED_FOR : Number(e.WORKER_SLOTS);
      assert.ok(Number.isInteger(slots) && slots >= 1, `${name}: slots`);
      const limitMb = limitOf(name) / MiB;
      if (env === PROD || name !== 'worker') {
        assert.ok(limitMb >= slots * cap + NODE_ROOM_MB, `${name}: ${limitMb} MiB holds ${slots} Blender(s) of ${cap} MiB and Node`);
      }
    }
  }
});

test('compose: the GPU worker reserves NVIDIA GPUs, one slot each; worker-cpu is in the cpu profile without any', async () => {
  const s = (await compose()).services;
  const worker = s.worker;
  const devices = worker.deploy?.resources?.reservations?.devices as { driver: string; count: string; capabilities: string[] }[];
  assert.ok(Array.isArray(devices) && devices.length === 1, 'worker reserves devices');
  assert.deepEqual(devices[0], { driver: 'nvidia', count: 'all', capabilities: ['gpu'] });
  assert.match(worker.environment.WORKER_DEVICE, /^(optix|cuda)$/);
  assert.equal(worker.environment.WORKER_SLOTS, 'auto');
  assert.equal(worker.profiles, undefined, 'the GPU worker starts with a plain `docker compose up`');

  const cpu = s['worker-cpu'];
  assert.deepEqual(cpu.profiles, ['cpu']);
  assert.equal(cpu.deploy?.resources?.reservations, undefined, 'worker-cpu reserves no GPU');
  assert.equal(cpu.environment.WORKER_DEVICE, 'cpu');
  assert.equal(cpu.build.dockerfile, 'docker/worker.Dockerfile', 'the same image as the GPU worker');

  for (const w of [worker, cpu]) {
    assert.equal(w.environment.WORKER_HTTP_HOST, '0.0.0.0');
    assert.equal(w.environment.WORKER_HTTP_PORT, '9464');
    assert.equal(w.environment.WORKER_ALLOW_CPU_FALLBACK, '0');
    assert.ok(w.healthcheck.test.join(' ').includes(`:${w.environment.WORKER_HTTP_PORT}/healthz`), 'healthcheck on WORKER_HTTP_PORT');
    assert.equal(w.init, true, 'an init process reaps Blender children');
    // SIGTERM hands batches back within SHUTDOWN_DEADLINE_MS (30 s): compose must wait longer.
    assert.ok(Number.parseInt(w.stop_grace_period, 10) > 30, 'stop_grace_period exceeds the worker shutdown deadline');
  }
});
