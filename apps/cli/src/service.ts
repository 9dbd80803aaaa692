import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { UsageError, parseCommand } from './exit.ts';
import { usageOf } from './usage.ts';
import { canAptInstall, findRedisServer, startPrivateRedis, type PrivateRedis } from './private-redis.ts';
import { verifyDataset } from '@synthline/shards';
import { WorkerEnv, loadApiEnv, loadCliEnv, loadWorkerEnv } from '@synthline/config';
import { startApi } from '@synthline/api';
import { startWorker } from '@synthline/worker';
import { fileURLToPath } from 'node:url';
import { ApiClient, describe, watchWithProgress } from './client.ts';
import { cliLogger } from './log.ts';
import { readSpecText } from './spec-file.ts';

const QUICKSTART = fileURLToPath(new URL('../../../examples/quickstart.json', import.meta.url));

/**
 * Runs `stop` on the first SIGINT/SIGTERM and exits with `code`; a second signal exits at once.
 * Returns a function that removes the handlers.
 */
export function onSignals(stop: () => Promise<void>, code = 130): () => void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`\n${sig} again: exiting now\n`);
      process.exit(code);
    }
    stopping = true;
    process.stderr.write(`\n${sig}: stopping (again to force)\n`);
    void stop().finally(() => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** `synthline serve`: the REST API, configured from the environment. */
export async function serve(argv: string[] = []): Promise<number> {
  parseCommand('serve', usageOf('serve'), argv, {}, false);
  const env = loadApiEnv();
  const api = await startApi(env, { logger: cliLogger(env.LOG_LEVEL, 'synthline-api') });
  process.stderr.write(`synthline API listening on ${api.url} (web console: ${api.url}/, docs: ${api.url}/docs)\n`);
  await new Promise<void>((done) =>
    onSignals(async () => {
      await api.close();
      done();
    }, 0),
  );
  return 0;
}

/** `--slots`, checked by WORKER_SLOTS's rule but named as the flag the user typed. */
function slotsFlag(value: string): string {
  const r = WorkerEnv.shape.WORKER_SLOTS.safeParse(value);
  if (!r.success) throw new UsageError(`--slots: ${r.error.issues[0]?.message ?? `"${value}" is not valid`}`);
  return value;
}

/** `synthline worker [--slots N]`: renders batches until SIGTERM. */
export async function worker(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'worker',
    usageOf('worker'),
    argv,
    { slots: { type: 'string' }, doctor: { type: 'boolean', default: false } },
    false,
  );
  if (values.doctor) {
    // The worker image starts this way: a machine that cannot serve says why and takes no work.
    const { runDoctor, formatReport } = await import('./doctor.ts');
    const report = await runDoctor();
    process.stderr.write(formatReport(report));
    if (!report.can_serve) return 1;
  }
  const env = loadWorkerEnv({ ...process.env, ...(values.slots ? { WORKER_SLOTS: slotsFlag(values.slots) } : {}) });
  const w = await startWorker(env, { logger: cliLogger(env.LOG_LEVEL) });
  process.stderr.write(`synthline worker ${w.id} running; SIGTERM or Ctrl-C to stop\n`);
  await new Promise<void>((done) =>
    onSignals(async () => {
      await w.close();
      done();
    }, 0),
  );
  return 0;
}

/** redis-server, installed from Debian if absent and allowed. */
function ensureRedisServer(): void {
  try {
    findRedisServer();
    return;
  } catch (err) {
    if (!canAptInstall()) throw err;
  }
  process.stderr.write('redis-server is not installed: installing it from Debian (apt-get install -y redis-server)\n');
  const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null'], {
    stdio: 'inherit',
  });
  if (r.status !== 0)
    throw new Error('installing redis-server failed; install it with "sudo apt-get install -y redis-server" or set REDIS_URL');
  findRedisServer();
}

/** A private Redis (unless REDIS_URL is set), the API and one worker, in this process. */
export interface Stack {
  apiUrl: string;
  redisUrl: string;
  out: string;
  stop(): Promise<void>;
}

