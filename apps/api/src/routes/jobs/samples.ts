import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { RenderSettings } from '@synthline/spec';
import { problemResponses, ProblemError, notFound } from '../../problem.ts';
import { IMAGE_TYPES, readSampleImage } from '../../samples.ts';
import type { RouteDeps } from '../deps.ts';
import { SampleParams } from './schemas.ts';

/**
 * Sends raw bytes. The route's typed reply only accepts what its zod schemas describe, and an
 * image is bytes that zod cannot describe in JSON Schema; bytes skip the serializer anyway.
 */
function sendBytes(reply: FastifyReply, contentType: string, bytes: Buffer): FastifyReply {
  return reply.type(contentType).send(bytes);
}

const StoredFormat = z.looseObject({ render: z.looseObject({ format: RenderSettings.shape.format }) });

/** `GET /v1/jobs/:id/samples/:index`: the encoded image of one frame, as soon as it is rendered. */
export const samplesRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { queue, storage }) => {
  app.get(
    '/v1/jobs/:id/samples/:index',
    {
      schema: {
        summary: "One frame's image",
        description:
          'The image as encoded in the dataset (render.format: PNG, JPEG or WebP). 404 until the frame is rendered, and for frames that failed.',
        tags: ['jobs'],
        params: SampleParams,
        response: {
          200: {
            description: 'the encoded image',
            content: Object.fromEntries(
              Object.values(IMAGE_TYPES).map((t) => [t.contentType, { schema: z.string().meta({ format: 'binary' }) }]),
            ),
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, index } = request.params;
      const [record, spec] = await Promise.all([queue.store.get(id), queue.store.spec(id)]);
      if (!record) throw notFound(`no job ${id}`);
      if (index >= record.frames_total) {
        throw new ProblemError(400, 'invalid-request', `frame ${index} is out of range: the job has ${record.frames_total} frames`, [
          { path: 'index', message: `expected less than ${record.frames_total}` },
        ]);
      }
      const parsed = StoredFormat.safeParse(spec);
      const format = parsed.success ? parsed.data.render.format : 'png';
      const image = await readSampleImage(storage, record, index, format);
      if (!image) {
        const why =
          record.status === 'cancelled'
            ? 'the job was cancelled'
            : record.status === 'completed' || record.status === 'failed'
              ? 'the frame failed to render'
              : 'it is not rendered yet';
        throw notFound(`frame ${index} of job ${id} has no image: ${why}`);
      }
      return sendBytes(reply, IMAGE_TYPES[format].contentType, image);
    },
  );
};
