import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { within } from '@synthline/base';
import { problemResponses, ProblemError } from '../problem.ts';
import type { RouteDeps } from './deps.ts';

/** A worker counts as live if its last heartbeat is this recent. */
export const WORKER_LIVE_MS = 30_000;
/** Longest wait for Redis in a readiness check: a probe must answer, even while Redis is away. */
const CHECK_TIMEOUT_MS = 1000;

const Ready = z.object({ status: z.literal('ready'), redis: z.boolean(), workers: z.number().int() });

/** `GET /healthz` (the process is alive) and `GET /readyz` (Redis answers and a worker is alive). */
export const healthRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['health'],
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: Redis answers PING and a worker sent a heartbeat in the last 30 s',
        tags: ['health'],
        security: [],
        response: { 200: Ready, ...problemResponses(503) },
      },
    },
    async (request) => {
      let redis = false;
      let workers = 0;
      try {
        redis = (await within(queue.redis.ping(), CHECK_TIMEOUT_MS)) === 'PONG';
        if (redis) workers = (await within(queue.store.liveWorkers(WORKER_LIVE_MS), CHECK_TIMEOUT_MS)).length;
      } catch (err) {
        request.log.warn({ err }, 'readiness check: Redis did not answer');
      }
      if (!redis) throw new ProblemError(503, 'not-ready', 'Redis does not answer PING', undefined, { redis, workers });
      if (workers === 0) {
        throw new ProblemError(503, 'not-ready', `no worker sent a heartbeat in the last ${WORKER_LIVE_MS / 1000} s`, undefined, {
          redis,
          workers,
        });
      }
      return { status: 'ready' as const, redis, workers };
    },
  );
};
