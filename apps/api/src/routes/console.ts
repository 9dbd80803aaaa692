import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** The files of the built console (apps/console/dist), by the name the page asks for. */
const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * The page may load only its own script and style, talk only to this origin, show images it
 * fetched (blob: URLs: sample images need the bearer key, so the page fetches them) and is never
 * framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleOptions {
  /** The built console (apps/console/dist). */
  dir: string;
}

/** Paths the console is served at: open without a key (the page holds no data; it asks for the key). */
export const CONSOLE_ROUTES = ['/', '/console/:file'];

/**
 * `GET /` and `GET /console/<file>`: the web console, a static page built by the install step
 * (`npm ci` runs apps/console/build.mjs). Sent gzipped to clients that accept it.
 */
export const consoleRoute: FastifyPluginAsync<ConsoleOptions> = async (app, { dir }) => {
  async function send(request: FastifyRequest, reply: FastifyReply, name: string, type: string): Promise<FastifyReply> {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding');
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    let body: Buffer;
    try {
      body = await readFile(join(dir, gzip ? `${name}.gz` : name));
      if (gzip) reply.header('content-encoding', 'gzip');
    } catch {
      try {
        body = await readFile(join(dir, name));
      } catch {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The web console is not built: run "npm ci" (or "npm run build:console") in the synthline checkout, then reload.\n');
      }
    }
    return reply.type(type).send(body);
  }

  app.get('/', { schema: { hide: true } }, (request, reply) => send(request, reply, 'index.html', 'text/html; charset=utf-8'));
  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true } }, async (request, reply) => {
    const type = FILES[request.params.file];
    if (!type) return reply.callNotFound();
    return send(request, reply, request.params.file, type);
  });
};
