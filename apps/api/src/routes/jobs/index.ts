import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { cancelRoute } from './cancel.ts';
import { eventsRoute, type EventsOptions } from './events.ts';
import { readRoutes } from './read.ts';
import { sampleExtrasRoutes } from './sample-extras.ts';
import { samplesRoute } from './samples.ts';
import { previewRoute } from './preview.ts';
import { submitRoute } from './submit.ts';

/** Everything under `/v1/jobs`, and `/v1/previews` (previews are jobs). */
export const jobRoutes: FastifyPluginAsyncZod<EventsOptions> = async (app, opts) => {
  const deps = {
    queue: opts.queue,
    storage: opts.storage,
    libraryRoot: opts.libraryRoot,
    realRoot: opts.realRoot,
    caps: opts.caps,
    quotas: opts.quotas,
    redact: opts.redact,
  };
  await app.register(submitRoute, deps);
  await app.register(previewRoute, deps);
  await app.register(readRoutes, deps);
  await app.register(cancelRoute, deps);
  await app.register(eventsRoute, opts);
  await app.register(samplesRoute, deps);
  await app.register(sampleExtrasRoutes, deps);
};
