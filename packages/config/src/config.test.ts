import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ApiEnv,
  BlenderEnv,
  CliEnv,
  EnvError,
  WorkerEnv,
  defaultBlenderMemoryLimitMb,
  loadApiEnv,
  loadBlenderEnv,
  loadCliEnv,
  loadS3Env,
  loadWorkerEnv,
  parseQuotaOverrides,
} from './index.ts';

/** The variables an EnvError names, sorted. */
function badVariables(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EnvError, String(err));
    assert.equal(err.code, 'ENV_INVALID');
    return err.problems.map((p) => p.variable).sort();
  }
  assert.fail('no EnvError');
}

test('the API: documented defaults', () => {
  assert.deepEqual(loadApiEnv({}), {
    REDIS_URL: 'redis://127.0.0.1:6379',
    SYNTHLINE_PREFIX: 'synthline',
    HOST: '127.0.0.1',
    PORT: 8080,
    SYNTHLINE_OUTPUT: 'out/jobs',
    SYNTHLINE_LIBRARY: 'library',
    SYNTHLINE_REAL: 'real',
    SYNTHLINE_API_KEYS: '',
    SYNTHLINE_API_KEYS_FILE: '',
    RATE_LIMIT_PER_MIN: 600,
    SYNTHLINE_PUBLIC_DOCS: false,
    SYNTHLINE_PUBLIC_METRICS: false,
    SYNTHLINE_ALLOW_DEV_TOKEN: false,
    QUOTA_JOBS_IN_FLIGHT: 100,
    QUOTA_FRAMES_OUTSTANDING: 50_000_000,
    QUOTA_DAILY_BUDGET: 1e9,
    QUOTA_EVALUATIONS_IN_FLIGHT: 4,
    MAX_EVAL_SIZE: 256,
    MAX_EVAL_EPOCHS: 50,
    SYNTHLINE_QUOTAS: {},
    JOB_RETENTION_S: 7 * 86_400,
    MAX_STREAMS_PER_KEY: 20,
    REQUEST_TIMEOUT_MS: 30_000,
    MAX_COUNT: 10_000_000,
    MAX_RESOLUTION: 4096,
    MAX_SAMPLES: 4096,
    SYNTHLINE_BATCH_SIZE: 24,
    SYNTHLINE_BATCH_WINDOW: 16,
    WORKER_LOST_AFTER_HEARTBEATS: 3,
    WORKER_LOST_RETAIN_MS: 600_000,
    BODY_LIMIT: 64 * 1024,
    LOG_LEVEL: 'info',
  });
  assert.equal(loadApiEnv({ PORT: '0', BODY_LIMIT: '65536' }).PORT, 0);
});

test('a worker: documented defaults', () => {
  const env = loadWorkerEnv({});
  assert.match(env.WORKER_ID, /^.+-\d+$/);
  assert.deepEqual(
    { ...env, WORKER_ID: '' },
    {
      REDIS_URL: 'redis://127.0.0.1:6379',
      SYNTHLINE_PREFIX: 'synthline',
      SYNTHLINE_OUTPUT: 'out/jobs',
      SYNTHLINE_LIBRARY: 'library',
      LOG_LEVEL: 'info',
      WORKER_SLOTS: 1,
      WORKER_DEVICE: 'auto',
      WORKER_ALLOW_CPU_FALLBACK: false,
      BLENDER_THREADS: 0,
      WORKER_ID: '',
      SHUTDOWN_DEADLINE_MS: 30_000,
      FRAME_TIMEOUT_MS: 120_000,
      MAX_FRAMES_PER_PROCESS: 2000,
      MAX_BLENDER_RSS_MB: 4096,
      BLENDER_MEMORY_LIMIT_MB: defaultBlenderMemoryLimitMb(),
      LOCK_DURATION_MS: 60_000,
      HEARTBEAT_MS: 5_000,
      WORKER_HTTP_PORT: 9464,
      WORKER_HTTP_HOST: '127.0.0.1',
      MAX_JOB_FAILURES_PER_WORKER: 3,
      DEVICE_WAIT_MS: 300_000,
      WORKER_EVALUATIONS: true,
      SYNTHLINE_PYTHON: '/usr/bin/python3',
      SYNTHLINE_REAL: 'real',
    },
  );
  const mb = defaultBlenderMemoryLimitMb();
  assert.ok(mb > 0 && mb <= 8192, `3/4 of RAM, at most 8 GiB: ${mb}`);
});

