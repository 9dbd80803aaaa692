import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { canonicalHash } from '@synthline/jobs';
import { toJobView } from './job-view.ts';
import { SpecError, type JobSpec } from '@synthline/spec';
import { planContext, type PlanContext } from '@synthline/planner';
import { AssetLibrary } from '@synthline/library';
import { ProblemError, problemResponses } from '../../problem.ts';
import type { JobCaps, RouteDeps } from '../deps.ts';
import { JobSpecBody, SubmitHeaders, SubmittedJob } from './schemas.ts';

/**
 * `POST /v1/jobs`: validates the spec and enqueues it. A new job answers 202. With an
 * `Idempotency-Key`, a repeat with the same body answers 200 with the job made the first time,
 * and a repeat with a different body answers 409; a request that fails validation claims no key.
 */
export const submitRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue, storage, libraryRoot, caps, quotas }) => {
  // The hash is of the body as sent (before defaults are filled in), taken before validation
  // replaces the body with the parsed spec.
  const bodyHashes = new WeakMap<FastifyRequest, string>();

  app.post(
    '/v1/jobs',
    {
      schema: {
        summary: 'Submit a dataset job',
        tags: ['jobs'],
        headers: SubmitHeaders,
        body: JobSpecBody,
        response: {
          200: SubmittedJob.describe('an idempotent repeat: the job made by the first request'),
          202: SubmittedJob.describe('the job was queued'),
          ...problemResponses(400, 409, 413, 415, 429),
        },
      },
      preValidation: async (request) => {
        if (request.headers['idempotency-key'] !== undefined) bodyHashes.set(request, canonicalHash(request.body));
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const spec = request.body;
      await checkSpec(spec, caps, libraryRoot);
      const { record, created } = await queue.submit(request.body, {
        outputUri: (id) => storage.url(id),
        owner: request.owner,
        quota: { ...quotas.defaults, ...quotas.perKey[request.owner] },
        ...(key === undefined ? {} : { idempotencyKey: key, bodyHash: bodyHashes.get(request) ?? canonicalHash(request.body) }),
      });
      const view = toJobView(record);
      reply.code(created ? 202 : 200).header('location', view.links.self);
      return { id: view.id, status: view.status, links: view.links };
    },
  );
};

/**
 * The checks of `POST /v1/jobs` beyond the schema: the server's caps, and a plan context (library
 * products exist and passed their scan, hold-outs leave something). A 400 naming each field.
 */
export async function checkSpec(spec: JobSpec, caps: JobCaps, libraryRoot: string): Promise<PlanContext> {
  const over: { path: string; message: string }[] = [];
  if (spec.count > caps.count) over.push({ path: 'count', message: `at most ${caps.count} frames per job on this server (MAX_COUNT)` });
  spec.render.resolution.forEach((v, i) => {
    if (v > caps.resolution)
      over.push({ path: `render.resolution[${i}]`, message: `at most ${caps.resolution} pixels on this server (MAX_RESOLUTION)` });
  });
  if (spec.render.samples > caps.samples)
    over.push({ path: 'render.samples', message: `at most ${caps.samples} samples on this server (MAX_SAMPLES)` });
  if (over.length)
    throw new ProblemError(400, 'invalid-request', `the spec exceeds this server's limits: ${over.map((o) => o.path).join(', ')}`, over);
  // Library products must exist and have passed their scan: a bad asset is refused here,
  // never handed to a worker.
  try {
    return planContext(spec, await AssetLibrary.open(libraryRoot));
  } catch (err) {
    if (err instanceof SpecError) {
      throw new ProblemError(
        400,
        'invalid-request',
        `the spec cannot be rendered: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        err.problems,
      );
    }
    throw err;
  }
}
