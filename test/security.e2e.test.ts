import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { loadApiEnv } from '@synthline/config';
import { createRedis } from '@synthline/queue';
import { freePort, startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { hashToken, startApi, type RunningApi } from '@synthline/api';
import { CLI, ROOT, jobKeys, tempDir, until } from './helpers.ts';
import { startTestS3, type TestS3 } from './s3-server.ts';

// Issue 10, "lock it down", through real HTTP against real API processes and a real Redis:
// access decided on the matched route, rate limits shared by replicas, bounded Redis
// (retention, caps, counters), quotas per key, timeouts and stream caps, and bad input that
// never answers 5xx nor shows a server path.
let redis: PrivateRedis;
const running: RunningApi[] = [];
const procs: ResultPromise[] = [];
let n = 0;

const ALICE = { name: 'alice', token: 'sl_test_alice_0123456789abcdef' };
const BOB = { name: 'bob', token: 'sl_test_bob_0123456789abcdef' };
const KEYS = [ALICE, BOB].map((k) => `${k.name}:${hashToken(k.token)}`).join(',');

async function api(extra: Record<string, string> = {}): Promise<RunningApi & { prefix: string }> {
  const prefix = `sec${process.pid}x${n++}`;
  const a = await startApi(
    loadApiEnv({
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: prefix,
      SYNTHLINE_OUTPUT: await tempDir(),
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...extra,
    }),
  );
  running.push(a);
  return { ...a, prefix };
}

const auth = (k: { token: string }) => ({ authorization: `Bearer ${k.token}` });
const json = { 'content-type': 'application/json' };

/** One raw HTTP/1.1 exchange: the request target goes on the wire exactly as written. */
function raw(url: string, request: string, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${request.split('\r\n')[0]}`));
    }, timeoutMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), text: data });
    });
    socket.write(request);
  });
}

const get = (url: string, target: string, headers = '') =>
  raw(url, `GET ${target} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n${headers}Connection: close\r\n\r\n`);

before(async () => {
  redis = await startPrivateRedis();
});
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const a of running) await a.close();
  await redis.dispose();
});

test('with keys, no spelling of a URL reaches a route without one; probes stay open, docs and metrics only when opened', async () => {
  const a = await api({ SYNTHLINE_API_KEYS: KEYS });
  const host = new URL(a.url).host;
  const targets = [
    '/v1/jobs',
    '/%761/jobs',
    '/v%31/jobs',
    `http://${host}/v1/jobs`,
    `HTTP://${host}/v1/jobs`,
    '//v1/jobs',
    '/v1//jobs',
    '/v1/./jobs',
    '/v1/../v1/jobs',
    '/x/../v1/jobs',
    '/V1/jobs',
    '/v1/JOBS',
    '/v1%2Fjobs',
    '/v1%2fjobs',
    '/v1/jobs/',
    '/v1/jobs?',
    '/v1/jobs#x',
    '/v1;/jobs',
    '/v1/jobs%00',
    '/%2e/v1/jobs',
    '/v1/%2e%2e/v1/jobs',
    '/v1/workers',
    '/%76%31/assets',
    '/v1/catalog',
    '/docs',
    '/docs/json',
    '/metrics',
    '/nothing-here',
    '*',
  ];
  for (const t of targets) {
    const r = await get(a.url, t);
    assert.ok([400, 401].includes(r.status), `${t}: ${r.status}\n${r.text.slice(0, 300)}`);
    assert.doesNotMatch(r.text, /"items"|"models"|"workers"|openapi|synthline_jobs/, `${t} leaked data`);
  }
  // Deleting and submitting by another spelling fail the same way.
  const del = await raw(a.url, `DELETE /v%31/jobs/abcdefabcdef HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.equal(del.status, 401);
  const body = '{"count": 1}';
  const post = await raw(
    a.url,
    `POST /%761/jobs HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(post.status, 401);
  assert.equal((await fetch(`${a.url}/healthz`)).status, 200);
  assert.notEqual((await fetch(`${a.url}/readyz`)).status, 401);
  assert.equal((await fetch(`${a.url}/v1/jobs`, { headers: auth(ALICE) })).status, 200);
  assert.equal((await get(a.url, '/metrics', `Authorization: Bearer ${ALICE.token}\r\n`)).status, 200, 'metrics with a key');
  assert.equal((await get(a.url, '/docs/json', `Authorization: Bearer ${ALICE.token}\r\n`)).status, 200, 'docs with a key');

  const opened = await api({ SYNTHLINE_API_KEYS: KEYS, SYNTHLINE_PUBLIC_DOCS: '1', SYNTHLINE_PUBLIC_METRICS: '1' });
  assert.equal((await fetch(`${opened.url}/metrics`)).status, 200);
  assert.equal((await fetch(`${opened.url}/docs/json`)).status, 200);
  assert.equal((await fetch(`${opened.url}/v1/jobs`)).status, 401, 'opening docs and metrics opens nothing else');
});

