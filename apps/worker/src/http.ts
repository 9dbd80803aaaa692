import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface WorkerHttpOptions {
  host: string;
  port: number;
  log: Logger;
  /** The Prometheus exposition. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** Why the worker is not healthy, or null when it is. */
  unhealthy: () => Promise<string | null>;
}

export interface WorkerHttp {
  /** e.g. `http://127.0.0.1:9464` */
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's own small HTTP server: `GET /metrics` (Prometheus text) and `GET /healthz` (200
 * while the worker runs and Redis answers, 503 otherwise). Anything else is 404. No auth: it
 * listens on loopback unless WORKER_HTTP_HOST says otherwise.
 */
export async function startWorkerHttp(opts: WorkerHttpOptions): Promise<WorkerHttp> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    }
    void (async () => {
      try {
        if (path === '/metrics') {
          const m = await opts.metrics();
          return send(200, m.contentType, m.body);
        }
        if (path === '/healthz') {
          const why = await opts.unhealthy();
          return why === null
            ? send(200, 'application/json', JSON.stringify({ status: 'ok' }))
            : send(503, 'application/json', JSON.stringify({ status: 'unavailable', reason: why }));
        }
        send(404, 'application/json', JSON.stringify({ error: 'not found: try /metrics or /healthz' }));
      } catch (err) {
        opts.log.warn({ err, path }, 'worker HTTP request failed');
        if (!res.headersSent) send(500, 'application/json', JSON.stringify({ error: 'internal error' }));
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.warn({ err }, 'worker HTTP server error'));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The worker's HTTP server on `host:port` (port 0: none). Healthy while the worker is not
 * shutting down and Redis answers PING within a second. A port already taken (several workers
 * on one machine) is logged and the worker runs without it: returns undefined then.
 */
export async function serveWorkerHttp(opts: {
  host: string;
  port: number;
  log: Logger;
  metrics: WorkerHttpOptions['metrics'];
  closing: () => boolean;
  redis: { ping(): Promise<string> };
}): Promise<WorkerHttp | undefined> {
  if (opts.port === 0) return undefined;
  try {
    const http = await startWorkerHttp({
      host: opts.host,
      port: opts.port,
      log: opts.log,
      metrics: opts.metrics,
      unhealthy: async () => {
        if (opts.closing()) return 'shutting down';
        const pong = await Promise.race([
          opts.redis.ping().catch(() => 'error'),
          new Promise((r) => setTimeout(() => r('timeout'), 1000).unref()),
        ]);
        return pong === 'PONG' ? null : 'Redis does not answer PING';
      },
    });
    opts.log.info({ url: http.url }, 'worker metrics on /metrics, health on /healthz');
    return http;
  } catch (err) {
    // An expected condition (two workers on one machine), not a crash: one line, no stack.
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${opts.port} is taken` : (err as Error).message;
    opts.log.warn(
      { host: opts.host, port: opts.port, code },
      `worker HTTP server not started (${why}): no /metrics or /healthz for this worker; set WORKER_HTTP_PORT to a free port, or 0 for none`,
    );
    return undefined;
  }
}
