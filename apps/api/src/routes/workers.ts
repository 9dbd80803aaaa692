import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WorkerList as WorkerListBase, WorkerView as WorkerViewBase, workerList, type RegistryPolicy } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import { problemResponses } from '../problem.ts';

/** A worker as the API shows it; named for the OpenAPI document. */
export const WorkerView = WorkerViewBase.meta({ id: 'Worker' });
export const WorkerList = WorkerListBase.extend({
  items: z.array(WorkerView).describe('live workers first, then lost ones; each group by id'),
}).meta({ id: 'WorkerList' });

export const WorkersQuery = z.object({ status: z.enum(['live', 'lost']).optional().describe('only workers with this status') });

export interface WorkersOptions {
  queue: JobQueue;
  /** When a silent worker counts as lost, and how long it stays listed. */
  policy: RegistryPolicy;
}

/** `GET /v1/workers`: the worker registry, from the workers' heartbeats. */
export const workersRoute: FastifyPluginAsyncZod<WorkersOptions> = async (app, { queue, policy }) => {
  app.get(
    '/v1/workers',
    {
      schema: {
        summary: 'Workers: host, slots and their devices and batches, throughput; live or lost',
        description:
          `A worker is \`lost\` once it sent no heartbeat for ${policy.lostAfterHeartbeats} of its heartbeat intervals; ` +
          `lost workers stay listed for ${Math.round(policy.retainLostMs / 1000)} s after their last heartbeat, then drop. ` +
          'A worker that shuts down cleanly leaves the list at once.',
        tags: ['workers'],
        querystring: WorkersQuery,
        response: { 200: WorkerList, ...problemResponses(400) },
      },
    },
    async (request) => {
      const list = workerList(await queue.store.workers(policy.retainLostMs), policy);
      const { status } = request.query;
      return status ? { ...list, items: list.items.filter((w) => w.status === status) } : list;
    },
  );
};