test('empty means default, for every variable of every reader', () => {
  for (const [schema, load] of [
    [ApiEnv, loadApiEnv],
    [WorkerEnv, loadWorkerEnv],
    [BlenderEnv, loadBlenderEnv],
  ] as const) {
    const empty = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, '']));
    const a = load(empty) as Record<string, unknown>;
    const b = load({}) as Record<string, unknown>;
    assert.deepEqual({ ...a, WORKER_ID: '' }, { ...b, WORKER_ID: '' });
  }
  const cliEmpty = Object.fromEntries(Object.keys(CliEnv.shape).map((k) => [k, '']));
  const names = Object.keys(CliEnv.shape) as (keyof CliEnv)[];
  // An optional variable given empty comes out as undefined, one not given at all does not come out.
  const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  assert.deepEqual(defined(loadCliEnv(names, cliEmpty)), defined(loadCliEnv(names, {})));
  assert.deepEqual(defined(loadCliEnv(names, {})), {
    SYNTHLINE_API: 'http://127.0.0.1:8080',
    SYNTHLINE_LIBRARY: 'library',
    SYNTHLINE_PYTHON: '/usr/bin/python3',
    PORT: 8080,
  });
  const s3Empty = {
    AWS_ENDPOINT_URL_S3: '',
    AWS_ENDPOINT_URL: '',
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    SYNTHLINE_S3_PATH_STYLE: '',
    SYNTHLINE_S3_PART_MB: '',
    SYNTHLINE_STAGING: '',
  };
  assert.deepEqual(loadS3Env(s3Empty), loadS3Env({}));
});

