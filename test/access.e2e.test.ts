import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadApiEnv } from '@synthline/config';
import { createRedis } from '@synthline/queue';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { startApi, type RunningApi } from '@synthline/api';
import { cli, tempDir, jobKeys } from './helpers.ts';

// Access control through real HTTP: API keys (stored hashed), loopback-only without keys,
// per-key rate limits and operator caps on jobs.
let redis: PrivateRedis;
const running: RunningApi[] = [];
let n = 0;

async function api(extra: Record<string, string>): Promise<RunningApi> {
  const a = await startApi(
    loadApiEnv({
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: `acc${process.pid}x${n++}`,
      SYNTHLINE_OUTPUT: await tempDir(),
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...extra,
    }),
  );
  running.push(a);
  return a;
}

/** A key made the way an operator makes one: `synthline api-key <name>`. */
async function makeKey(name: string): Promise<{ token: string; entry: string }> {
  const r = await cli(['api-key', name]);
  assert.equal(r.code, 0, r.all);
  const lines = r.stdout.split('\n').map((l) => l.trim());
  const token = lines.find((l) => l.startsWith('sl_')) ?? '';
  const entry = lines.find((l) => l.startsWith(`${name}:`)) ?? '';
  assert.ok(token && entry, r.stdout);
  assert.ok(!entry.includes(token), 'the server entry holds a hash, not the token');
  return { token, entry };
}

before(async () => {
  redis = await startPrivateRedis();
});
after(async () => {
  for (const a of running) await a.close();
  await redis.dispose();
});

test('with API keys, /v1 needs a valid bearer token; health stays open', async () => {
  const alice = await makeKey('alice');
  const dir = await tempDir();
  await writeFile(join(dir, 'keys'), `# operators' keys\n${alice.entry}\n`);
  const a = await api({ SYNTHLINE_API_KEYS_FILE: join(dir, 'keys') });
  const get = (auth?: string) => fetch(`${a.url}/v1/jobs`, auth ? { headers: { authorization: auth } } : {});
  const none = await get();
  assert.equal(none.status, 401);
  assert.match(none.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
  assert.equal((await get('Bearer sl_wrong')).status, 401);
  assert.equal((await get(`Bearer ${alice.token}`)).status, 200);
  assert.equal((await fetch(`${a.url}/healthz`)).status, 200);
  // The CLI client sends the key.
  assert.equal((await cli(['list', '--api', a.url])).code, 2);
  const ok = await cli(['list', '--api', a.url, '--api-key', alice.token]);
  assert.equal(ok.code, 0, ok.all);
});

test('without keys the API refuses to listen beyond loopback; a bad key entry names its source', async () => {
  await assert.rejects(api({ HOST: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0 without API keys/);
  await assert.rejects(api({ SYNTHLINE_API_KEYS: 'bob:not-a-hash' }), /SYNTHLINE_API_KEYS: "bob:not-a-hash" is not "name:sha256-of-token"/);
  const withKey = await api({ HOST: '0.0.0.0', SYNTHLINE_API_KEYS: (await makeKey('carol')).entry });
  assert.ok(withKey.url);
});

test('rate limits are per key: past the limit 429 with Retry-After, other keys unaffected', async () => {
  const k1 = await makeKey('k1');
  const k2 = await makeKey('k2');
  const a = await api({ SYNTHLINE_API_KEYS: `${k1.entry},${k2.entry}`, RATE_LIMIT_PER_MIN: '5' });
  const get = (t: string) => fetch(`${a.url}/v1/catalog`, { headers: { authorization: `Bearer ${t}` } });
  for (let i = 0; i < 5; i++) assert.equal((await get(k1.token)).status, 200);
  const limited = await get(k1.token);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.match(limited.headers.get('content-type') ?? '', /problem\+json/);
  assert.equal((await get(k2.token)).status, 200);
});

test('operator caps on count, resolution and samples name each field; nothing is enqueued', async () => {
  const prefix = `acc${process.pid}x${n}`;
  const a = await api({ MAX_COUNT: '100', MAX_RESOLUTION: '512', MAX_SAMPLES: '64' });
  const res = await fetch(`${a.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1000, render: { resolution: [1024, 256], samples: 128 } }),
  });
  assert.equal(res.status, 400);
  const p = (await res.json()) as { errors: { path: string }[] };
  assert.deepEqual(
    p.errors.map((e) => e.path),
    ['count', 'render.resolution[0]', 'render.samples'],
  );
  const r = createRedis(redis.url);
  assert.deepEqual(jobKeys(await r.keys(`${prefix}:*`)), [], 'no job and no batch stored');
  r.disconnect();
  const ok = await fetch(`${a.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 100, render: { resolution: [512, 512], samples: 64 } }),
  });
  assert.equal(ok.status, 202);
});

test('the body size limit answers 413', async () => {
  const a = await api({ BODY_LIMIT: '2048' });
  const res = await fetch(`${a.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x'.repeat(4000) }),
  });
  assert.equal(res.status, 413);
});
