import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection with the settings BullMQ requires: no per-command retry limit (a worker's
 * blocking commands must survive a Redis restart) and reconnection with a capped backoff.
 */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...opts,
  });
}
