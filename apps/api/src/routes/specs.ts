import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { classesOf, classFor } from '@synthline/spec';
import { plan } from '@synthline/planner';
import { problemResponses } from '../problem.ts';
import type { RouteDeps } from './deps.ts';
import { checkSpec } from './jobs/submit.ts';
import { JobSpecBody } from './jobs/schemas.ts';

/** Most frames planned to count classes; a larger job's counts are scaled from these. */
export const BALANCE_FRAMES = 2000;

export const SpecCheck = z
  .object({
    name: z.string(),
    count: z.number().int(),
    planned: z.number().int().describe('frames planned to count the classes: all of them, or the first 2000 of a larger job'),
    exact: z.boolean().describe('true when every frame was planned: the counts are what the dataset will hold'),
    classes: z.array(
      z.object({
        index: z.number().int(),
        name: z.string(),
        expected: z.number().describe('frames of this class in the job (scaled from the planned ones unless exact)'),
        share: z.number().describe('fraction of the frames'),
      }),
    ),
  })
  .meta({ id: 'SpecCheck' });

/**
 * `POST /v1/specs/check`: everything `POST /v1/jobs` checks, without submitting; answers the
 * classes and how many frames of each the planner gives the job (its class balance).
 */
export const specsRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { caps, libraryRoot }) => {
  app.post(
    '/v1/specs/check',
    {
      schema: {
        summary: 'Check a spec without submitting it: validation, classes and their expected frame counts',
        tags: ['jobs'],
        body: JobSpecBody,
        response: { 200: SpecCheck, ...problemResponses(400, 413, 415) },
      },
    },
    async (request) => {
      const spec = request.body;
      const ctx = await checkSpec(spec, caps, libraryRoot);
      const classes = classesOf(spec, ctx.products);
      const counts = new Map<number, number>();
      const planned = Math.min(spec.count, BALANCE_FRAMES);
      for (let i = 0; i < planned; i++) {
        const p = plan(spec, i, ctx).product;
        const c = classFor(classes, p.model, p.color.name, p.side_up);
        counts.set(c.index, (counts.get(c.index) ?? 0) + 1);
      }
      const scale = planned > 0 ? spec.count / planned : 0;
      return {
        name: spec.name,
        count: spec.count,
        planned,
        exact: planned === spec.count,
        classes: classes.map((c) => {
          const n = counts.get(c.index) ?? 0;
          return {
            index: c.index,
            name: c.name,
            expected: Math.round(n * scale),
            share: planned > 0 ? Number((n / planned).toFixed(4)) : 0,
          };
        }),
      };
    },
  );
};
