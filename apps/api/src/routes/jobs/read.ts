import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { toJobView, type JobRecord } from '@synthline/queue';
import { problemResponses, notFound } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { JobIdParams, JobPage, JobView, ListQuery } from './schemas.ts';

/** `GET /v1/jobs/:id` and `GET /v1/jobs`. */
export const readRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue }) => {
  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: status, progress, output',
        tags: ['jobs'],
        params: JobIdParams,
        response: { 200: JobView, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const record = await queue.store.get(request.params.id);
      if (!record) throw notFound(`no job ${request.params.id}`);
      return toJobView(record);
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'Jobs, newest first, one page at a time',
        tags: ['jobs'],
        querystring: ListQuery,
        response: { 200: JobPage, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { status, offset, limit } = request.query;
      const { ids, total } = await queue.store.list({ ...(status ? { status } : {}), offset, limit });
      const records = await Promise.all(ids.map((id) => queue.store.get(id)));
      // A job can vanish between the listing and the read (expired or removed): skip it.
      const items = records.filter((r): r is JobRecord => r !== null).map((r) => toJobView(r));
      return { items, total, offset, limit };
    },
  );
};