test('without keys only loopback Host names are answered (no DNS rebinding)', async () => {
  const a = await api();
  const port = new URL(a.url).port;
  for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `LOCALHOST:${port}`]) {
    assert.equal(
      (await get(a.url, '/v1/jobs').then(() => raw(a.url, `GET /v1/jobs HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`))).status,
      200,
      h,
    );
  }
  for (const h of [`evil.example:${port}`, 'attacker.test', `127.0.0.1.evil.example:${port}`, '']) {
    const r = await raw(a.url, `GET /v1/jobs HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
    assert.ok([400, 403].includes(r.status), `${h}: ${r.status}`);
    assert.doesNotMatch(r.text, /"items"/);
  }
});

test('the published development token is refused unless the operator opts in', async () => {
  const dev = 'dev:baf357006eeacdc5ef06fb9233ddff1aca753cd095e76d8666b89ed9a3bd980f';
  await assert.rejects(api({ SYNTHLINE_API_KEYS: dev }), /development token/);
  const a = await api({ SYNTHLINE_API_KEYS: dev, SYNTHLINE_ALLOW_DEV_TOKEN: '1' });
  assert.equal((await fetch(`${a.url}/v1/jobs`, { headers: { authorization: 'Bearer sl_dev_insecure_compose_token' } })).status, 200);
});

test('two API processes on one Redis share a key rate budget', async () => {
  const prefix = `secrl${process.pid}`;
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const p = execa('node', [CLI, 'serve'], {
      cwd: ROOT,
      reject: false,
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        SYNTHLINE_PREFIX: prefix,
        SYNTHLINE_OUTPUT: await tempDir(),
        PORT: String(port),
        LOG_LEVEL: 'silent',
        SYNTHLINE_API_KEYS: KEYS,
        RATE_LIMIT_PER_MIN: '10',
      },
    });
    procs.push(p);
    const url = `http://127.0.0.1:${port}`;
    await until('the API process', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok);
    urls.push(url);
  }
  const statuses: number[] = [];
  for (let i = 0; i < 16; i++) statuses.push((await fetch(`${urls[i % 2]}/v1/jobs`, { headers: auth(ALICE) })).status);
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200), 'ten requests pass, alternating between the processes');
  assert.deepEqual(statuses.slice(10), Array(6).fill(429), 'then both processes refuse: one budget');
  const limited = await fetch(`${urls[1]}/v1/jobs`, { headers: auth(ALICE) });
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.match(limited.headers.get('content-type') ?? '', /problem\+json/);
  assert.equal((await fetch(`${urls[0]}/v1/jobs`, { headers: auth(BOB) })).status, 200, 'another key has its own budget');
});

