import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvError, loadEnv, parseQuotaOverrides } from './env.ts';

test('loadEnv fills documented defaults; empty means default', () => {
  const env = loadEnv({ PORT: '' });
  assert.deepEqual(env, {
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
  assert.equal(loadEnv({ PORT: '0', BODY_LIMIT: '65536' }).PORT, 0);
});

test('loadEnv names each bad variable', () => {
  assert.throws(
    () => loadEnv({ PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud', SYNTHLINE_BATCH_SIZE: '0' }),
    (err: unknown) => {
      assert.ok(err instanceof EnvError);
      assert.deepEqual(err.problems.map((p) => p.variable).sort(), ['LOG_LEVEL', 'PORT', 'REDIS_URL', 'SYNTHLINE_BATCH_SIZE']);
      assert.match(err.message, /PORT: /);
      return true;
    },
  );
});

test('SYNTHLINE_QUOTAS overrides per key; a bad entry names the variable and the problem', () => {
  assert.deepEqual(parseQuotaOverrides('alice:jobs_in_flight=2,daily_budget=1e6; bob:frames_outstanding=500'), {
    alice: { jobs_in_flight: 2, daily_budget: 1e6 },
    bob: { frames_outstanding: 500 },
  });
  assert.throws(() => loadEnv({ SYNTHLINE_QUOTAS: 'alice:jobs=2' }), /SYNTHLINE_QUOTAS: unknown quota "jobs"/);
  assert.throws(() => loadEnv({ SYNTHLINE_QUOTAS: 'alice:daily_budget=-1' }), /SYNTHLINE_QUOTAS: daily_budget: "-1" is not a number >= 0/);
  assert.throws(() => loadEnv({ SYNTHLINE_PUBLIC_METRICS: 'yes' }), /SYNTHLINE_PUBLIC_METRICS/);
});

test('the asset library is a folder or an s3:// URL; other URLs are refused', () => {
  assert.throws(() => loadEnv({ SYNTHLINE_LIBRARY: 'https://example.com/library' }), /SYNTHLINE_LIBRARY: must be a folder or an s3:\/\/bucket\/prefix URL/);
  assert.equal(loadEnv({ SYNTHLINE_LIBRARY: 's3://bucket/library' }).SYNTHLINE_LIBRARY, 's3://bucket/library');
  assert.equal(loadEnv({ SYNTHLINE_LIBRARY: '/srv/library' }).SYNTHLINE_LIBRARY, '/srv/library');
});
