import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseSpec } from '@synthline/spec';
import { JobView } from '@synthline/api';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { renderDataset } from '@synthline/pipeline';
import { startApi } from '@synthline/api';
import { loadApiEnv } from '@synthline/config';
import { AssetLibrary } from '@synthline/library';
import { S3Storage, StorageError, StorageUrlError, openStorage, parseS3Url, s3SettingsFromEnv } from '@synthline/storage';
import { CLI, ROOT, cli, tempDir, tinySpec } from './helpers.ts';
import { startTestS3, type TestS3 } from './s3-server.ts';

// Datasets in an object store: a real S3-compatible server (s3rver) started here, workers as
// separate `synthline worker` processes sharing nothing with the API but Redis and the bucket.
let s3: TestS3;
let redis: PrivateRedis;
const procs: ResultPromise[] = [];
const saved = { ...process.env };

before(async () => {
  s3 = await startTestS3();
  Object.assign(process.env, s3.env);
  redis = await startPrivateRedis();
});
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.allSettled(procs);
  await redis?.dispose();
  await s3?.close();
  process.env = saved;
});

const storageAt = async (prefix: string, extra: Record<string, string> = {}) =>
  new S3Storage(
    parseS3Url(`s3://${s3.bucket}/${prefix}`),
    s3SettingsFromEnv({ ...s3.env, SYNTHLINE_STAGING: await tempDir('synthline-staging-'), ...extra }),
  );

test('s3:// URLs and settings: bad ones are refused with the reason', () => {
  assert.deepEqual(parseS3Url('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' });
  assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  assert.throws(
    () => parseS3Url('s3://My_Bucket/x'),
    (e: Error) => e instanceof StorageUrlError && /not a valid bucket name/.test(e.message),
  );
  assert.throws(() => parseS3Url('s3://bucket/a/../b'), /"\.\."/);
  assert.throws(() => s3SettingsFromEnv({ SYNTHLINE_S3_PART_MB: '1' }), /SYNTHLINE_S3_PART_MB: "1" is not a whole number from 5 to 5120/);
  assert.throws(() => s3SettingsFromEnv({ SYNTHLINE_S3_PATH_STYLE: 'yes' }), /SYNTHLINE_S3_PATH_STYLE: "yes" is not 0 or 1/);
  assert.equal(s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000' }).forcePathStyle, true);
  assert.equal(s3SettingsFromEnv({}).forcePathStyle, false);
  assert.ok(openStorage('s3://b-1/x') instanceof S3Storage);
  const st = openStorage('s3://b-1/x');
  assert.throws(() => st.url('../etc'), /invalid job id/);
  assert.throws(() => st.localPath('job1', '../../etc/passwd'), /invalid path/);
});

test('a big file goes up as a multipart upload and comes back byte for byte; a committed object is never replaced', async () => {
  const st = await storageAt('unit', { SYNTHLINE_S3_PART_MB: '5' });
  const sent: string[] = [];
  st.objects.client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize' },
  );
  const data = randomBytes(12 * 1024 * 1024 + 123);
  await writeFile(await st.prepare('job1', 'big.tar'), data);
  assert.equal(await st.publish('job1', 'big.tar'), true);
  assert.deepEqual(
    sent.filter((c) => /Multipart|UploadPart/.test(c)),
    ['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand'],
  );
  const head = await st.objects.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'unit/job1/big.tar' }));
  assert.equal(head.ContentLength, data.length);
  await st.release('job1');
  const back = await st.fetch('job1', 'big.tar');
  assert.ok(back);
  assert.equal(
    createHash('sha256')
      .update(await readFile(back))
      .digest('hex'),
    createHash('sha256').update(data).digest('hex'),
  );

  // The commit marker: written once; a retried write with other bytes leaves the first.
  await writeFile(await st.prepare('job1', 'dataset.json'), '{"first": true}');
  assert.equal(await st.publish('job1', 'dataset.json', { ifAbsent: true }), true);
  await writeFile(await st.prepare('job1', 'dataset.json'), '{"second": true}');
  assert.equal(await st.publish('job1', 'dataset.json', { ifAbsent: true }), false);
  const got = await st.objects.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'unit/job1/dataset.json' }));
  assert.equal(await got.Body?.transformToString(), '{"first": true}');

  assert.equal(await st.fetch('job1', 'missing.json'), null);
  // Small commit markers: the first writer wins.
  assert.equal(await st.commitBytes('job1', 'fragments/000003.json', '{"run": 1}'), true);
  assert.equal(await st.commitBytes('job1', 'fragments/000003.json', '{"run": 2}'), false);
  assert.equal(await st.withFile('job1', 'fragments/000003.json', (p) => readFile(p, 'utf8')), '{"run": 1}');
  assert.equal(await st.withFile('job1', 'nothing.json', (p) => readFile(p, 'utf8')), undefined);
  assert.equal(await st.exists('job1', 'big.tar'), true);
  await st.remove('job1');
  assert.equal(await st.exists('job1', 'big.tar'), false);
  assert.equal(await st.exists('job1', 'dataset.json'), false);
});

