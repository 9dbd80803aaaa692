import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { loadApiEnv } from '@synthline/config';
import { Stream } from '@synthline/base';
import { createRedis } from '@synthline/queue';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { startApi, type RunningApi } from '@synthline/api';
import { tempDir, jobKeys } from './helpers.ts';

// At least 1,000 generated malformed and hostile requests against the real API: only 4xx
// problem+json answers, no 5xx, the server still answers, nothing enqueued, no file written
// outside the output root (nor anywhere a hostile string names).
let redis: PrivateRedis;
let api: RunningApi;
let out: string;
const prefix = `fuzz${process.pid}`;

before(async () => {
  redis = await startPrivateRedis();
  out = await tempDir('synthline-fuzz-out-');
  api = await startApi(
    loadApiEnv({
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: prefix,
      SYNTHLINE_OUTPUT: out,
      SYNTHLINE_LIBRARY: await tempDir(),
      SYNTHLINE_REAL: await tempDir(),
      PORT: '0',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MIN: '1000000',
      BODY_LIMIT: '262144',
    }),
  );
});
after(async () => {
  await api.close();
  await redis.dispose();
});

const CANARY = `/tmp/synthline-fuzz-pwned-${process.pid}`;
const HOSTILE = [
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/shadow',
  `${CANARY}`,
  'file:///etc/passwd',
  '%2e%2e%2f%2e%2e%2fetc',
  `__import__('os').system('touch ${CANARY}')`,
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `; touch ${CANARY}`,
  `"; import os; os.system("touch ${CANARY}"); "`,
  '{{7*7}}',
  '${process.exit(1)}',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '\u0000\u0001\u0002\u001b[31m',
  '\ud83d\ude00\u202e\u200b',
  'a'.repeat(5000),
  '\r\nX-Injected: yes',
  'NaN',
  '-1',
  '1e309',
  'builtin:../../etc',
  'library:../../../etc/passwd',
  'library:',
  'builtin:',
  '.',
  '..',
  '',
];
const WEIRD_VALUES: unknown[] = [
  null,
  true,
  false,
  -1,
  0,
  -1e308,
  1e308,
  2 ** 53 + 1,
  -0,
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: a hostile value, not pi
  3.14159,
  [],
  {},
  [[[]]],
  { a: { b: { c: 1 } } },
  'x',
  ...HOSTILE,
];

/** A spec that is valid except where the mutation breaks it. */
const base = () => ({ name: 'fuzz', count: 2, products: [{ asset: 'builtin:iphone-8' }], render: { resolution: [64, 64], samples: 4 } });

