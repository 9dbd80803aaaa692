import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JobStore, toJobView, type JobView } from '@synthline/queue';
import { problemResponses, notFound } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { JobIdParams } from './schemas.ts';

export interface EventsOptions extends RouteDeps {
  /** How often the store is read for changes. */
  pollMs: number;
  /** How often a comment line keeps idle proxies from closing the stream. */
  keepAliveMs: number;
}

/** The events of `GET /v1/jobs/:id/events`; each carries a JobView as its JSON data. */
export const JOB_EVENTS = {
  status: 'sent on connect, and whenever the status changes',
  progress: 'frames done or failed changed',
  end: 'the job reached a final status (completed, failed or cancelled); the server then closes the stream',
} as const;
export type JobEvent = keyof typeof JOB_EVENTS;

/** One open text/event-stream response. */
class EventStream {
  private closed = false;

  constructor(private readonly res: ServerResponse) {
    res.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed || this.res.writableEnded;
  }

  send(event: JobEvent, data: unknown): void {
    if (!this.isClosed) this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (!this.isClosed) this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.isClosed) this.res.end();
    this.closed = true;
  }
}

const progressOf = (v: JobView) => JSON.stringify(v.progress);

/**
 * `GET /v1/jobs/:id/events`: server-sent events following one job. See {@link JOB_EVENTS}.
 * Polling the store (rather than pub/sub) keeps workers unaware of listeners; one read every
 * `pollMs` per open stream is cheap next to a render.
 */
export const eventsRoute: FastifyPluginAsyncZod<EventsOptions> = async (app, { queue, pollMs, keepAliveMs }) => {
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
        description: Object.entries(JOB_EVENTS)
          .map(([name, when]) => `\`${name}\`: ${when}.`)
          .join(' ') + ' Every event carries the JobView as JSON. A comment line keeps the stream alive every 15 s.',
        tags: ['jobs'],
        params: JobIdParams,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const first = await queue.store.get(id);
      if (!first) throw notFound(`no job ${id}`);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx and similar proxies buffer responses unless told not to.
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      const stream = new EventStream(res);

      let last = toJobView(first);
      let timer: NodeJS.Timeout | undefined;
      const keepAlive = setInterval(() => stream.comment('keep-alive'), keepAliveMs);
      const handle = {
        stop: () => {
          clearTimeout(timer);
          clearInterval(keepAlive);
          open.delete(handle);
          stream.end();
        },
      };
      open.add(handle);
      res.on('close', handle.stop);

      stream.send('status', last);
      if (JobStore.isFinal(last.status)) {
        stream.send('end', last);
        handle.stop();
        return reply;
      }

      // Each poll schedules the next once it is done, so slow reads never pile up.
      const poll = async (): Promise<void> => {
        if (stream.isClosed) return;
        try {
          const record = await queue.store.get(id);
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
            return;
          }
        } catch (err) {
          request.log.warn({ err, job: id }, 'events: reading the job failed; retrying');
        }
        if (!stream.isClosed) timer = setTimeout(() => void poll(), pollMs);
      };
      timer = setTimeout(() => void poll(), pollMs);
      return reply;
    },
  );
};
