import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startWorkerHttp } from './http.ts';

test('worker HTTP server: /metrics, /healthz 200 or 503 with the reason, 404, 405', async () => {
  let why: string | null = null;
  const http = await startWorkerHttp({
    host: '127.0.0.1',
    port: 0,
    log: pino({ enabled: false }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'x_total 1\n' }),
    unhealthy: async () => why,
  });
  try {
    const m = await fetch(`${http.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(await m.text(), 'x_total 1\n');
    assert.equal((await fetch(`${http.url}/healthz`)).status, 200);
    why = 'Redis does not answer PING';
    const bad = await fetch(`${http.url}/healthz?x=1`);
    assert.equal(bad.status, 503);
    assert.deepEqual(await bad.json(), { status: 'unavailable', reason: 'Redis does not answer PING' });
    assert.equal((await fetch(`${http.url}/other`)).status, 404);
    const post = await fetch(`${http.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  } finally {
    await http.close();
  }
  await assert.rejects(fetch(`${http.url}/healthz`), 'closed');
});

test('worker HTTP server: a port already taken fails the start (the worker then runs without it)', async () => {
  const first = await startWorkerHttp({
    host: '127.0.0.1',
    port: 0,
    log: pino({ enabled: false }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    unhealthy: async () => null,
  });
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(
      startWorkerHttp({
        host: '127.0.0.1',
        port,
        log: pino({ enabled: false }),
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
        unhealthy: async () => null,
      }),
      /EADDRINUSE/,
    );
  } finally {
    await first.close();
  }
});