/** Every JSON path of a value, for putting hostile values anywhere. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}
function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let cur: Record<string | number, unknown> = root;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1] as string | number] = value;
  return root;
}
const FIELDS = [
  'name',
  'count',
  'seed',
  'version',
  'products',
  'render',
  'render.resolution',
  'render.samples',
  'render.engine',
  'render.format',
  'camera.distance_m',
  'camera.elevation_deg',
  'lights.count',
  'lights.types',
  'world.hdris',
  'world.strength',
  'product.face_down_probability',
  'background.images',
  'background.image_probability',
  'sensor.noise_sigma',
  'output.shard_size',
  'output.class_by',
  'split.name',
];

interface Req {
  method: string;
  path: string;
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
}

function generate(n: number): Req[] {
  const r = new Stream(1234, 0, 'fuzz');
  const reqs: Req[] = [];
  const post = (body: string | Buffer, type = 'application/json', headers: Record<string, string> = {}) =>
    reqs.push({ method: 'POST', path: '/v1/jobs', body, type, headers });
  // Broken JSON.
  const good = JSON.stringify(base());
  for (let i = 0; i < 120; i++) {
    const cut = good.slice(0, r.int(0, good.length - 2));
    const junk = String.fromCharCode(...Array.from({ length: r.int(1, 30) }, () => r.int(0, 255)));
    post(
      r.pick([
        cut,
        `${good},`,
        `${good.slice(0, -1)},}`,
        junk,
        `{"count": 2,}`,
        `{'count': 2}`,
        `{"count": NaN}`,
        `{"count": Infinity}`,
        `{"count": 0x10}`,
        '[]',
        '"str"',
        '1',
        'null',
        '',
      ]),
    );
  }
  // Deep nesting and huge arrays and numbers.
  for (const depth of [100, 1000, 10000, 50000]) {
    post(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    // With an Idempotency-Key the body is hashed before validation: it must be refused first.
    post(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, 'application/json', { 'idempotency-key': `deep-${depth}` });
    post(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    post(
      JSON.stringify({
        ...base(),
        products: [
          { asset: 'builtin:iphone-8', colors: JSON.parse(`${'['.repeat(Math.min(depth, 2000))}"x"${']'.repeat(Math.min(depth, 2000))}`) },
        ],
      }),
    );
  }
  // Arrays a spec keeps in Redis, past their caps (the hold-out lists had none).
  for (const len of [1001, 2000, 5000]) {
    post(JSON.stringify({ ...base(), split: { hold_out: { backgrounds: Array.from({ length: len }, (_, i) => `b${i}.jpg`) } } }));
    post(
      JSON.stringify({
        ...base(),
        split: { hold_out: { colors: Array.from({ length: len }, () => 'Blue'), hdris: Array.from({ length: len }, () => 'city') } },
      }),
    );
    post(JSON.stringify({ ...base(), camera: { distance_m: { choice: Array.from({ length: len * 2 }, () => 0.3) } } }));
  }
  for (const len of [1001, 5000, 20000]) {
    post(JSON.stringify({ ...base(), products: Array.from({ length: len }, () => ({ asset: 'builtin:iphone-8' })) }));
    post(JSON.stringify({ ...base(), world: { hdris: Array.from({ length: len }, () => 'studio') }, count: -5 }));
  }
  for (const num of ['1e309', '-1e309', '123456789012345678901234567890', '-0.0000000001', '9007199254740993']) {
    post(`{"count": ${num}}`);
    post(`{"render": {"samples": ${num}}, "count": 0}`);
  }
  // Hostile or wrong-typed values at every field.
  for (let i = 0; i < 500; i++) {
    const spec = base() as Record<string, unknown>;
    const field = r.pick(FIELDS);
    const value = r.pick(WEIRD_VALUES);
    const parts = field.split('.');
    let cur = spec;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1] as string] = r.chance(0.3) ? [value] : value;
    // Make sure it is refused: hostile strings also go where only catalog values are valid.
    if (field !== 'products')
      spec.products = [{ asset: r.pick(HOSTILE.filter((h) => h !== '')), colors: [r.pick(HOSTILE.filter((h) => h !== ''))] }];
    post(JSON.stringify(spec));
  }
  // Every string of a valid spec replaced by a hostile one.
  const all = paths(base()).filter((p) => p.length > 0);
  for (let i = 0; i < 150; i++) {
    const spec = base() as Record<string, unknown>;
    const p = r.pick(all);
    setAt(spec, p, r.pick(HOSTILE));
    spec.count = r.pick([-1, 0, 1e12, 'many']);
    post(JSON.stringify(spec));
  }
  // Unknown fields with hostile names, prototype pollution.
  for (const h of HOSTILE.slice(0, 15)) post(JSON.stringify({ ...base(), [h]: 1 }));
  post('{"__proto__": {"polluted": true}, "count": -1}');
  post('{"constructor": {"prototype": {"polluted": true}}}');
  // Wrong content types and headers.
  for (const type of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'image/png',
    'application/json; charset=utf-7',
  ]) {
    post(type.startsWith('application/json') ? '{"count": -1}' : 'count=2', type);
  }
  post(JSON.stringify({ ...base(), count: -2 }), 'application/json', { 'idempotency-key': `../../${CANARY}` });
  // Hostile ids, indices and queries on every other route.
  // '', '.' and '..' are left out: URL normalisation turns them into other, valid paths.
  for (const h of HOSTILE.filter((x) => !['', '.', '..'].includes(x))) {
    const e = encodeURIComponent(h);
    reqs.push({ method: 'GET', path: `/v1/jobs/${e}` });
    reqs.push({ method: 'DELETE', path: `/v1/jobs/${e}` });
    reqs.push({ method: 'GET', path: `/v1/jobs/${e}/samples/${e}` });
    reqs.push({ method: 'GET', path: `/v1/jobs/abcdefABCDEF/samples/${e}` });
    reqs.push({ method: 'GET', path: `/v1/jobs/${e}/events` });
    reqs.push({ method: 'GET', path: `/v1/jobs?status=${e}&limit=${e}&cursor=${e}` });
    reqs.push({ method: 'GET', path: `/v1/mixes/${e}` });
    reqs.push({
      method: 'POST',
      path: '/v1/mixes',
      body: JSON.stringify({ synthetic_job: h, real: h, ratio: h }),
      type: 'application/json',
    });
    reqs.push({
      method: 'POST',
      path: '/v1/mixes',
      body: JSON.stringify({ synthetic_job: 'abcdefABCDEF', real: h, ratio: '1:5' }),
      type: 'application/json',
    });
  }
  for (const p of ['/v1/../../etc/passwd', '/v1/jobs/%00', '/%2e%2e/%2e%2e/etc/passwd', '/v1/jobs/a/b/c/d', '/docs/../../etc'])
    reqs.push({ method: 'GET', path: p });
  // Pages past the end, cursors that are not ours.
  for (const c of ['', 'x', 'MTox', 'OTk5OTk5OTk5OTk5OTk5OTk5OTk6YQ', Buffer.from('1:../../etc').toString('base64url')])
    reqs.push({ method: 'GET', path: `/v1/jobs?cursor=${c}&offset=5` });
  while (reqs.length < n) post(JSON.stringify({ ...base(), seed: -r.int(1, 1e9), name: r.pick(HOSTILE) }));
  return reqs;
}

test('1,000+ hostile requests: only 4xx problem+json, the server lives, nothing enqueued, nothing written', async () => {
  const reqs = generate(1100);
  assert.ok(reqs.length >= 1000, `${reqs.length} requests`);
  const bad: string[] = [];
  const statuses: Record<number, number> = {};
  for (const q of reqs) {
    const res = await fetch(`${api.url}${q.path.startsWith('/') ? q.path : `/${q.path}`}`, {
      method: q.method,
      headers: { ...(q.type ? { 'content-type': q.type } : {}), ...(q.headers ?? {}) },
      ...(q.body !== undefined ? { body: q.body } : {}),
    }).catch((e: unknown) => ({ status: 0, headers: new Headers(), text: async () => String(e) }) as unknown as Response);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    if (res.status < 400 || res.status > 499 || !type.includes('application/problem+json') || text.includes(out)) {
      bad.push(`${q.method} ${q.path.slice(0, 80)} ${String(q.body ?? '').slice(0, 120)} -> ${res.status} ${type} ${text.slice(0, 160)}`);
    }
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} bad answers; statuses ${JSON.stringify(statuses)}`);
  assert.equal((await fetch(`${api.url}/healthz`)).status, 200, 'the server still answers');
  const ok = await fetch(`${api.url}/v1/catalog`);
  assert.equal(ok.status, 200);
  const r = createRedis(redis.url);
  const keys = jobKeys(await r.keys(`${prefix}:*`));
  r.disconnect();
  assert.deepEqual(keys, [], 'nothing was stored or enqueued');
  assert.deepEqual(await readdir(out), [], 'nothing was written to the output root');
  assert.equal(existsSync(CANARY), false, 'no hostile text was ever run');
});

test('with API keys, the same hostile requests and URL spellings without a key are all refused; nothing stored', async () => {
  const keyedPrefix = `${prefix}k`;
  const keyed = await startApi(
    loadApiEnv({
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: keyedPrefix,
      SYNTHLINE_OUTPUT: out,
      SYNTHLINE_LIBRARY: await tempDir(),
      SYNTHLINE_REAL: await tempDir(),
      PORT: '0',
      LOG_LEVEL: 'silent',
      SYNTHLINE_API_KEYS: `fuzz:${'ab'.repeat(32)}`,
    }),
  );
  try {
    const spellings = [
      '/%761/jobs',
      '/v%31/jobs',
      '//v1/jobs',
      '/v1/./jobs',
      '/v1/../v1/jobs',
      '/V1/jobs',
      '/v1%2Fjobs',
      '/v1/jobs/',
      '/%2e/v1/jobs',
      '/v1;/jobs',
    ];
    const reqs: Req[] = [
      ...generate(600),
      ...spellings.flatMap((path): Req[] => [
        { method: 'GET', path },
        { method: 'POST', path, body: '{"count": 1}', type: 'application/json' },
      ]),
    ];
    const bad: string[] = [];
    for (const q of reqs) {
      const res = await fetch(`${keyed.url}${q.path}`, {
        method: q.method,
        headers: { ...(q.type ? { 'content-type': q.type } : {}), ...(q.headers ?? {}), authorization: 'Bearer sl_not_a_key' },
        ...(q.body !== undefined ? { body: q.body } : {}),
      }).catch((e: unknown) => ({ status: 0, text: async () => String(e) }) as unknown as Response);
      const text = await res.text();
      if (![400, 401, 413, 414].includes(res.status) || /"items"|"models"|"id":/.test(text))
        bad.push(`${q.method} ${q.path.slice(0, 60)} -> ${res.status} ${text.slice(0, 120)}`);
    }
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} requests got past the key check`);
    const r = createRedis(redis.url);
    const keys = jobKeys(await r.keys(`${keyedPrefix}:*`));
    r.disconnect();
    assert.deepEqual(keys, [], 'nothing was stored or enqueued');
  } finally {
    await keyed.close();
  }
});
