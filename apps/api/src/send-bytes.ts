import type { FastifyReply } from 'fastify';

/** Sends bytes the route's zod schemas cannot describe (they skip the serializer). */
export function sendBytes(reply: FastifyReply, contentType: string, bytes: Buffer): FastifyReply {
  return reply.type(contentType).send(bytes);
}
