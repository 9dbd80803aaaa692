import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvError, loadEnv } from './env.ts';

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
    MAX_COUNT: 10_000_000,
    MAX_RESOLUTION: 4096,
    MAX_SAMPLES: 4096,
    SYNTHLINE_BATCH_SIZE: 24,
    SYNTHLINE_BATCH_WINDOW: 16,
    WORKER_LOST_AFTER_HEARTBEATS: 3,
    WORKER_LOST_RETAIN_MS: 600_000,
    BODY_LIMIT: 1024 * 1024,
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

test('the asset library is a folder or an s3:// URL; other URLs are refused', () => {
  assert.throws(() => loadEnv({ SYNTHLINE_LIBRARY: 'https://example.com/library' }), /SYNTHLINE_LIBRARY: must be a folder or an s3:\/\/bucket\/prefix URL/);
  assert.equal(loadEnv({ SYNTHLINE_LIBRARY: 's3://bucket/library' }).SYNTHLINE_LIBRARY, 's3://bucket/library');
  assert.equal(loadEnv({ SYNTHLINE_LIBRARY: '/srv/library' }).SYNTHLINE_LIBRARY, '/srv/library');
});