test('spec arrays and the body are bounded; ended jobs leave Redis after their retention; metrics count without reading jobs', async () => {
  const a = await api({ JOB_RETENTION_S: '1' });
  const post = (body: unknown) => fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  const big = await post({ count: 2, split: { hold_out: { backgrounds: Array(1001).fill('x.jpg'), colors: Array(101).fill('Blue') } } });
  assert.equal(big.status, 400);
  const paths = ((await big.json()) as { errors: { path: string }[] }).errors.map((e) => e.path);
  assert.ok(paths.includes('split.hold_out.backgrounds') && paths.includes('split.hold_out.colors'), paths.join());
  assert.equal((await post({ count: 2, name: 'x', seed: 1, pad: 'y'.repeat(70_000) })).status, 413, 'the default body limit is 64 KiB');

  const r = createRedis(redis.url);
  const base = (await r.info('memory')).match(/used_memory:(\d+)/)?.[1];
  assert.ok(base);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(((await (await post({ count: 2, name: `ret${i}` })).json()) as { id: string }).id);
  const metric = async (status: string) =>
    Number(new RegExp(`synthline_jobs\\{status="${status}"\\} (\\d+)`).exec(await (await fetch(`${a.url}/metrics`)).text())?.[1] ?? -1);
  assert.equal(await metric('queued'), 5);
  for (const id of ids) assert.equal((await fetch(`${a.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 200);
  assert.equal(await metric('queued'), 0);
  assert.equal(await metric('cancelled'), 5);
  // Retention 1 s: the sweep (every 0.5 s) forgets them; the counters follow.
  await until('the jobs to expire', async () => (await fetch(`${a.url}/v1/jobs/${ids[0]}`)).status === 404);
  await until(
    'every job to leave the index',
    async () => ((await (await fetch(`${a.url}/v1/jobs`)).json()) as { total: number }).total === 0,
  );
  assert.equal(await metric('cancelled'), 0);
  const left = (await r.keys(`${a.prefix}:job:*`)).concat(await r.zrange(`${a.prefix}:jobs`, 0, -1));
  assert.deepEqual(left, [], 'no job record left in Redis');
  r.disconnect();
});

test('quotas per key: jobs in flight, frames outstanding, a daily budget; 429 names the quota and when it frees', async () => {
  const a = await api({
    SYNTHLINE_API_KEYS: KEYS,
    QUOTA_JOBS_IN_FLIGHT: '2',
    QUOTA_FRAMES_OUTSTANDING: '1000',
    QUOTA_DAILY_BUDGET: '0',
    SYNTHLINE_QUOTAS: 'bob:jobs_in_flight=10,daily_budget=2',
  });
  const post = (k: { token: string }, body: unknown) =>
    fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: { ...json, ...auth(k) }, body: JSON.stringify(body) });
  const first = (await (await post(ALICE, { count: 10 })).json()) as { id: string };
  assert.equal((await post(ALICE, { count: 10 })).status, 202);
  const third = await post(ALICE, { count: 10 });
  assert.equal(third.status, 429);
  const p = (await third.json()) as { type: string; quota: string; limit: number; used: number; detail: string };
  assert.equal(p.type, 'urn:synthline:problem:quota-exceeded');
  assert.equal(p.quota, 'jobs_in_flight');
  assert.equal(p.limit, 2);
  assert.match(p.detail, /one must end \(or be cancelled\)/);
  await fetch(`${a.url}/v1/jobs/${first.id}`, { method: 'DELETE', headers: auth(ALICE) });
  assert.equal((await post(ALICE, { count: 10 })).status, 202, 'a cancelled job frees its place');
  // Bob: more jobs, but 2 units a day (count x megapixels x samples).
  assert.equal((await post(BOB, { count: 2000 })).status, 429, 'frames outstanding: the default applies to bob too');
  const ok = await post(BOB, { count: 1, render: { resolution: [100, 100], samples: 100 } }); // 1 x 0.01 MP x 100 = 1 unit
  assert.equal(ok.status, 202);
  const over = await post(BOB, { count: 2, render: { resolution: [100, 100], samples: 100 } });
  assert.equal(over.status, 429);
  const q = (await over.json()) as { quota: string; resets_at: string };
  assert.equal(q.quota, 'daily_budget');
  const retry = Number(over.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 86_400, `Retry-After ${retry}`);
  assert.equal(Date.parse(q.resets_at) % 86_400_000, 0, 'resets at UTC midnight');
  const r = createRedis(redis.url);
  assert.equal(jobKeys(await r.keys(`${a.prefix}:job:*`)).length, 4, 'refused submissions stored nothing');
  r.disconnect();
});

test('a client trickling its request is cut off; event streams are capped per client and cost Redis nothing while quiet', async () => {
  const a = await api({ REQUEST_TIMEOUT_MS: '1500', MAX_STREAMS_PER_KEY: '40' });
  const { hostname, port } = new URL(a.url);
  const started = Date.now();
  const cut = await new Promise<number>((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.write(`POST /v1/jobs HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
    const drip = setInterval(() => socket.write('{'), 300);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolve(Date.now() - started);
    });
    socket.on('error', () => undefined);
  });
  assert.ok(cut < 10_000, `cut off after ${cut} ms`);
  assert.equal((await fetch(`${a.url}/healthz`)).status, 200, 'the server answers others');

  const { id } = (await (await fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: json, body: '{"count": 2}' })).json()) as {
    id: string;
  };
  const streams: AbortController[] = [];
  for (let i = 0; i < 40; i++) {
    const c = new AbortController();
    const res = await fetch(`${a.url}/v1/jobs/${id}/events`, { signal: c.signal });
    assert.equal(res.status, 200);
    streams.push(c);
  }
  const refused = await fetch(`${a.url}/v1/jobs/${id}/events`);
  assert.equal(refused.status, 429);
  assert.equal(((await refused.json()) as { type: string }).type, 'urn:synthline:problem:too-many-streams');
  // 40 open streams on a quiet job: Redis sees (almost) no commands over two seconds.
  const r = createRedis(redis.url);
  const ops = async () => Number(/total_commands_processed:(\d+)/.exec(await r.info('stats'))?.[1]);
  const before = await ops();
  await new Promise((res) => setTimeout(res, 2000));
  const during = (await ops()) - before - 1;
  assert.ok(during < 40, `${during} Redis commands in 2 s with 40 open streams`);
  // A change reaches every stream through the one subscription: cancel, and each ends.
  streams.pop()?.abort();
  const follow = await fetch(`${a.url}/v1/jobs/${id}/events`);
  assert.equal(follow.status, 200, 'a closed stream frees its place');
  const text = follow.text();
  await fetch(`${a.url}/v1/jobs/${id}`, { method: 'DELETE' });
  assert.match(await text, /event: end/);
  for (const s of streams) s.abort();
  r.disconnect();
});

