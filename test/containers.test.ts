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

/** The token whose hash is the compose file's default SYNTHLINE_API_KEYS entry (a dev default). */
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
  for (const i of all(s, 'ENV')) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1] as string, (m[2] as string).replace(/^"|"$/g, ''));
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

/** The value compose gives `${VAR:-default}` with VAR unset. */
function withDefaults(value: unknown): string {
  return String(value).replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name: string, def: string | undefined) => def ?? '');
}

type Compose = { name?: string; services: Record<string, any>; volumes?: Record<string, unknown> };
async function compose(): Promise<Compose> {
  return parseYaml(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
}

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
  for (const [name, command, port] of [['api.Dockerfile', 'serve', '8080'], ['worker.Dockerfile', 'worker', '9464']] as const) {
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
    assert.equal(last(final, 'CMD')?.args, `["${command}"]`, `${name}: CMD synthline ${command}`);
    // The sources run through tsx: the images install production dependencies only.
    assert.ok(stages.some((s) => all(s, 'RUN').some((i) => i.args.includes('npm ci --omit=dev'))), `${name}: npm ci --omit=dev`);
  }
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: Record<string, string> };
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
  const run = all(blender, 'RUN').map((i) => i.args).join('\n');
  assert.match(run, /https:\/\/download\.blender\.org\/release\/Blender\$\{series\}\/\$\{tarball\}/);
  assert.match(run, /echo "\$\{BLENDER_SHA256\} +\/tmp\/\$\{tarball\}" \| sha256sum -c -/, 'the tarball is checked against BLENDER_SHA256');
  assert.ok(run.indexOf('sha256sum -c') < run.indexOf('tar -xJf'), 'checked before it is unpacked');
  const raw = await readFile(join(ROOT, 'docker', 'worker.Dockerfile'), 'utf8');
  assert.ok(raw.includes('echo "${BLENDER_SHA256}  /tmp/${tarball}" | sha256sum -c -'), 'two spaces between hash and file, as sha256sum -c wants');
  assert.equal(argOf(final, 'BLENDER_VERSION'), version, 'the final stage checks the same version');
  const finalRun = all(final, 'RUN').map((i) => i.args).join('\n');
  assert.match(finalRun, /blender --factory-startup .*--version .*grep -F "Blender \$\{BLENDER_VERSION\}"/, 'the build runs the installed Blender once');
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
  assert.match(findBlender, /env\.BLENDER\b/);
});

test('.dockerignore keeps dependencies, outputs and git out of the build context', async () => {
  const entries = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  for (const e of ['**/node_modules', '.git', 'out', 'bench/results']) assert.ok(entries.includes(e), `.dockerignore lists ${e}`);
});

test('compose: redis with AOF and noeviction, every service healthy or a one-shot, images pinned', async () => {
  const c = await compose();
  assert.equal(c.name, 'synthline');
  const s = c.services;
  assert.deepEqual(Object.keys(s).sort(), ['api', 'minio', 'minio-init', 'redis', 'worker', 'worker-cpu']);

  const redisCmd = (s.redis.command as string[]).join(' ');
  assert.match(s.redis.image, /^redis:7(\.\d+)*(-[\w.]+)?$/);
  assert.match(redisCmd, /--appendonly yes/);
  assert.match(redisCmd, /--maxmemory-policy noeviction/);
  assert.deepEqual(s.redis.healthcheck.test, ['CMD', 'redis-cli', 'ping']);

  const oneShots = new Set<string>();
  for (const svc of Object.values(s)) {
    for (const [dep, cond] of Object.entries((svc.depends_on ?? {}) as Record<string, { condition: string }>)) {
      assert.ok(s[dep], `depends on a service that exists: ${dep}`);
      if (cond.condition === 'service_completed_successfully') oneShots.add(dep);
    }
  }
  for (const [name, svc] of Object.entries(s)) {
    if (oneShots.has(name)) {
      assert.equal(svc.restart, 'no', `${name} is a one-shot: never restarted`);
      assert.equal(svc.healthcheck, undefined);
      continue;
    }
    assert.ok(svc.healthcheck?.test, `${name} has a healthcheck`);
    assert.notEqual(svc.healthcheck.disable, true, `${name}: healthcheck not disabled`);
    assert.equal(svc.restart, 'unless-stopped', `${name} restarts`);
  }
  assert.deepEqual([...oneShots], ['minio-init']);

  for (const [name, svc] of Object.entries(s)) {
    if (svc.image) {
      assert.match(svc.image, /^[\w./-]+:[\w.-]+$/, `${name}: image has a tag`);
      assert.doesNotMatch(svc.image, /:latest$/, `${name}: image is pinned`);
    } else {
      assert.ok(existsSync(join(ROOT, svc.build.context, svc.build.dockerfile)), `${name}: builds ${svc.build.dockerfile}`);
    }
  }
  for (const name of ['api', 'worker', 'worker-cpu']) {
    assert.deepEqual(s[name].depends_on, {
      'minio-init': { condition: 'service_completed_successfully' },
      redis: { condition: 'service_healthy' },
    }, `${name} waits for Redis and the bucket`);
  }
  assert.equal(s['minio-init'].depends_on.minio.condition, 'service_healthy');
  assert.ok(s.minio.healthcheck.test.includes('ready'));
  assert.ok(c.volumes && 'redis-data' in c.volumes && 'minio-data' in c.volumes, 'redis and minio keep their data in volumes');
});

