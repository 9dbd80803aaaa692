import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import { MixError, ShortfallError, UnknownClassesError, mixDatasets } from '@synthline/mix';
import { FileStorage } from '@synthline/storage';
import { ProblemError, notFound, problemResponses } from '../problem.ts';
import type { RouteDeps } from './deps.ts';

const MixRequest = z
  .strictObject({
    /** A completed job whose dataset is the synthetic side. */
    synthetic_job: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    /** A real photo set: a folder name under SYNTHLINE_REAL (never a path). */
    real: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a folder name under SYNTHLINE_REAL'),
    /** Real to synthetic, per class and overall. */
    ratio: z.string().regex(/^[1-9]\d{0,5}:[1-9]\d{0,5}$/, 'R:S with positive integers, e.g. "1:5"'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    best_effort: z.boolean().default(false),
    shard_size: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .meta({ id: 'MixRequest' });

const MixView = z
  .object({
    id: z.string(),
    status: z.literal('completed'),
    output: z.object({ uri: z.string(), manifest: z.string() }),
    report: z.unknown(),
  })
  .meta({ id: 'Mix' });

/**
 * `POST /v1/mixes`: mixes a completed job's dataset with a real photo set at a ratio, into
 * `<SYNTHLINE_OUTPUT>/mixes/<id>/` (the same code as `synthline mix`; it runs within the request,
 * which suits sets of up to some ten thousand images). `GET /v1/mixes/:id` reads its manifest.
 */
export const mixRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue, storage, realRoot }) => {
  // Mixes are made on the API's disk: with an object store as the output there is none to use.
  const mixDir = (id: string) => {
    if (!(storage instanceof FileStorage)) {
      throw new ProblemError(
        400,
        'invalid-request',
        `mixes need a folder as SYNTHLINE_OUTPUT, not ${storage.root}: run "synthline mix" on a copy of the dataset instead`,
        [{ path: '(server)', message: 'SYNTHLINE_OUTPUT is an object store' }],
      );
    }
    return join(storage.dir, 'mixes', id);
  };
  const url = (path: string) => pathToFileURL(path).href;

  app.post(
    '/v1/mixes',
    {
      schema: {
        summary: 'Mix a rendered dataset with real photos',
        tags: ['mixes'],
        body: MixRequest,
        response: { 201: MixView, ...problemResponses(400, 404, 409, 415, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      mixDir('check'); // an object store as the output: 400 before anything is read
      const job = await queue.store.get(b.synthetic_job);
      if (!job) throw notFound(`no job ${b.synthetic_job}`);
      if (job.status !== 'completed' || !job.output_uri) {
        throw new ProblemError(409, 'conflict', `job ${job.id} is ${job.status}; only a completed job's dataset can be mixed`);
      }
      if (!job.output_uri.startsWith('file:')) {
        throw new ProblemError(
          400,
          'invalid-request',
          `job ${job.id}'s dataset is in an object store (${job.output_uri}); mixes need a folder: run "synthline mix" on a copy of it`,
        );
      }
      const real = resolve(realRoot, b.real);
      const id = nanoid(12).replace(/[^A-Za-z0-9]/g, 'x');
      try {
        const report = await mixDatasets({
          real,
          synthetic: fileURLToPath(job.output_uri),
          out: mixDir(id),
          ratio: b.ratio,
          seed: b.seed,
          bestEffort: b.best_effort,
          shardSize: b.shard_size,
        });
        reply.code(201).header('location', `/v1/mixes/${id}`);
        return {
          id,
          status: 'completed' as const,
          output: { uri: url(mixDir(id)), manifest: url(join(mixDir(id), 'dataset.json')) },
          report,
        };
      } catch (err) {
        if (err instanceof UnknownClassesError) {
          throw new ProblemError(
            422,
            'unprocessable',
            err.message,
            err.unknown.map((c) => ({ path: `real/${c}`, message: 'class not in the synthetic dataset' })),
            { known: err.known },
          );
        }
        if (err instanceof ShortfallError) {
          throw new ProblemError(
            422,
            'unprocessable',
            err.message,
            err.shortfalls.map((s) => ({
              path: s.class,
              message: `${s.real} real need ${s.synthetic_needed} synthetic, have ${s.synthetic_available}`,
            })),
            { shortfalls: err.shortfalls },
          );
        }
        if (err instanceof MixError) throw new ProblemError(400, 'invalid-request', err.message);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          throw new ProblemError(400, 'invalid-request', `no real photo set "${b.real}"`, [
            { path: 'real', message: 'not found under SYNTHLINE_REAL' },
          ]);
        throw err;
      }
    },
  );

  app.get(
    '/v1/mixes/:id',
    {
      schema: {
        summary: 'A mix',
        tags: ['mixes'],
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9]{1,64}$/) }),
        response: { 200: MixView, ...problemResponses(404) },
      },
    },
    async (request) => {
      const dir = mixDir(request.params.id);
      let manifest: unknown;
      try {
        manifest = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'));
      } catch {
        throw notFound(`no mix ${request.params.id}`);
      }
      return {
        id: request.params.id,
        status: 'completed' as const,
        output: { uri: url(dir), manifest: url(join(dir, 'dataset.json')) },
        report: manifest,
      };
    },
  );
};
