import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { pino } from 'pino';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { DEFAULT_REGISTRY_POLICY, type JobQueue, type RegistryPolicy } from '@synthline/queue';
import type { Storage } from '@synthline/storage';
import { PROBLEM_CONTENT_TYPE, errorHandler, notFoundHandler, validatorCompiler } from './problem.ts';
import { registerAccess, type ApiKey } from './access.ts';
import type { JobCaps } from './routes/deps.ts';
import { assetsRoute } from './routes/assets.ts';
import { mixRoutes } from './routes/mixes.ts';
import { catalogRoute } from './routes/catalog.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs/index.ts';
import { metricsRoute } from './routes/metrics.ts';
import { workersRoute } from './routes/workers.ts';

export interface AppOptions {
  /** The queue and job store, on a Redis connection the caller owns. */
  queue: JobQueue;
  /** Where job output lives. */
  storage: Storage;
  /** The asset library folder (default `library`). */
  libraryRoot?: string;
  /** The folder of real photo sets for mixes (default `real`). */
  realRoot?: string;
  /** API keys; none: no authentication (the server then listens on loopback only). */
  keys?: ApiKey[];
  /** Requests per minute per key or client address (default 600). */
  ratePerMinute?: number;
  /** Operator caps on what one job may ask for. */
  caps?: JobCaps;
  /** A pino logger; none means silent. */
  logger?: FastifyBaseLogger;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** How often an event stream reads its job (default 300 ms). */
  eventsPollMs?: number;
  /** How often an event stream sends a keep-alive comment (default 15 s). */
  keepAliveMs?: number;
  /** When the worker registry calls a silent worker lost, and how long it lists it (default 3 heartbeats, 10 min). */
  workers?: Partial<RegistryPolicy>;
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/**
 * Builds the API: one Fastify instance, not yet listening, that tests can `inject` into. It
 * opens no connection of its own; the queue and storage are passed in, and closing the app
 * leaves them open.
 */
export function buildApp(opts: AppOptions): App {
  const app = Fastify({
    loggerInstance: opts.logger ?? pino({ enabled: false }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // `/v1/jobs/` and `/v1/jobs` are the same resource.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    // Errors the router raises before any route runs (a bad URL, an over-long path parameter)
    // are problems too.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      void (reply as unknown as FastifyReply)
        .code(status)
        .type(PROBLEM_CONTENT_TYPE)
        .send({ type: 'urn:synthline:problem:invalid-request', title: 'Invalid request', status, detail: error.message.slice(0, 200), instance: request.url.slice(0, 200) });
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Fastify parses text/plain by default; this API speaks JSON only (415 for anything else).
  app.removeContentTypeParser('text/plain');

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'synthline',
        description:
          'Synthetic training images of look-alike products, rendered with headless Blender and delivered as WebDataset shards. ' +
          'Every error is an RFC 9457 problem document (application/problem+json).',
        version: '0.1.0',
      },
      tags: [
        { name: 'jobs', description: 'dataset jobs' },
        { name: 'catalog', description: 'what a spec can name' },
        { name: 'workers', description: 'the render fleet' },
        { name: 'health', description: 'probes and metrics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  const deps = {
    queue: opts.queue,
    storage: opts.storage,
    libraryRoot: opts.libraryRoot ?? 'library',
    realRoot: opts.realRoot ?? 'real',
    caps: opts.caps ?? { count: 10_000_000, resolution: 4096, samples: 4096 },
  };
  registerAccess(app, { keys: opts.keys ?? [], ratePerMinute: opts.ratePerMinute ?? 600 });
  app.register(jobRoutes, { ...deps, pollMs: opts.eventsPollMs ?? 300, keepAliveMs: opts.keepAliveMs ?? 15_000 });
  app.register(catalogRoute);
  app.register(assetsRoute, deps);
  app.register(mixRoutes, deps);
  app.register(healthRoutes, deps);
  const policy = { ...DEFAULT_REGISTRY_POLICY, ...opts.workers };
  app.register(workersRoute, { queue: opts.queue, policy });
  app.register(metricsRoute, { queue: opts.queue, policy });
  return app;
}
