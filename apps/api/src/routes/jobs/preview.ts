import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseSpec, type JobSpec } from '@synthline/spec';
import { problemResponses } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { toJobView } from './job-view.ts';
import { JobSpecBody, SubmittedJob } from './schemas.ts';
import { checkSpec } from './submit.ts';

/** Frames of a preview, the longest side of its pictures, its samples, and how long it is kept. */
export const PREVIEW = { frames: 4, size: 160, samples: 16, retentionS: 3600 } as const;

/**
 * The spec a preview renders: its first frames (the same plans as the job's, since a frame's
 * plan depends only on the seed and its index), smaller and with fewer samples.
 */
export function previewSpec(spec: JobSpec): JobSpec {
  const [w, h] = spec.render.resolution;
  const k = Math.min(1, PREVIEW.size / Math.max(w, h));
  const side = (v: number) => Math.max(16, Math.round(v * k));
  return parseSpec({
    ...spec,
    name: `${spec.name.slice(0, 56)}-preview`,
    count: Math.min(spec.count, PREVIEW.frames),
    render: { ...spec.render, resolution: [side(w), side(h)], samples: Math.min(spec.render.samples, PREVIEW.samples) },
  });
}

const SubmittedPreview = SubmittedJob.extend({
  preview: z.object({
    frames: z.number().int(),
    resolution: z.tuple([z.number().int(), z.number().int()]),
    samples: z.number().int(),
  }),
}).meta({ id: 'SubmittedPreview' });

/**
 * `POST /v1/previews`: the spec's first few frames, small, rendered ahead of every queued batch.
 * A preview is a job (followed, read and cancelled like one, counted against the same quotas)
 * that leaves Redis an hour after it ends.
 */
export const previewRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue, storage, libraryRoot, caps, quotas }) => {
  app.post(
    '/v1/previews',
    {
      schema: {
        summary: "Preview a spec: its first frames, small, rendered ahead of the queue's batches",
        tags: ['jobs'],
        body: JobSpecBody,
        response: {
          202: SubmittedPreview.describe('the preview was queued ahead; follow it as a job'),
          ...problemResponses(400, 413, 415, 429),
        },
      },
    },
    async (request, reply) => {
      const spec = previewSpec(request.body);
      await checkSpec(spec, caps, libraryRoot);
      const { record } = await queue.submit(spec, {
        outputUri: (id) => storage.url(id),
        owner: request.owner,
        quota: { ...quotas.defaults, ...quotas.perKey[request.owner] },
        ahead: true,
        // An hour, or the server's retention if shorter.
        retentionS: queue.retentionS > 0 ? Math.min(queue.retentionS, PREVIEW.retentionS) : PREVIEW.retentionS,
      });
      const view = toJobView(record);
      reply.code(202).header('location', view.links.self);
      return {
        id: view.id,
        status: view.status,
        links: view.links,
        preview: { frames: spec.count, resolution: spec.render.resolution, samples: spec.render.samples },
      };
    },
  );
};