/** Starts the whole service on this machine, for `demo` and `up`. */
export async function startStack(opts: {
  out: string;
  slots: string;
  port: string;
  logLevel: string;
  /** WORKER_HTTP_PORT when the environment does not set it (demo: 0, none, so a demo beside `up` never fights over 9464). */
  workerHttpPort?: string;
}): Promise<Stack> {
  let redis: PrivateRedis | undefined;
  let url = loadCliEnv(['REDIS_URL']).REDIS_URL;
  if (!url) {
    ensureRedisServer();
    redis = await startPrivateRedis();
    url = redis.url;
    process.stderr.write(`private Redis on ${url} (data in ${redis.dir})\n`);
  }
  const out = resolve(opts.out);
  const env = {
    ...process.env,
    REDIS_URL: url,
    SYNTHLINE_OUTPUT: out,
    PORT: opts.port,
    WORKER_SLOTS: slotsFlag(opts.slots),
    LOG_LEVEL: opts.logLevel,
    ...(opts.workerHttpPort !== undefined && !process.env.WORKER_HTTP_PORT ? { WORKER_HTTP_PORT: opts.workerHttpPort } : {}),
  };
  try {
    const logger = cliLogger(opts.logLevel);
    const api = await startApi(loadApiEnv(env), { logger: logger.child({ name: 'synthline-api' }) });
    const w = await startWorker(loadWorkerEnv(env), { logger }).catch(async (err: unknown) => {
      await api.close();
      throw err;
    });
    let stopped: Promise<void> | undefined;
    return {
      apiUrl: api.url,
      redisUrl: url,
      out,
      stop: () =>
        (stopped ??= (async () => {
          await w.close();
          await api.close();
          await redis?.dispose();
        })()),
    };
  } catch (err) {
    await redis?.dispose();
    throw err;
  }
}

const STACK_OPTIONS = {
  out: { type: 'string', default: 'out/jobs' },
  slots: { type: 'string', default: '1' },
} as const;

/** `synthline up`: the service on this machine until Ctrl-C (API on port 8080 by default). */
export async function up(argv: string[]): Promise<number> {
  const cli = loadCliEnv(['PORT', 'LOG_LEVEL']);
  const { values } = parseCommand(
    'up',
    usageOf('up'),
    argv,
    { ...STACK_OPTIONS, port: { type: 'string', default: String(cli.PORT) } },
    false,
  );
  const stack = await startStack({ out: values.out, slots: values.slots, port: values.port, logLevel: cli.LOG_LEVEL ?? 'info' });
  // What the user came for, on stdout, after the start-up logs (on stderr).
  process.stdout.write(
    `synthline is up: API ${stack.apiUrl} (docs ${stack.apiUrl}/docs), one worker, datasets in ${stack.out}; Ctrl-C stops it\n` +
      `  web console:   ${stack.apiUrl}/\n` +
      `  submit a job:  synthline submit examples/quickstart.json --wait --api ${stack.apiUrl}\n`,
  );
  await new Promise<void>((done) =>
    onSignals(async () => {
      await stack.stop();
      done();
    }, 0),
  );
  return 0;
}

/**
 * `synthline demo`: starts the service on this machine (a private Redis unless REDIS_URL is set,
 * the API and one worker), submits the quickstart job over REST, shows its progress, verifies
 * the dataset and prints where it is. Ctrl-C stops everything it started.
 */
export async function demo(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    'demo',
    usageOf('demo'),
    argv,
    { ...STACK_OPTIONS, spec: { type: 'string', default: QUICKSTART }, port: { type: 'string', default: '0' } },
    false,
  );
  const stack = await startStack({
    out: values.out,
    slots: values.slots,
    port: values.port,
    logLevel: loadCliEnv(['LOG_LEVEL']).LOG_LEVEL ?? 'warn',
    workerHttpPort: '0',
  });
  const unhook = onSignals(() => stack.stop());
  try {
    process.stderr.write(
      `API on ${stack.apiUrl} (web console: ${stack.apiUrl}/, docs: ${stack.apiUrl}/docs); one worker with ${values.slots} slot(s)\n`,
    );
    const client = new ApiClient(stack.apiUrl);
    const job = await client.submit(await readSpecText(values.spec));
    process.stderr.write(`submitted ${values.spec} as job ${job.id} (POST ${stack.apiUrl}/v1/jobs)\n`);
    const final = await watchWithProgress(client, job.id);
    process.stdout.write(`\n${describe(final)}\n`);
    if (final.status !== 'completed' || !final.output) return 1;
    const dir = fileURLToPath(final.output.uri);
    const report = await verifyDataset(dir);
    process.stdout.write(
      report.ok
        ? `verified: ${report.samples} samples in ${report.shards} shard(s) match dataset.json\n`
        : `verify FAILED:\n  ${report.problems.join('\n  ')}\n`,
    );
    process.stdout.write(
      `\ndataset:       ${dir}\ncontact sheet: ${join(dir, 'contact-sheet.jpg')}\ncheck it again: synthline verify ${dir}\n`,
    );
    return report.ok ? 0 : 1;
  } finally {
    unhook();
    await stack.stop();
  }
}