test('staging folders of processes that are gone are swept at start-up', async () => {
  const staging = await tempDir('synthline-staging-');
  const dead = join(staging, s3.bucket, 'sweep', 'p999999999');
  await mkdir(dead, { recursive: true });
  await writeFile(join(dead, 'left.tar'), 'x');
  const st = new S3Storage(parseS3Url(`s3://${s3.bucket}/sweep`), s3SettingsFromEnv({ ...s3.env, SYNTHLINE_STAGING: staging }));
  const mine = await st.prepare('job1', 'fragments/000000-aa.tar');
  await writeFile(mine, 'y');
  await st.check();
  assert.equal(existsSync(dead), false, "a dead process's staging is removed");
  assert.equal(existsSync(mine), true, "this process's is kept");
});

test('a missing bucket is named at start-up, not at the first batch', async () => {
  const st = new S3Storage(parseS3Url('s3://no-such-bucket/x'), s3SettingsFromEnv(s3.env));
  await assert.rejects(st.check(), (e: Error) => e instanceof StorageError && /bucket "no-such-bucket" does not exist/.test(e.message));
  const w = await cli(['worker'], { ...s3.env, REDIS_URL: redis.url, SYNTHLINE_OUTPUT: 's3://no-such-bucket/x', LOG_LEVEL: 'warn' });
  assert.notEqual(w.code, 0);
  assert.match(w.all, /bucket "no-such-bucket" does not exist/);
});

const LIBRARY = () => `s3://${s3.bucket}/library`;
const RED = { name: 'Signal Red', srgb: '#D01818' };

test('an asset library in a bucket: scanned once from one machine, usable on another, stale once a model changes', async () => {
  const client = (await storageAt('x')).objects.client;
  const put = (key: string, body: Buffer | string) =>
    client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `library/${key}`, Body: body }));
  const gltf = await readFile(join(ROOT, 'test/fixtures/khronos/Box.gltf'));
  for (const id of ['box', 'box2']) {
    await put(`products/${id}/Box.gltf`, gltf);
    await put(
      `products/${id}/product.json`,
      JSON.stringify({ name: 'Box', dimensions_mm: [80, 80, 80], color_slots: ['Material_0'], colors: [RED] }),
    );
  }
  // Machine A scans (through its own mirror) and puts the scan back in the bucket.
  const scan = await cli(['assets', 'scan', '--library', LIBRARY()], {
    ...s3.env,
    SYNTHLINE_STAGING: await tempDir('synthline-staging-a-'),
  });
  assert.equal(scan.code, 0, scan.all);
  assert.match(scan.stdout, /^ok {3}library:box /m);
  assert.equal(await (await storageAt('library')).objects.exists('library/.synthline/scan.json'), true);

  // Machine B mirrors the bucket into a folder of its own: the scan holds there.
  process.env.SYNTHLINE_STAGING = await tempDir('synthline-staging-b-');
  const lib = await AssetLibrary.open(LIBRARY());
  assert.equal(lib.source, LIBRARY());
  assert.ok(lib.root.startsWith(process.env.SYNTHLINE_STAGING));
  assert.equal('error' in lib.lookup('box'), false, JSON.stringify(lib.lookup('box')));
  // A model replaced in the bucket after the scan is refused until scanned again.
  await put('products/box2/Box.gltf', Buffer.concat([gltf, Buffer.from('\n')]));
  const after = await AssetLibrary.open(LIBRARY());
  assert.match((after.lookup('box2') as { error: string }).error, /has not been scanned since it last changed/);
  assert.equal('error' in after.lookup('box'), false);
});

