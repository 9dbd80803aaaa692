import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JobStore, type JobEvents, type JobRecord } from '@synthline/jobs';
import { toJobView, type JobView } from './job-view.ts';
import { problemResponses, notFound } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { openEventStream, type StreamSlots } from '../event-stream.ts';
import { JobIdParams } from './schemas.ts';

export interface EventsOptions extends RouteDeps {
  /** The one subscription every stream of this process shares. */
  events: JobEvents;
  /** How often a comment line keeps idle proxies from closing the stream. */
  keepAliveMs: number;
  /** The event streams each client holds open in this process (jobs' and evaluations'), capped per client. */
  streams: StreamSlots;
}

/** The events of `GET /v1/jobs/:id/events`; each carries a JobView as its JSON data. */
export const JOB_EVENTS = {
  status: 'sent on connect, and whenever the status changes',
  progress: 'frames done or failed changed',
  end: 'the job reached a final status (completed, failed or cancelled); the server then closes the stream',
} as const;
export type JobEvent = keyof typeof JOB_EVENTS;

const progressOf = (v: JobView) => JSON.stringify(v.progress);

/**
 * `GET /v1/jobs/:id/events`: server-sent events following one job. See {@link JOB_EVENTS}.
 * Streams are fed by the process's one subscription to job changes ({@link JobEvents}), so open
 * streams cost Redis nothing while their job is quiet; each client may hold a bounded number.
 */
export const eventsRoute: FastifyPluginAsyncZod<EventsOptions> = async (app, { queue, events, keepAliveMs, streams }) => {
  const open = new Set<{ stop: () => void }>();
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.stop();
  });

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        summary: 'Follow a job as server-sent events',
        description:
          Object.entries(JOB_EVENTS)
            .map(([name, when]) => `\`${name}\`: ${when}.`)
            .join(' ') +
          ' Every event carries the JobView as JSON. A comment line keeps the stream alive every 15 s. 429 when the client already holds its most open streams.',
        tags: ['jobs'],
        params: JobIdParams,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...problemResponses(400, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const uncount = streams.take(request.principal);
      let first: JobRecord | null;
      try {
        first = await queue.store.get(id);
      } catch (err) {
        uncount();
        throw err;
      }
      if (!first) {
        uncount();
        throw notFound(`no job ${id}`);
      }

      reply.hijack();
      const res = reply.raw;
      const stream = openEventStream(res);

      let last = toJobView(first);
      let unwatch: (() => void) | undefined;
      const keepAlive = setInterval(() => stream.comment('keep-alive'), keepAliveMs);
      const handle = {
        stop: () => {
          unwatch?.();
          unwatch = undefined;
          clearInterval(keepAlive);
          open.delete(handle);
          uncount();
          stream.end();
        },
      };
      open.add(handle);
      res.on('close', handle.stop);

      const onRecord = (record: JobRecord | null): void => {
        if (stream.isClosed) return;
        if (!record) {
          handle.stop(); // the job was removed
          return;
        }
        const view = toJobView(record);
        if (progressOf(view) !== progressOf(last)) stream.send('progress', view);
        if (view.status !== last.status) stream.send('status', view);
        last = view;
        if (JobStore.isFinal(view.status)) {
          stream.send('end', view);
          handle.stop();
        }
      };

      stream.send('status', last);
      if (JobStore.isFinal(last.status)) {
        stream.send('end', last);
        handle.stop();
        return reply;
      }
      try {
        const stop = await events.watch(id, onRecord);
        if (stream.isClosed) stop();
        else unwatch = stop;
        // A change between the first read and the subscription would be missed: read once more.
        if (!stream.isClosed) onRecord(await queue.store.get(id));
      } catch (err) {
        request.log.warn({ err, job: id }, 'events: following the job failed');
        handle.stop();
      }
      return reply;
    },
  );
};
