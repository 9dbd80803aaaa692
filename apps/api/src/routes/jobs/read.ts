import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JobRecord } from '@synthline/jobs';
import { toJobView } from './job-view.ts';
import { ProblemError, problemResponses, notFound } from '../../problem.ts';
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
      const { status, cursor, limit } = request.query;
      let page;
      try {
        page = await queue.store.list({ ...(status ? { status } : {}), ...(cursor ? { cursor } : {}), limit });
      } catch (err) {
        if (err instanceof RangeError)
          throw new ProblemError(400, 'invalid-request', err.message, [{ path: 'cursor', message: 'not a cursor this API gave out' }]);
        throw err;
      }
      const records = await Promise.all(page.ids.map((id) => queue.store.get(id)));
      // A job can vanish between the listing and the read (expired or removed): skip it.
      const items = records.filter((r): r is JobRecord => r !== null).map((r) => toJobView(r));
      return { items, total: page.total, limit, next_cursor: page.next };
    },
  );
};
