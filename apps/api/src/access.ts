import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from './problem.ts';

/** An API key as the server stores it: a name and the sha256 of its token, never the token. */
export interface ApiKey {
  name: string;
  sha256: string;
}

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

/** A token bucket per client: `perMinute` requests, refilled evenly. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perMinute: number) {}

  /** Takes one token; returns seconds to wait if there is none. */
  take(who: string, now = Date.now()): number {
    const b = this.buckets.get(who) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    b.at = now;
    this.buckets.set(who, b);
    if (this.buckets.size > 100_000) this.buckets.clear(); // bound memory under a flood of addresses
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 60) / this.perMinute);
  }
}

/**
 * Bearer-token authentication and per-client rate limits for `/v1/*`. With keys configured every
 * such request needs `Authorization: Bearer <token>`; without, the API is only reachable from
 * this machine (the server refuses to listen beyond loopback). Health and docs stay open.
 */
export function registerAccess(app: FastifyInstance, opts: { keys: ApiKey[]; ratePerMinute: number }): void {
  const hashes = opts.keys.map((k) => ({ name: k.name, hash: Buffer.from(k.sha256, 'hex') }));
  const limiter = new RateLimiter(opts.ratePerMinute);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    let who = `ip:${request.ip}`;
    if (hashes.length > 0) {
      const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      const given = m ? Buffer.from(hashToken(m[1] as string), 'hex') : undefined;
      const key = given && hashes.find((h) => timingSafeEqual(h.hash, given));
      if (!key) {
        reply.header('www-authenticate', 'Bearer realm="synthline"');
        throw new ProblemError(401, 'unauthorized', m ? 'the API key is not valid' : 'this API needs an API key: "Authorization: Bearer <token>"');
      }
      who = `key:${key.name}`;
    }
    const wait = limiter.take(who);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new ProblemError(429, 'rate-limited', `more than ${opts.ratePerMinute} requests per minute; retry in ${wait} s`);
    }
  });
}