test('a job written to s3:// completes, verifies with `synthline verify s3://...`, and equals a local render', async () => {
  // Builtin phones and a product from the library in the bucket.
  const spec = tinySpec({ name: 's3job', seed: 5, count: 14, render: { resolution: [64, 48], samples: 4 }, output: { shard_size: 6 } });
  spec.products = [...spec.products, { asset: 'library:box', colors: ['Signal Red'] }];
  const env = {
    ...s3.env,
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `s3t${process.pid}`,
    SYNTHLINE_OUTPUT: `s3://${s3.bucket}/datasets`,
    SYNTHLINE_LIBRARY: LIBRARY(),
    SYNTHLINE_BATCH_SIZE: '4',
    SYNTHLINE_BATCH_WINDOW: '2',
    BLENDER_THREADS: '1',
    LOG_LEVEL: 'warn',
    PORT: '0',
  };
  const api = await startApi(loadApiEnv(env));
  try {
    // Two workers, each with its own staging folder: they share only Redis and the bucket.
    for (const id of ['s3w1', 's3w2']) {
      procs.push(
        execa('node', [CLI, 'worker'], {
          env: { ...process.env, ...env, WORKER_ID: id, SYNTHLINE_STAGING: await tempDir('synthline-staging-') },
          reject: false,
          all: true,
        }),
      );
    }
    const res = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    let v: JobView;
    const deadline = Date.now() + 300_000;
    for (;;) {
      v = JobView.parse(await (await fetch(`${api.url}/v1/jobs/${id}`)).json());
      if (['completed', 'failed', 'cancelled'].includes(v.status)) break;
      assert.ok(Date.now() < deadline, `job still ${v.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(v.status, 'completed', JSON.stringify(v.error));
    assert.equal(v.output?.uri, `s3://${s3.bucket}/datasets/${id}`);

    const verified = await cli(['verify', `s3://${s3.bucket}/datasets/${id}`], s3.env);
    assert.equal(verified.code, 0, verified.all);
    assert.match(verified.stdout, /^ok: 14 samples in 3 shard\(s\) match dataset\.json/);

    // Same spec, same bytes: the shards in the bucket equal a local render's.
    const local = await renderDataset({
      spec: parseSpec(spec),
      outDir: await tempDir('synthline-s3ref-'),
      library: await AssetLibrary.open(LIBRARY()),
    });
    const boxClasses = local.manifest.classes.filter((c) => /box/i.test(c.model));
    assert.ok(
      boxClasses.reduce((n, c) => n + (local.manifest.counts.per_class[c.name] ?? 0), 0) > 0,
      'the library product is in the dataset',
    );
    const st = await storageAt('datasets');
    for (const shard of local.manifest.shards) {
      const p = await st.fetch(id, shard.name);
      assert.ok(p, `${shard.name} is in the bucket`);
      assert.equal(
        createHash('sha256')
          .update(await readFile(p))
          .digest('hex'),
        shard.sha256,
      );
    }
    // Fragments are gone once the dataset is assembled; a sample is served from the bucket.
    assert.deepEqual(await st.objects.list(`datasets/${id}/fragments/`), []);
    const sample = await fetch(`${api.url}/v1/jobs/${id}/samples/3`);
    assert.equal(sample.status, 200);
    assert.equal(sample.headers.get('content-type'), 'image/png');

    // The verifier can fail: a shard replaced behind the manifest's back is caught.
    const first = local.manifest.shards[0];
    assert.ok(first);
    await st.objects.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: `datasets/${id}/${first.name}`, Body: Buffer.from('tampered') }),
    );
    const bad = await cli(['verify', `s3://${s3.bucket}/datasets/${id}`], s3.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`INVALID[\\s\\S]*${first.name}`));
    const nothing = await cli(['verify', `s3://${s3.bucket}/datasets/nope`], s3.env);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing under s3:\/\/synthline\/datasets\/nope/);
  } finally {
    await api.close();
  }
});
