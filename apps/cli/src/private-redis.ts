import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';

/** A redis-server this process started for itself (demo, tests). */
export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL); keeps its data folder. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port and data (persistence permitting). */
  restart(): Promise<void>;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
}

/** The redis-server binary, or an error saying how to install it. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (!dir) continue;
    const p = join(dir, 'redis-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error(
    'redis-server was not found. Install it with "sudo apt-get install -y redis-server", or set REDIS_URL to a Redis you run.',
  );
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // refused until the server listens; connect() reports it
    try {
      await r.connect();
      if ((await r.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms`);
    } finally {
      r.disconnect();
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Starts a private redis-server on a free port with its own data folder, set up as BullMQ
 * wants it: `maxmemory-policy noeviction`, and AOF persistence (`appendonly`) unless disabled.
 */
export async function startPrivateRedis(opts: { appendonly?: boolean; binary?: string } = {}): Promise<PrivateRedis> {
  const binary = opts.binary ?? findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'synthline-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  let proc: ChildProcess | undefined;
  const start = async () => {
    const p = spawn(binary, args, { stdio: 'ignore' });
    proc = p;
    const exited = new Promise<never>((_, reject) =>
      p.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}; see ${join(dir, 'redis.log')}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPing(url, 10_000), exited]);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  await start();
  // Make sure the server dies with this process even on an abrupt exit.
  const onExit = () => proc?.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url,
    port,
    dir,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      process.removeListener('exit', onExit);
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether the apt-get route to install redis-server is open (root on Debian). */
export function canAptInstall(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v apt-get && [ "$(id -u)" = 0 ]'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
