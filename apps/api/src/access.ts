import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from './problem.ts';

/** An API key as the server stores it: a name and the sha256 of its token, never the token. */
export interface ApiKey {
  name: string;
  sha256: string;
}

/** sha256 of the development token docker-compose once published (`sl_dev_insecure_compose_token`): refused unless opted into. */
export const DEV_TOKEN_SHA256 = 'baf357006eeacdc5ef06fb9233ddff1aca753cd095e76d8666b89ed9a3bd980f';

/** sha256 of a bearer token, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Parses `name:sha256` entries separated by commas or newlines; `#` starts a comment. */
export function parseKeys(text: string, where: string): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9_.-]{1,64}):([0-9a-f]{64})$/.exec(line);
    if (!m) throw new Error(`${where}: "${line.slice(0, 40)}" is not "name:sha256-of-token" (make one with "synthline api-key <name>")`);
    keys.push({ name: m[1] as string, sha256: m[2] as string });
  }
  return keys;
}

/** The keys from SYNTHLINE_API_KEYS and SYNTHLINE_API_KEYS_FILE. */
export function loadKeys(env: { SYNTHLINE_API_KEYS: string; SYNTHLINE_API_KEYS_FILE: string }): ApiKey[] {
  const keys = parseKeys(env.SYNTHLINE_API_KEYS, 'SYNTHLINE_API_KEYS');
  if (env.SYNTHLINE_API_KEYS_FILE) {
    let text: string;
    try {
      text = readFileSync(env.SYNTHLINE_API_KEYS_FILE, 'utf8');
    } catch (err) {
      throw new Error(`SYNTHLINE_API_KEYS_FILE: cannot read ${env.SYNTHLINE_API_KEYS_FILE}: ${(err as Error).message}`);
    }
    keys.push(...parseKeys(text, env.SYNTHLINE_API_KEYS_FILE));
  }
  return keys;
}

/** Whether a listen address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Whether a Host header names this machine by a loopback name (any port). */
export function isLoopbackHostHeader(value: string | undefined): boolean {
  if (!value) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(value.trim());
  return m !== null && isLoopback((m[1] as string).toLowerCase());
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking, as quotas, rate limits and stream caps count it: `key:<name>` for an API
     * key, `ip:<address>` without keys.
     */
    principal: string;
    /** The owner of what this request creates: the key's name, or `local` without keys. */
    owner: string;
  }
}

/** Routes that answer without a key, by their registered path; the rest need one (deny by default). */
export interface OpenRoutes {
  /** `/docs` and the OpenAPI document (SYNTHLINE_PUBLIC_DOCS). */
  docs: boolean;
  /** `/metrics` (SYNTHLINE_PUBLIC_METRICS). */
  metrics: boolean;
}

/**
 * Probes answer everyone: a load balancer or orchestrator has no key. So does the web console's
 * static page (`/`, `/console/<file>`): it holds no data, and asks for the key itself.
 */
const ALWAYS_OPEN = new Set(['/healthz', '/readyz', '/', '/console/:file']);

function isOpen(route: string | undefined, url: string, open: OpenRoutes): boolean {
  if (route === undefined) return false; // no route matched: a 404 for the keyed only
  // The router also matches odd request targets (`*`) to `/`: the console page is open only when asked for by its path.
  if (route === '/' && !/^\/(?:[?#]|$)/.test(url)) return false;
  if (ALWAYS_OPEN.has(route)) return true;
  if (open.docs && (route === '/docs' || route.startsWith('/docs/'))) return true;
  if (open.metrics && route === '/metrics') return true;
  return false;
}

/**
 * Access control, decided on the route the router matched (never on the raw URL, whose
 * spellings the router normalises: `/%761/jobs`, `//v1/jobs`, `/v1/./jobs`, an absolute-form
 * target). With keys configured every route needs `Authorization: Bearer <token>` except the
 * probes and what the operator opens ({@link OpenRoutes}); unmatched URLs too, so a 404 tells a
 * stranger nothing. Without keys the server listens on loopback only and answers only requests
 * whose Host is a loopback name: a web page the user visits cannot reach it by DNS rebinding.
 *
 * Rate limits are @fastify/rate-limit's, counted in Redis, so API replicas behind one load
 * balancer share a client's budget; they are registered after this hook and so count the key.
 */
export function registerAccess(app: FastifyInstance, opts: { keys: ApiKey[]; open: OpenRoutes }): void {
  const hashes = opts.keys.map((k) => ({ name: k.name, hash: Buffer.from(k.sha256, 'hex') }));
  app.decorateRequest('principal', '');
  app.decorateRequest('owner', '');
  app.addHook('onRequest', async (request, reply) => {
    request.principal = `ip:${request.ip}`;
    request.owner = 'local';
    if (hashes.length === 0) {
      if (!isLoopbackHostHeader(request.headers.host)) {
        throw new ProblemError(
          403,
          'host-not-allowed',
          'without API keys this API answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]); configure SYNTHLINE_API_KEYS to serve other names',
        );
      }
      return;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const given = m ? Buffer.from(hashToken(m[1] as string), 'hex') : undefined;
    const key = given && hashes.find((h) => timingSafeEqual(h.hash, given));
    if (key) {
      request.principal = `key:${key.name}`;
      request.owner = key.name;
      return;
    }
    if (isOpen(request.routeOptions.url, request.url, opts.open)) return;
    reply.header('www-authenticate', 'Bearer realm="synthline"');
    throw new ProblemError(
      401,
      'unauthorized',
      m ? 'the API key is not valid' : 'this API needs an API key: "Authorization: Bearer <token>"',
    );
  });
}
