import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { toJobView } from './job-view.ts';
import { problemResponses, notFound } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { JobIdParams, JobView } from './schemas.ts';

/**
 * `DELETE /v1/jobs/:id`: cancels a job. Answers the job afterwards: `cancelled`, or the final
 * status it already had (a completed job stays completed). Cancelling twice is harmless.
 */
export const cancelRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue }) => {
  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job',
        tags: ['jobs'],
        params: JobIdParams,
        response: { 200: JobView, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const record = await queue.cancel(request.params.id);
      if (!record) throw notFound(`no job ${request.params.id}`);
      return toJobView(record);
    },
  );
};