test('bad input never answers 5xx nor shows a server path; concurrent idempotent submits make one job; mixes on s3 are 400', async () => {
  const lib = await tempDir('synthline-sec-lib-');
  await mkdir(join(lib, 'products', 'nojson'), { recursive: true });
  await writeFile(join(lib, 'products', 'nojson', 'model.obj'), 'v 0 0 0\n');
  await mkdir(join(lib, 'products', 'badjson'), { recursive: true });
  await writeFile(join(lib, 'products', 'badjson', 'model.obj'), 'v 0 0 0\n');
  await writeFile(join(lib, 'products', 'badjson', 'product.json'), '{not json');
  const out = await tempDir('synthline-sec-out-');
  const a = await api({ SYNTHLINE_LIBRARY: lib, SYNTHLINE_OUTPUT: out, SYNTHLINE_REAL: await tempDir() });
  const answers: { what: string; status: number; text: string }[] = [];
  const call = async (what: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${a.url}${path}`, init);
    answers.push({ what, status: res.status, text: await res.text() });
  };
  const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
  for (const body of [deep(100), deep(100_000), `{"a":${deep(5000)}}`, `{"products":${'{"x":'.repeat(3000)}1${'}'.repeat(3000)}}`]) {
    await call('deep', '/v1/jobs', { method: 'POST', headers: { ...json, 'idempotency-key': 'deep' }, body });
    await call('deep', '/v1/mixes', { method: 'POST', headers: json, body });
  }
  await call('proto', '/v1/jobs', { method: 'POST', headers: json, body: '{"count": 1, "__proto__": {"x": 1}}' });
  await call('assets', '/v1/assets');
  await call('library spec', '/v1/jobs', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ count: 1, products: [{ asset: 'library:nojson' }, { asset: 'library:badjson' }, { asset: 'library:none' }] }),
  });
  await call('mix', '/v1/mixes', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ synthetic_job: 'abcdefabcdef', real: 'nope', ratio: '1:5' }),
  });
  if (process.env.SEC_DEBUG)
    console.log(
      JSON.stringify(
        answers.map((x) => [x.what, x.status, x.text.slice(0, 300)]),
        null,
        1,
      ),
    );
  for (const x of answers) {
    assert.ok(x.status < 500, `${x.what}: ${x.status} ${x.text.slice(0, 200)}`);
    for (const p of [lib, out, ROOT.replace(/\/$/, '')]) assert.ok(!x.text.includes(p), `${x.what} shows ${p}: ${x.text.slice(0, 400)}`);
  }
  assert.ok(answers.filter((x) => x.what === 'deep').every((x) => x.status === 400 || x.status === 413));
  assert.match(answers.find((x) => x.what === 'proto')?.text ?? '', /forbidden \\"__proto__\\"/);
  assert.equal(answers.find((x) => x.what === 'assets')?.status, 200);

  // 50 submits at once with one Idempotency-Key: one job, 49 answers naming it.
  const res = await Promise.all(
    Array.from({ length: 50 }, () =>
      fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: { ...json, 'idempotency-key': 'once' }, body: '{"count": 3, "name": "once"}' }),
    ),
  );
  const bodies = (await Promise.all(res.map((x) => x.json()))) as { id: string }[];
  assert.deepEqual(res.map((x) => x.status).sort(), [...Array(49).fill(200), 202].sort());
  assert.equal(new Set(bodies.map((b) => b.id)).size, 1);
  const list = (await (await fetch(`${a.url}/v1/jobs?limit=100`)).json()) as { items: { name: string }[] };
  assert.equal(list.items.filter((j) => j.name === 'once').length, 1, 'exactly one job stored');

  // Output in an object store: mixes are refused with 400, not 500.
  const s3: TestS3 = await startTestS3('secmix');
  try {
    for (const [k, v] of Object.entries(s3.env)) process.env[k] = v;
    const b = await api({ SYNTHLINE_OUTPUT: 's3://secmix/jobs' });
    const mix = await fetch(`${b.url}/v1/mixes`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ synthetic_job: 'abcdefabcdef', real: 'set', ratio: '1:5' }),
    });
    assert.equal(mix.status, 400);
    assert.match(((await mix.json()) as { detail: string }).detail, /mixes need a folder/);
  } finally {
    for (const k of Object.keys(s3.env)) delete process.env[k];
    await s3.close();
  }
});