test('compose: api and workers share Redis and the bucket; the API has keys and the documented dev token works', async () => {
  const s = (await compose()).services;
  const bucket = /^s3:\/\/([^/]+)\//.exec(s.api.environment.SYNTHLINE_OUTPUT)?.[1];
  assert.equal(bucket, 'synthline');
  assert.deepEqual(s['minio-init'].command, ['mb', '--ignore-existing', `local/${bucket}`], 'minio-init creates the bucket');
  for (const name of ['api', 'worker', 'worker-cpu']) {
    const env = s[name].environment as Record<string, string>;
    assert.equal(env.REDIS_URL, 'redis://redis:6379', `${name}: REDIS_URL`);
    assert.equal(env.SYNTHLINE_OUTPUT, 's3://synthline/datasets', `${name}: SYNTHLINE_OUTPUT`);
    assert.equal(env.AWS_ENDPOINT_URL, 'http://minio:9000', `${name}: AWS_ENDPOINT_URL`);
    assert.equal(env.SYNTHLINE_S3_PATH_STYLE, '1', `${name}: path-style S3 for MinIO`);
    for (const v of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) assert.ok(withDefaults(env[v]), `${name}: ${v} has a value`);
    assert.equal(withDefaults(env.AWS_ACCESS_KEY_ID), withDefaults(s.minio.environment.MINIO_ROOT_USER), `${name}: MinIO's user`);
    assert.equal(withDefaults(env.AWS_SECRET_ACCESS_KEY), withDefaults(s.minio.environment.MINIO_ROOT_PASSWORD), `${name}: MinIO's password`);
  }
  const api = s.api.environment as Record<string, string>;
  assert.equal(api.HOST, '0.0.0.0');
  const keys = withDefaults(api.SYNTHLINE_API_KEYS);
  const m = /^([A-Za-z0-9_.-]{1,64}):([0-9a-f]{64})$/.exec(keys);
  assert.ok(m, `the API's default key "${keys}" is a name:sha256 entry (else it refuses to listen on 0.0.0.0)`);
  assert.equal(m[2], createHash('sha256').update(DEV_TOKEN).digest('hex'), `the default key is the hash of ${DEV_TOKEN}`);
  assert.ok(String(api.SYNTHLINE_API_KEYS).startsWith('${SYNTHLINE_API_KEYS:-'), 'the key can be replaced by the environment');
  const composeText = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
  assert.ok(composeText.includes(DEV_TOKEN), 'the compose file names the dev token in a comment');
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(DEV_TOKEN), 'the README uses the same dev token');
  assert.deepEqual(s.api.ports, ['127.0.0.1:8080:8080']);
});

test('compose: the GPU worker reserves NVIDIA GPUs, one slot each; worker-cpu is in the cpu profile without any', async () => {
  const s = (await compose()).services;
  const worker = s.worker;
  const devices = worker.deploy?.resources?.reservations?.devices as { driver: string; count: string; capabilities: string[] }[];
  assert.ok(Array.isArray(devices) && devices.length === 1, 'worker reserves devices');
  assert.deepEqual(devices[0], { driver: 'nvidia', count: 'all', capabilities: ['gpu'] });
  assert.match(withDefaults(worker.environment.WORKER_DEVICE), /^(optix|cuda)$/);
  assert.equal(worker.environment.WORKER_SLOTS, 'auto');
  assert.equal(worker.profiles, undefined, 'the GPU worker starts with a plain `docker compose up`');

  const cpu = s['worker-cpu'];
  assert.deepEqual(cpu.profiles, ['cpu']);
  assert.equal(cpu.deploy, undefined, 'worker-cpu reserves no GPU');
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