test('every bad variable is named in one error, with why', () => {
  assert.deepEqual(
    badVariables(() => loadApiEnv({ PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud', SYNTHLINE_BATCH_SIZE: '0' })),
    ['LOG_LEVEL', 'PORT', 'REDIS_URL', 'SYNTHLINE_BATCH_SIZE'],
  );
  assert.deepEqual(
    badVariables(() =>
      loadWorkerEnv({
        WORKER_SLOTS: '0',
        WORKER_DEVICE: 'gpu',
        WORKER_ALLOW_CPU_FALLBACK: 'yes',
        BLENDER_MEMORY_LIMIT_MB: 'lots',
        HEARTBEAT_MS: '10',
      }),
    ),
    ['BLENDER_MEMORY_LIMIT_MB', 'HEARTBEAT_MS', 'WORKER_ALLOW_CPU_FALLBACK', 'WORKER_DEVICE', 'WORKER_SLOTS'],
  );
  assert.deepEqual(
    badVariables(() => loadS3Env({ SYNTHLINE_S3_PART_MB: '1', SYNTHLINE_S3_PATH_STYLE: 'yes' })),
    ['SYNTHLINE_S3_PART_MB', 'SYNTHLINE_S3_PATH_STYLE'],
  );
  assert.throws(
    () => loadWorkerEnv({ WORKER_SLOTS: '0', WORKER_DEVICE: 'gpu', LOCK_DURATION_MS: '5.5' }),
    (err: unknown) => {
      assert.ok(err instanceof EnvError);
      assert.equal(
        err.message,
        [
          'invalid environment:',
          '  WORKER_SLOTS: "0" is not auto or a whole number >= 1',
          '  WORKER_DEVICE: "gpu" is not one of auto, cpu, cuda, optix, hip, metal',
          '  LOCK_DURATION_MS: "5.5" is not a whole number >= 1000',
        ].join('\n'),
      );
      return true;
    },
  );
});

test("one error per process: a worker's own, Blender's and S3's bad variables together", () => {
  // A worker with its output in a bucket reads S3's settings too: every problem shows at once.
  const env = { WORKER_SLOTS: 'many', BLENDER_MEMORY_LIMIT_MB: 'lots', SYNTHLINE_OUTPUT: 's3://b/out', SYNTHLINE_S3_PATH_STYLE: 'yes' };
  assert.deepEqual(
    badVariables(() => loadWorkerEnv(env)),
    ['BLENDER_MEMORY_LIMIT_MB', 'SYNTHLINE_S3_PATH_STYLE', 'WORKER_SLOTS'],
  );
  // On local output S3's variables are none of its business.
  assert.deepEqual(
    badVariables(() => loadWorkerEnv({ ...env, SYNTHLINE_OUTPUT: '/data/jobs' })),
    ['BLENDER_MEMORY_LIMIT_MB', 'WORKER_SLOTS'],
  );
  // The API the same way, for its bucket.
  assert.deepEqual(
    badVariables(() => loadApiEnv({ PORT: 'x', SYNTHLINE_LIBRARY: 's3://b/lib', SYNTHLINE_S3_PART_MB: '1' })),
    ['PORT', 'SYNTHLINE_S3_PART_MB'],
  );
});

test('numbers: whole within their range; a quota budget may be any finite number', () => {
  assert.equal(loadApiEnv({ PORT: '65535' }).PORT, 65535);
  assert.throws(() => loadApiEnv({ PORT: '65536' }), /PORT: "65536" is not a whole number from 0 to 65535/);
  assert.throws(() => loadApiEnv({ MAX_RESOLUTION: '8' }), /MAX_RESOLUTION: "8" is not a whole number from 16 to 4096/);
  assert.equal(loadApiEnv({ QUOTA_DAILY_BUDGET: '2.5e6' }).QUOTA_DAILY_BUDGET, 2.5e6);
  assert.throws(
    () => loadApiEnv({ QUOTA_DAILY_BUDGET: 'Infinity' }),
    /QUOTA_DAILY_BUDGET: "Infinity" is not a number from 0 to 1000000000000000/,
  );
  assert.equal(loadWorkerEnv({ WORKER_SLOTS: 'auto' }).WORKER_SLOTS, 'auto');
  assert.equal(loadWorkerEnv({ WORKER_SLOTS: '4' }).WORKER_SLOTS, 4);
  assert.equal(loadWorkerEnv({ BLENDER_MEMORY_LIMIT_MB: '0' }).BLENDER_MEMORY_LIMIT_MB, 0);
  for (const bad of ['-1', '1.5', 'lots'])
    assert.throws(() => loadBlenderEnv({ BLENDER_MEMORY_LIMIT_MB: bad }), /BLENDER_MEMORY_LIMIT_MB: ".*" is not a whole number >= 0/);
});

test('switches: 1/true or 0/false', () => {
  for (const [v, want] of [
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
  ] as const) {
    assert.equal(loadApiEnv({ SYNTHLINE_PUBLIC_METRICS: v }).SYNTHLINE_PUBLIC_METRICS, want);
    assert.equal(loadWorkerEnv({ WORKER_ALLOW_CPU_FALLBACK: v }).WORKER_ALLOW_CPU_FALLBACK, want);
  }
  assert.throws(() => loadApiEnv({ SYNTHLINE_PUBLIC_METRICS: 'yes' }), /SYNTHLINE_PUBLIC_METRICS: "yes" is not 1, 0, true or false/);
});

test('the variables API and workers share follow the same rules in both', () => {
  for (const load of [loadApiEnv, loadWorkerEnv]) {
    assert.equal(load({ SYNTHLINE_PREFIX: 'team.a-1_b' }).SYNTHLINE_PREFIX, 'team.a-1_b');
    assert.throws(() => load({ SYNTHLINE_PREFIX: 'a:b' }), /SYNTHLINE_PREFIX: letters, digits/);
    assert.throws(() => load({ SYNTHLINE_PREFIX: 'x'.repeat(65) }), /SYNTHLINE_PREFIX/);
    assert.throws(() => load({ REDIS_URL: 'localhost:6379' }), /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.equal(load({ REDIS_URL: 'rediss://:pw@host:6380/2' }).REDIS_URL, 'rediss://:pw@host:6380/2');
    assert.throws(
      () => load({ SYNTHLINE_LIBRARY: 'https://example.com/library' }),
      /SYNTHLINE_LIBRARY: must be a folder or an s3:\/\/bucket\/prefix URL/,
    );
    assert.equal(load({ SYNTHLINE_LIBRARY: 's3://bucket/library' }).SYNTHLINE_LIBRARY, 's3://bucket/library');
    assert.equal(load({ SYNTHLINE_LIBRARY: '/srv/library' }).SYNTHLINE_LIBRARY, '/srv/library');
    assert.throws(
      () => load({ LOG_LEVEL: 'verbose' }),
      /LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent/,
    );
  }
  assert.throws(() => loadCliEnv(['REDIS_URL'], { REDIS_URL: 'localhost' }), /REDIS_URL: expected a redis:\/\//);
  assert.throws(() => loadCliEnv(['SYNTHLINE_LIBRARY'], { SYNTHLINE_LIBRARY: 'http://x/lib' }), /SYNTHLINE_LIBRARY/);
});

test('SYNTHLINE_QUOTAS overrides per key; a bad entry names the variable and the problem', () => {
  assert.deepEqual(parseQuotaOverrides('alice:jobs_in_flight=2,daily_budget=1e6; bob:frames_outstanding=500'), {
    alice: { jobs_in_flight: 2, daily_budget: 1e6 },
    bob: { frames_outstanding: 500 },
  });
  assert.deepEqual(loadApiEnv({ SYNTHLINE_QUOTAS: 'ci:jobs_in_flight=1' }).SYNTHLINE_QUOTAS, { ci: { jobs_in_flight: 1 } });
  assert.throws(() => loadApiEnv({ SYNTHLINE_QUOTAS: 'alice:jobs=2' }), /SYNTHLINE_QUOTAS: unknown quota "jobs"/);
  assert.throws(
    () => loadApiEnv({ SYNTHLINE_QUOTAS: 'alice:daily_budget=-1' }),
    /SYNTHLINE_QUOTAS: daily_budget: "-1" is not a number >= 0/,
  );
});

test('S3: endpoint and region fall back between the AWS variables; path style follows the endpoint', () => {
  assert.deepEqual(loadS3Env({}), {
    endpoint: undefined,
    region: 'us-east-1',
    pathStyle: false,
    partMb: 16,
    staging: join(tmpdir(), 'synthline-staging'),
  });
  assert.equal(loadS3Env({ AWS_ENDPOINT_URL: 'http://minio:9000' }).pathStyle, true);
  assert.equal(loadS3Env({ AWS_ENDPOINT_URL: 'http://minio:9000', SYNTHLINE_S3_PATH_STYLE: '0' }).pathStyle, false);
  assert.equal(loadS3Env({ SYNTHLINE_S3_PATH_STYLE: '1' }).pathStyle, true);
  assert.equal(loadS3Env({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://b' }).endpoint, 'http://b');
  assert.equal(loadS3Env({ AWS_DEFAULT_REGION: 'eu-west-1' }).region, 'eu-west-1');
  assert.equal(loadS3Env({ AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-north-1' }).region, 'eu-north-1');
  assert.equal(loadS3Env({ SYNTHLINE_S3_PART_MB: '5120', SYNTHLINE_STAGING: '/srv/staging' }).partMb, 5120);
  assert.throws(() => loadS3Env({ SYNTHLINE_S3_PART_MB: '1' }), /SYNTHLINE_S3_PART_MB: "1" is not a whole number from 5 to 5120/);
  assert.throws(() => loadS3Env({ SYNTHLINE_S3_PATH_STYLE: 'yes' }), /SYNTHLINE_S3_PATH_STYLE: "yes" is not 0 or 1/);
});

test('BLENDER: a path or command name, spaces dropped; blank means blender on PATH', () => {
  assert.equal(loadBlenderEnv({ BLENDER: ' /opt/blender/blender ' }).BLENDER, '/opt/blender/blender');
  assert.equal(loadBlenderEnv({ BLENDER: '   ' }).BLENDER, 'blender');
});

test('the CLI reads only what a command needs: a bad variable it does not use is not its business', () => {
  assert.deepEqual(loadCliEnv(['SYNTHLINE_API', 'SYNTHLINE_API_KEY'], { REDIS_URL: 'nonsense', SYNTHLINE_API_KEY: 'sl_x' }), {
    SYNTHLINE_API: 'http://127.0.0.1:8080',
    SYNTHLINE_API_KEY: 'sl_x',
  });
  assert.equal(loadCliEnv(['REDIS_URL'], {}).REDIS_URL, undefined, 'unset: demo and up start a private Redis');
  assert.equal(loadCliEnv(['LOG_LEVEL'], { LOG_LEVEL: '' }).LOG_LEVEL, undefined, 'unset: the command chooses');
});
