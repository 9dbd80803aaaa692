import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { startApi } from '@synthline/api';
import { startWorker, type RunningWorker } from '@synthline/worker';
import { ROOT, cli, tempDir } from './helpers.ts';

// The README's curl walk-through, run as written against a real service.
let redis: PrivateRedis;
let api: { url: string; close(): Promise<void> };
let worker: RunningWorker;

before(async () => {
  redis = await startPrivateRedis();
  const env = {
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `readme${process.pid}`,
    SYNTHLINE_OUTPUT: await tempDir('synthline-readme-'),
    PORT: '0',
    LOG_LEVEL: 'silent',
  };
  api = await startApi(loadApiEnv(env));
  worker = await startWorker(loadWorkerEnv(env));
});

after(async () => {
  await worker?.close();
  await api?.close();
  await redis?.dispose();
});

test('the curl walk-through in the README works as written', async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### A walk through the REST API with curl'));
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(script, 'the README has the walk-through');
  const cwd = await tempDir('synthline-walk-');
  const r = await execa('bash', ['-eo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, API: api.url },
    reject: false,
    timeout: 300_000,
  });
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  assert.match(out, /"status":"ok"/);
  assert.match(out, /"workers":1/);
  assert.match(out, /"status":"queued"/);
  assert.match(out, /^200$/m, 'the repeated idempotent submit answers 200');
  assert.match(out, /event: end/);
  assert.match(out, /"status":"completed"/);
  assert.match(out, /^200 image\/png$/m);
  assert.match(out, /"status":"cancelled"/);
  assert.match(out, /"path":"count"/);
  assert.match(out, /"path":"colour"/);
  assert.match(out, /"path":"render.engine"/);
  const png = await readFile(join(cwd, 'frame3.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
});

test('the CLI client: submit --wait, status, list, cancel, and a bad spec', async () => {
  const dir = await tempDir('synthline-client-');
  const specPath = join(dir, 'spec.json');
  await writeFile(specPath, JSON.stringify({ name: 'client', count: 6, render: { resolution: [64, 64], samples: 4 } }));
  const sub = await cli(['submit', specPath, '--wait', '--api', api.url]);
  assert.equal(sub.code, 0, sub.all);
  const id = sub.stdout.split('\n')[0]?.trim() ?? '';
  assert.match(id, /^[A-Za-z0-9]{12}$/);
  assert.match(sub.stdout, /: completed/);
  assert.match(sub.stdout, /6\/6 done, 0 failed/);

  const st = await cli(['status', id, '--api', api.url]);
  assert.equal(st.code, 0, st.all);
  assert.match(st.stdout, /dataset\s+file:\/\//);

  const ls = await cli(['list', '--status', 'completed', '--api', api.url]);
  assert.equal(ls.code, 0, ls.all);
  assert.ok(ls.stdout.includes(id));

  await writeFile(specPath, JSON.stringify({ name: 'long', count: 5000 }));
  const big = await cli(['submit', specPath, '--api', api.url]);
  const bigId = big.stdout.trim();
  const c = await cli(['cancel', bigId, '--api', api.url]);
  assert.equal(c.code, 0, c.all);
  assert.match(c.stdout, /: cancelled/);

  await writeFile(specPath, JSON.stringify({ count: 0, render: { zoom: 2 } }));
  const bad = await cli(['submit', specPath, '--api', api.url]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /count: /);
  assert.match(bad.stderr, /render\.zoom: unknown field/);

  const down = await cli(['status', id, '--api', 'http://127.0.0.1:9']);
  assert.equal(down.code, 3);
  assert.match(down.stderr, /cannot reach the synthline API/);
});
