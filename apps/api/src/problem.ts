import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { SpecError, problemsOf } from '@synthline/spec';
import { IdempotencyPendingError, QuotaExceededError } from '@synthline/jobs';
import { IdempotencyConflictError } from '@synthline/queue';

/**
 * Every error the API answers is an RFC 9457 problem document, served as
 * `application/problem+json`. `type` is a stable URN per kind of problem (see
 * {@link PROBLEM_TYPES}); `errors` lists each offending field of a request that failed validation,
 * with the path written the way the spec package writes it (`render.samples`, `products[0].asset`).
 */
export const Problem = z
  .looseObject({
    type: z.string().describe('URN naming the kind of problem, or about:blank'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().describe('the request path'),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const STATUS_WHEN: Record<number, string> = {
  400: 'the request is invalid; `errors` names each offending field',
  401: 'no valid API key (`Authorization: Bearer <token>`)',
  403: 'without API keys: the Host header is not a loopback name',
  404: 'no such job, route or sample',
  409: 'the Idempotency-Key was used with a different body',
  413: 'the body is larger than BODY_LIMIT',
  429: 'too many requests, a quota reached, or too many open event streams; `quota` names the quota',
  415: 'the body is not application/json',
  503: 'not ready, or Redis does not answer',
};

/** OpenAPI responses for these statuses: problem documents. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: STATUS_WHEN[s] ?? 'a problem', content: { 'application/problem+json': { schema: Problem } } }]),
  ) as Record<S, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;
}

/** The kinds of problem this API reports, by slug: `type` is `urn:synthline:problem:<slug>`. */
export const PROBLEM_TYPES = {
  'invalid-request': 'Invalid request',
  'malformed-body': 'Malformed request body',
  'unsupported-media-type': 'Unsupported media type',
  'body-too-large': 'Request body too large',
  'not-found': 'Not found',
  'idempotency-conflict': 'Idempotency key reused',
  conflict: "Conflict with the resource's state",
  unauthorized: 'Unauthorized',
  'rate-limited': 'Too many requests',
  'too-many-streams': 'Too many open event streams',
  'quota-exceeded': 'Quota exceeded',
  'host-not-allowed': 'Host not allowed',
  'idempotency-pending': 'Idempotent request still in progress',
  unprocessable: 'The request cannot be carried out',
  'not-ready': 'Not ready',
  unavailable: 'Service unavailable',
  internal: 'Internal server error',
} as const;
export type ProblemType = keyof typeof PROBLEM_TYPES;

const typeUri = (t: ProblemType) => `urn:synthline:problem:${t}`;

/** An error that becomes a problem document; throw it from a route. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly code = 'PROBLEM';
  /** Fastify reads the status of an error from here. */
  readonly statusCode: number;
  constructor(
    readonly status: number,
    readonly type: ProblemType,
    readonly detail: string,
    readonly errors?: { path: string; message: string }[],
    /** Extension members, merged into the document. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.statusCode = status;
  }
}

/** A job, or something of it, that does not exist. */
export const notFound = (detail: string) => new ProblemError(404, 'not-found', detail);

const PARTS: Record<string, string> = {
  body: 'the request body',
  querystring: 'the query string',
  params: 'the path',
  headers: 'the request headers',
};

/**
 * Validates request parts with their zod schemas and reports failures as the spec package does:
 * one problem per offending field, an unknown field named by its own path. Replaces
 * fastify-type-provider-zod's compiler, whose errors keep only zod's raw issue list.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const r = schema.safeParse(data);
    if (r.success) return { value: r.data };
    const part = PARTS[httpPart ?? 'body'] ?? `the ${httpPart}`;
    const problems = problemsOf(r.error, { input: data, schema }).map((p) =>
      p.path === '(spec)' && httpPart !== 'body' ? { ...p, path: `(${httpPart})` } : p,
    );
    return { error: new ProblemError(400, 'invalid-request', `${part} is invalid: ${summary(problems)}`, problems) };
  };

function summary(problems: { path: string; message: string }[]): string {
  const head = problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`);
  if (problems.length > 3) head.push(`and ${problems.length - 3} more`);
  return head.join('; ');
}

function send(reply: FastifyReply, p: Problem): FastifyReply {
  // A string payload skips the route's response serializer, which knows only the success shape.
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(p));
}

function instanceOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}

/** Turns a thrown {@link ProblemError} or a known library error into a problem document. */
function toProblem(err: FastifyError | Error, request: FastifyRequest): Problem | null {
  const instance = instanceOf(request);
  const make = (status: number, type: ProblemType, detail: string, errors?: Problem['errors']): Problem => ({
    type: typeUri(type),
    title: PROBLEM_TYPES[type],
    status,
    detail,
    instance,
    ...(errors ? { errors } : {}),
  });
  if (err instanceof ProblemError) return { ...make(err.status, err.type, err.detail, err.errors), ...err.extensions };
  if (err instanceof SpecError) return make(400, 'invalid-request', `the spec is invalid: ${summary(err.problems)}`, err.problems);
  if (err instanceof IdempotencyConflictError) return make(409, 'idempotency-conflict', err.message);
  if (err instanceof IdempotencyPendingError) return make(409, 'idempotency-pending', err.message);
  if (err instanceof QuotaExceededError) {
    return {
      ...make(429, 'quota-exceeded', err.message),
      quota: err.quota,
      limit: err.limit,
      used: err.used,
      requested: err.requested,
      resets_at: err.resetsAt?.toISOString() ?? null,
    };
  }
  const code = 'code' in err ? err.code : undefined;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return make(400, 'malformed-body', 'the body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return make(400, 'malformed-body', 'the body is empty but its content type says JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return make(400, 'malformed-body', 'the body does not match its Content-Length');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const ct = request.headers['content-type'];
      return make(415, 'unsupported-media-type', `content type ${ct ? `"${ct}"` : '(none)'} is not accepted; send application/json`);
    }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return make(413, 'body-too-large', `the body is larger than ${request.routeOptions.bodyLimit ?? 'the limit of'} bytes`);
  }
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    const validation = 'validation' in err && Array.isArray(err.validation) ? err.validation : undefined;
    return {
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Client error',
      status,
      detail: err.message,
      instance,
      ...(validation ? { errors: validation.map((v) => ({ path: v.instancePath || '(root)', message: v.message ?? 'invalid' })) } : {}),
    };
  }
  return null;
}

/**
 * Replaces the server's own folders in a text by names that say what they are (`<library>`,
 * `<output>`): a problem tells the client what is wrong without showing where things live.
 */
export type PathRedactor = (text: string) => string;

/** A redactor for these folders, each shown as its label; longer paths are replaced first. */
export function pathRedactor(roots: { path: string; label: string }[]): PathRedactor {
  const list = roots.filter((r) => r.path.startsWith('/') && r.path.length > 1).sort((a, b) => b.path.length - a.path.length);
  return (text) => {
    let out = text;
    for (const r of list) out = out.split(r.path).join(r.label);
    return out;
  };
}

function redactProblem(p: Problem, redact: PathRedactor): Problem {
  return {
    ...p,
    detail: redact(p.detail),
    ...(p.errors ? { errors: p.errors.map((e) => ({ path: redact(e.path), message: redact(e.message) })) } : {}),
  };
}

/** The one error handler: problems for the client, internals only in the log. */
export function makeErrorHandler(redact: PathRedactor = (t) => t) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    errorHandler(err, request, reply, redact);
}

export function errorHandler(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
  redact: PathRedactor = (t) => t,
): FastifyReply {
  const found = toProblem(err, request);
  const p = found ? redactProblem(found, redact) : null;
  if (p && p.status < 500) {
    if (err instanceof QuotaExceededError && err.resetsAt)
      reply.header('retry-after', String(Math.max(1, Math.ceil((err.resetsAt.getTime() - Date.now()) / 1000))));
    request.log.info({ problem: p.type, status: p.status }, p.detail);
    return send(reply, p);
  }
  if (p && p.status >= 500 && err instanceof ProblemError) {
    // Our own 5xx problems (such as not-ready) say only what the client may know.
    request.log.warn({ problem: p.type, status: p.status }, p.detail);
    return send(reply, p);
  }
  if (err.name === 'MaxRetriesPerRequestError') {
    // ioredis gave up on a command: Redis is away. Say so (without internals) rather than 500.
    request.log.error({ err }, 'Redis does not answer');
    return send(reply, {
      type: typeUri('unavailable'),
      title: PROBLEM_TYPES.unavailable,
      status: 503,
      detail: 'the job store does not answer; try again shortly',
      instance: instanceOf(request),
    });
  }
  request.log.error({ err }, 'request failed');
  return send(reply, {
    type: typeUri('internal'),
    title: PROBLEM_TYPES.internal,
    status: 500,
    detail: 'the server failed to answer this request; the error has been logged',
    instance: instanceOf(request),
  });
}

/** Unknown routes. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return send(reply, {
    type: typeUri('not-found'),
    title: PROBLEM_TYPES['not-found'],
    status: 404,
    detail: `no route ${request.method} ${instanceOf(request)}`,
    instance: instanceOf(request),
  });
}
