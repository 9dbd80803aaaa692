import { createReadStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MANIFEST_FILE } from '@synthline/shards';
import { problemResponses, ProblemError, notFound } from '../../problem.ts';
import { overlayPng } from '../../annotation-view.ts';
import { sendBytes } from '../../send-bytes.ts';
import { manifestOf, readSampleMember } from '../../samples.ts';
import type { RouteDeps } from '../deps.ts';
import { JobIdParams, SampleParams } from './schemas.ts';

const ANNOTATION_KINDS = ['mask', 'depth', 'instances'] as const;
/** The member each annotation is stored as (label `annotations`, packages/pipeline render-frames.ts). */
const ANNOTATION_MEMBERS: Record<(typeof ANNOTATION_KINDS)[number], string> = {
  mask: 'mask.png',
  depth: 'depth.png',
  instances: 'inst.png',
};

export const AnnotationParams = SampleParams.extend({
  kind: z.enum(ANNOTATION_KINDS).describe('which annotation image: mask (8-bit), depth (16-bit mm) or instances (16-bit ids)'),
});

export const AnnotationQuery = z.strictObject({
  view: z
    .enum(['raw', 'overlay'])
    .default('raw')
    .describe('raw: the stored PNG; overlay: an RGBA picture to lay over the frame (instances in colours, depth near-bright to far-dark)'),
});

export const FileParams = JobIdParams.extend({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a file name of the dataset (dataset.json, a shard, the contact sheet)')
    .describe('dataset.json, the contact sheet or a shard, as the manifest names them'),
});

const TYPES: Record<string, string> = {
  json: 'application/json',
  tar: 'application/x-tar',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/** Why a frame of a job has nothing to show, for a 404. */
function whyMissing(status: string): string {
  return status === 'cancelled'
    ? 'the job was cancelled'
    : status === 'completed' || status === 'failed'
      ? 'the frame failed to render'
      : 'it is not rendered yet';
}

/**
 * What the web console shows of a job beyond its JobView: its spec, one frame's label and
 * annotation images, and the files of its finished dataset (manifest, contact sheet, shards).
 */
export const sampleExtrasRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue, storage }) => {
  /** The job and a frame index checked against it. */
  async function frame(id: string, index: number) {
    const record = await queue.store.get(id);
    if (!record) throw notFound(`no job ${id}`);
    if (index >= record.frames_total) {
      throw new ProblemError(400, 'invalid-request', `frame ${index} is out of range: the job has ${record.frames_total} frames`, [
        { path: 'index', message: `expected less than ${record.frames_total}` },
      ]);
    }
    return record;
  }

  app.get(
    '/v1/jobs/:id/spec',
    {
      schema: {
        summary: "A job's spec, as submitted with its defaults filled in",
        tags: ['jobs'],
        params: JobIdParams,
        response: {
          200: { description: 'the JobSpec', content: { 'application/json': { schema: z.object({}).loose() } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const spec = await queue.store.spec(request.params.id);
      if (spec === null || spec === undefined) throw notFound(`no job ${request.params.id}`);
      return sendBytes(reply, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(spec)));
    },
  );

  app.get(
    '/v1/jobs/:id/samples/:index/label',
    {
      schema: {
        summary: "One frame's label",
        description:
          'The label JSON stored beside the image (SampleLabel: class, bbox, instances, pose, camera, ...). 404 until the frame is rendered, and for frames that failed.',
        tags: ['jobs'],
        params: SampleParams,
        response: {
          200: { description: 'the label', content: { 'application/json': { schema: z.object({}).loose() } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, index } = request.params;
      const record = await frame(id, index);
      const label = await readSampleMember(storage, record, index, 'json');
      if (!label) throw notFound(`frame ${index} of job ${id} has no label: ${whyMissing(record.status)}`);
      return sendBytes(reply, 'application/json; charset=utf-8', label);
    },
  );

  app.get(
    '/v1/jobs/:id/samples/:index/annotations/:kind',
    {
      schema: {
        summary: "One frame's mask, depth or instance map",
        description:
          'A PNG, when the spec asked for that annotation (output.annotations). 404 otherwise, until the frame is rendered, and for frames that failed. `?view=overlay`: the same as a picture to lay over the frame.',
        tags: ['jobs'],
        params: AnnotationParams,
        querystring: AnnotationQuery,
        response: {
          200: { description: 'a PNG', content: { 'image/png': { schema: z.string().meta({ format: 'binary' }) } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, index, kind } = request.params;
      const record = await frame(id, index);
      const bytes = await readSampleMember(storage, record, index, ANNOTATION_MEMBERS[kind]);
      if (!bytes) throw notFound(`frame ${index} of job ${id} has no ${kind} image: it was not asked for, or ${whyMissing(record.status)}`);
      return sendBytes(reply, 'image/png', request.query.view === 'overlay' ? await overlayPng(kind, bytes) : bytes);
    },
  );

  app.get(
    '/v1/jobs/:id/files/:name',
    {
      schema: {
        summary: "A file of a job's finished dataset",
        description:
          '`dataset.json` (the manifest), the contact sheet, or a shard, as the manifest names them. 404 until the job is finalized.',
        tags: ['jobs'],
        params: FileParams,
        response: {
          200: { description: 'the file', content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params;
      const record = await queue.store.get(id);
      if (!record) throw notFound(`no job ${id}`);
      const manifest = await manifestOf(storage, id);
      if (!manifest) throw notFound(`job ${id} has no dataset yet (status ${record.status})`);
      const names = new Set([
        MANIFEST_FILE,
        ...manifest.shards.map((s) => s.name),
        ...(manifest.contact_sheet ? [manifest.contact_sheet] : []),
      ]);
      if (!names.has(name)) throw notFound(`the dataset of job ${id} has no file ${name}`);
      const type = TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
      const sent = await storage.withFile(id, name, async (path) => {
        const stream = createReadStream(path);
        const done = finished(stream);
        reply.type(type);
        if (type === 'application/x-tar') reply.header('content-disposition', `attachment; filename="${id}-${name}"`);
        void (reply as FastifyReply).send(stream);
        await done.catch(() => undefined);
        return true;
      });
      if (!sent) throw notFound(`the dataset of job ${id} has no file ${name}`);
      return reply;
    },
  );
};
