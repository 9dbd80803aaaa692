import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection with the settings BullMQ requires: no per-command retry limit (a worker's
 * blocking commands must survive a Redis restart) and reconnection with a capped backoff.
 */
export function createRedis(url: string, opts: RedisOptions = {}, onError?: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...opts,
  });
  // Connection errors while Redis is away are expected: ioredis reconnects, and commands that
  // cannot wait reject with their own error. Without a listener they would be printed as unhandled.
  redis.on('error', onError ?? (() => undefined));
  return redis;
}
