import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { pino } from 'pino';
import { jsonSchemaTransform, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import rateLimit from '@fastify/rate-limit';
import { DEFAULT_REGISTRY_POLICY, JobEvents, NO_QUOTA, type Quota, type RegistryPolicy } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import { FileStorage, type Storage } from '@synthline/storage';
import { homedir, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROBLEM_CONTENT_TYPE, ProblemError, makeErrorHandler, notFoundHandler, pathRedactor, validatorCompiler } from './problem.ts';
import { registerAccess, type ApiKey, type OpenRoutes } from './access.ts';
import { parseJsonBody } from './json-body.ts';
import { openapiTransformObject } from './openapi.ts';
import type { JobCaps } from './routes/deps.ts';
import { assetsRoute } from './routes/assets.ts';
import { mixRoutes } from './routes/mixes.ts';
import { evaluationRoutes } from './routes/evaluations/index.ts';
import { StreamSlots } from './routes/event-stream.ts';
import { catalogRoute } from './routes/catalog.ts';
import { consoleRoute } from './routes/console.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs/index.ts';
import { metricsRoute } from './routes/metrics.ts';
import { specsRoute } from './routes/specs.ts';
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
  /** Requests per minute per key or client address (default 600), counted in Redis across replicas. */
  ratePerMinute?: number;
  /** Routes open without a key when keys are configured, beyond /healthz and /readyz (default: none). */
  open?: Partial<OpenRoutes>;
  /** Default quotas of every key (default: none), and per-key overrides by key name. */
  quotas?: { defaults: Quota; perKey?: Record<string, Partial<Quota>> };
  /** Most event streams one client may hold open in this process (default 20). */
  maxStreamsPerClient?: number;
  /** A request must arrive whole within this many ms (default 30 s); a client trickling its body is cut off. */
  requestTimeoutMs?: number;
  /** A request's headers must arrive within this many ms (default 10 s). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this many ms (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** How often ended jobs past their retention are swept from Redis (default 60 s; 0: never). */
  sweepMs?: number;
  /** Operator caps on what one job may ask for. */
  caps?: JobCaps;
  /** A pino logger; none means silent. */
  logger?: FastifyBaseLogger;
  /** Largest request body in bytes (default 64 KiB: a spec is a few KiB). */
  bodyLimit?: number;
  /** Deepest nesting of a JSON body (default 32: a spec nests 5 deep). */
  maxJsonDepth?: number;
  /** How often an event stream sends a keep-alive comment (default 15 s). */
  keepAliveMs?: number;
  /** The built web console served at `/` (default apps/console/dist of this checkout). */
  consoleDir?: string;
  /** Evaluations: most not yet ended per key (default 0: no limit), largest image size and epochs one may ask for (default 256, 50). */
  evaluations?: { maxInFlight?: number; maxSize?: number; maxEpochs?: number };
  /** When the worker registry calls a silent worker lost, and how long it lists it (default 3 heartbeats, 10 min). */
  workers?: Partial<RegistryPolicy>;
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** Default largest request body: real specs are a few KiB; the spec's own caps keep them there. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Builds the API: one Fastify instance, not yet listening, that tests can `inject` into. The
 * queue and storage are passed in, and closing the app leaves them open; the app adds one Redis
 * subscription of its own (job events for event streams), closed with it.
 */
export function buildApp(opts: AppOptions): App {
  const libraryRoot = opts.libraryRoot ?? 'library';
  const realRoot = opts.realRoot ?? 'real';
  const redact = pathRedactor([
    { path: resolve(libraryRoot), label: '<library>' },
    { path: resolve(realRoot), label: '<real>' },
    ...(opts.storage instanceof FileStorage ? [{ path: opts.storage.dir, label: '<output>' }] : []),
    { path: process.cwd(), label: '.' },
    { path: tmpdir(), label: '<tmp>' },
    { path: homedir(), label: '~' },
  ]);
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    loggerInstance: opts.logger ?? pino({ enabled: false }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // A client must send its whole request in time: one trickling a byte a second holds a
    // connection and a parser otherwise. Node checks these every `connectionsCheckingInterval`.
    requestTimeout,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    http: {
      headersTimeout: Math.min(opts.headersTimeoutMs ?? 10_000, requestTimeout),
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(requestTimeout / 4))),
    },
    // `/v1/jobs/` and `/v1/jobs` are the same resource.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    // Errors the router raises before any route runs (a bad URL, an over-long path parameter)
    // are problems too.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      void (reply as unknown as FastifyReply)
        .code(status)
        .type(PROBLEM_CONTENT_TYPE)
        .send({
          type: 'urn:synthline:problem:invalid-request',
          title: 'Invalid request',
          status,
          detail: redact(error.message).slice(0, 200),
          instance: request.url.slice(0, 200),
        });
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(makeErrorHandler(redact));
  app.setNotFoundHandler(notFoundHandler);
  // Fastify parses text/plain by default; this API speaks JSON only (415 for anything else).
  app.removeContentTypeParser('text/plain');
  // JSON nested deeper than any spec is refused before anything walks it (hashing, validation).
  const maxDepth = opts.maxJsonDepth ?? 32;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string, maxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // Before any route, so that it sees them all; counted in Redis, shared by API replicas.
  const perMinute = opts.ratePerMinute ?? 600;
  app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    redis: opts.queue.redis,
    nameSpace: `${opts.queue.prefix}:ratelimit:`,
    // Redis away: requests answer 503 from the store; the limiter must not turn that into 500s.
    skipOnError: true,
    keyGenerator: (request) => request.principal || `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new ProblemError(429, 'rate-limited', `more than ${context.max} requests per minute; retry in ${context.after}`, undefined, {
        quota: 'rate',
        limit: context.max,
      }),
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'synthline',
        description:
          'Synthetic training images of look-alike products, rendered with headless Blender and delivered as WebDataset shards. ' +
          'Every error is an RFC 9457 problem document (application/problem+json). ' +
          'With API keys configured every route but /healthz and /readyz needs `Authorization: Bearer <token>` (401 otherwise; /docs and /metrics only where the operator opens them); ' +
          "without keys the server answers loopback Host names only (403 otherwise). Any route may answer 429 when the key's request rate is exceeded.",
        version: '0.1.0',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key made by `synthline api-key <name>`' } },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'jobs', description: 'dataset jobs' },
        { name: 'catalog', description: 'what a spec can name' },
        { name: 'workers', description: 'the render fleet' },
        {
          name: 'evaluations',
          description: 'a probe classifier trained on one set and tested on another, by workers with the Python runner',
        },
        { name: 'health', description: 'probes and metrics' },
      ],
    },
    transform: jsonSchemaTransform,
    // Each schema once, without zod's made-up safe-integer bounds (see openapi.ts).
    transformObject: openapiTransformObject,
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  const deps = {
    queue: opts.queue,
    storage: opts.storage,
    libraryRoot,
    realRoot,
    redact,
    caps: opts.caps ?? { count: 10_000_000, resolution: 4096, samples: 4096 },
    quotas: { defaults: opts.quotas?.defaults ?? NO_QUOTA, perKey: opts.quotas?.perKey ?? {} },
  };
  registerAccess(app, { keys: opts.keys ?? [], open: { docs: false, metrics: false, ...opts.open } });
  const events = new JobEvents(opts.queue.store, { onError: (err) => app.log.debug({ err }, 'job events: connection error') });
  app.addHook('onClose', async () => {
    await events.close();
  });
  // Ended jobs past their retention leave Redis (their datasets stay in storage).
  const sweepMs = opts.sweepMs ?? 60_000;
  if (sweepMs > 0) {
    const sweep = setInterval(() => {
      opts.queue.store.sweepExpired().catch((err: unknown) => app.log.debug({ err }, 'sweeping expired jobs failed'));
    }, sweepMs);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }
  // One cap per client over every kind of event stream.
  const streams = new StreamSlots(opts.maxStreamsPerClient ?? 20);
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  app.register(jobRoutes, { ...deps, events, keepAliveMs, streams });
  const evaluationEvents = new JobEvents(opts.queue.evaluations, {
    onError: (err) => app.log.debug({ err }, 'evaluation events: connection error'),
  });
  app.addHook('onClose', async () => {
    await evaluationEvents.close();
  });
  app.register(evaluationRoutes, {
    ...deps,
    events: evaluationEvents,
    keepAliveMs,
    streams,
    policy: { ...DEFAULT_REGISTRY_POLICY, ...opts.workers },
    maxInFlight: opts.evaluations?.maxInFlight ?? 0,
    evalCaps: { size: opts.evaluations?.maxSize ?? 256, epochs: opts.evaluations?.maxEpochs ?? 50 },
  });
  app.register(catalogRoute);
  app.register(assetsRoute, deps);
  app.register(specsRoute, deps);
  app.register(mixRoutes, deps);
  app.register(healthRoutes, deps);
  const policy = { ...DEFAULT_REGISTRY_POLICY, ...opts.workers };
  app.register(workersRoute, { queue: opts.queue, policy });
  app.register(metricsRoute, { queue: opts.queue, policy });
  app.register(consoleRoute, { dir: opts.consoleDir ?? fileURLToPath(new URL('../../console/dist/', import.meta.url)) });
  return app;
}
