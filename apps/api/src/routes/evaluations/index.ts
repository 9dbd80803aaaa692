import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  EVALUATION_REPORTS,
  EvaluationQuotaError,
  EvaluationStore,
  setRefName,
  type EvaluationRecord,
  type JobEvents,
  type RegistryPolicy,
  type SetRef,
} from '@synthline/jobs';
import { FileStorage } from '@synthline/storage';
import { ProblemError, notFound, problemResponses } from '../../problem.ts';
import type { RouteDeps } from '../deps.ts';
import { openEventStream, type StreamSlots } from '../event-stream.ts';
import {
  EvaluationBody,
  EvaluationIdParams,
  EvaluationListQuery,
  EvaluationPage,
  EvaluationView,
  runnerWorkers,
  toEvaluationView,
  type EvaluationView as View,
} from './view.ts';

export interface EvaluationRoutesOptions extends RouteDeps {
  /** The one subscription to evaluation changes every stream of this process shares. */
  events: JobEvents<EvaluationRecord>;
  keepAliveMs: number;
  /** Open event streams per client, shared with the jobs' streams. */
  streams: StreamSlots;
  /** When a silent worker is lost (for whether any live one has the runner). */
  policy: RegistryPolicy;
  /** Most evaluations not yet ended per owner (0: no limit). */
  maxInFlight: number;
  /** Largest image size and most epochs one evaluation may ask for. */
  evalCaps: { size: number; epochs: number };
  /** How often a stream of a queued evaluation looks again whether a worker can run it (default 2 s). */
  waitCheckMs?: number;
}

/** The events of `GET /v1/evaluations/:id/events`; each carries the Evaluation as JSON. */
export const EVALUATION_EVENTS = {
  status: 'sent on connect, and whenever the status changes or whether a worker can take it (`waiting`) changes',
  progress: 'the stage or the training epoch changed',
  end: 'the evaluation completed or failed; the server then closes the stream',
} as const;

/** The report as report.json holds it (format synthline.evaluation/1); the fields clients rely on. */
const Report = z
  .looseObject({
    format: z.string(),
    target: z.string(),
    classes: z.array(z.string()),
    accuracy: z.looseObject({ accuracy: z.number().nullable(), n: z.number().int() }),
    confusion: z.array(z.array(z.number().int())).describe('confusion[i][j]: test samples of class i predicted as j'),
  })
  .meta({ id: 'EvaluationReport' });

/** The report.html's own policy: inline styles and data: images, nothing fetched, no script. */
const HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/**
 * `/v1/evaluations`: a probe classifier trained on one set (a completed job, a mix, a real photo
 * set) and tested on another, queued for a worker that has the Python runner; its status, its
 * progress as server-sent events, and its report.
 */
export const evaluationRoutes: FastifyPluginAsyncZod<EvaluationRoutesOptions> = async (app, o) => {
  const { queue, storage, realRoot, redact } = o;
  const fleet = runnerWorkers(queue, o.policy);
  const view = async (r: EvaluationRecord) => toEvaluationView(r, await fleet(), redact);
  const open = new Set<{ stop: () => void }>();
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.stop();
  });

  /** Checks that a set exists and can be evaluated: 404 for an unknown one, 409 for a job not completed. */
  const checkSet = async (ref: SetRef, field: 'train' | 'test'): Promise<void> => {
    const name = setRefName(ref);
    if ('job' in ref) {
      const job = await queue.store.get(ref.job);
      const path = `${field}.job`;
      if (!job) throw new ProblemError(404, 'not-found', `${field}: no job ${ref.job}`, [{ path, message: 'no such job' }]);
      if (job.status !== 'completed' || !job.output_uri)
        throw new ProblemError(
          409,
          'conflict',
          `${field}: job ${job.id} is ${job.status}; only a completed job's dataset can be evaluated`,
          [{ path, message: `job is ${job.status}` }],
        );
      if (!job.output_uri.startsWith('file:'))
        throw new ProblemError(
          400,
          'invalid-request',
          `${field}: job ${job.id}'s dataset is in an object store; evaluations need a folder`,
          [{ path, message: 'dataset in an object store' }],
        );
      return;
    }
    if ('mix' in ref) {
      const path = `${field}.mix`;
      if (!(storage instanceof FileStorage))
        throw new ProblemError(400, 'invalid-request', `${field}: mixes need a folder as SYNTHLINE_OUTPUT`, [
          { path, message: 'SYNTHLINE_OUTPUT is an object store' },
        ]);
      const ok = await stat(join(storage.dir, 'mixes', ref.mix, 'dataset.json')).catch(() => undefined);
      if (!ok) throw new ProblemError(404, 'not-found', `${field}: no mix ${ref.mix}`, [{ path, message: 'no such mix' }]);
      return;
    }
    const st = await stat(resolve(realRoot, ref.real)).catch(() => undefined);
    if (!st?.isDirectory())
      throw new ProblemError(404, 'not-found', `${field}: no real photo set ${name}`, [
        { path: `${field}.real`, message: 'no such folder under SYNTHLINE_REAL' },
      ]);
  };

  const load = async (id: string): Promise<EvaluationRecord> => {
    const r = await queue.evaluations.get(id);
    if (!r) throw notFound(`no evaluation ${id}`);
    return r;
  };

  app.post(
    '/v1/evaluations',
    {
      // An evaluation request is a few hundred bytes.
      bodyLimit: 4096,
      schema: {
        summary: 'Evaluate a set: train a probe classifier on one, test it on another',
        description:
          'Queued for a worker that advertises the Python evaluation runner (GET /v1/workers: evaluation_runner); workers without one never take it, ' +
          'and while no live worker has one the evaluation says so in `waiting`. 404: a set that does not exist; 409: a job not completed.',
        tags: ['evaluations'],
        body: EvaluationBody,
        response: { 202: EvaluationView.describe('the evaluation was queued'), ...problemResponses(400, 404, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const over: { path: string; message: string }[] = [];
      if (b.size > o.evalCaps.size) over.push({ path: 'size', message: `at most ${o.evalCaps.size} on this server (MAX_EVAL_SIZE)` });
      if (b.epochs > o.evalCaps.epochs)
        over.push({ path: 'epochs', message: `at most ${o.evalCaps.epochs} on this server (MAX_EVAL_EPOCHS)` });
      if (over.length)
        throw new ProblemError(
          400,
          'invalid-request',
          `the request exceeds this server's limits: ${over.map((x) => x.path).join(', ')}`,
          over,
        );
      await checkSet(b.train, 'train');
      await checkSet(b.test, 'test');
      let record: EvaluationRecord;
      try {
        record = await queue.submitEvaluation(
          { train: b.train, test: b.test, target: b.target, size: b.size, epochs: b.epochs, seed: b.seed },
          { owner: request.owner, maxInFlight: o.maxInFlight },
        );
      } catch (err) {
        if (err instanceof EvaluationQuotaError)
          throw new ProblemError(429, 'quota-exceeded', err.message, undefined, { quota: err.quota, limit: err.limit, used: err.used });
        throw err;
      }
      const v = await view(record);
      reply.code(202).header('location', v.links.self);
      return v;
    },
  );

  app.get(
    '/v1/evaluations',
    {
      schema: {
        summary: 'Evaluations, newest first, one page at a time',
        description: 'Like GET /v1/jobs: every evaluation this deployment keeps (ended ones until their retention passes).',
        tags: ['evaluations'],
        querystring: EvaluationListQuery,
        response: { 200: EvaluationPage, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      let page;
      try {
        page = await queue.evaluations.list({ ...(cursor ? { cursor } : {}), limit });
      } catch (err) {
        if (err instanceof RangeError)
          throw new ProblemError(400, 'invalid-request', err.message, [{ path: 'cursor', message: 'not a cursor this API gave out' }]);
        throw err;
      }
      const f = await fleet();
      return { items: page.items.map((r) => toEvaluationView(r, f, redact)), total: page.total, limit, next_cursor: page.next };
    },
  );

  app.get(
    '/v1/evaluations/:id',
    {
      schema: {
        summary: 'An evaluation: status, stage and epoch, accuracy, why it waits or failed',
        tags: ['evaluations'],
        params: EvaluationIdParams,
        response: { 200: EvaluationView, ...problemResponses(400, 404) },
      },
    },
    async (request) => view(await load(request.params.id)),
  );

  app.get(
    '/v1/evaluations/:id/events',
    {
      schema: {
        summary: 'Follow an evaluation as server-sent events',
        description:
          Object.entries(EVALUATION_EVENTS)
            .map(([name, when]) => `\`${name}\`: ${when}.`)
            .join(' ') +
          ' Every event carries the Evaluation as JSON. 429 when the client already holds its most open streams (jobs and evaluations together).',
        tags: ['evaluations'],
        params: EvaluationIdParams,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...problemResponses(400, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const release = o.streams.take(request.principal);
      let last: View;
      try {
        last = await view(await load(id));
      } catch (err) {
        release();
        throw err;
      }
      reply.hijack();
      const res = reply.raw;
      const stream = openEventStream(res);
      let unwatch: (() => void) | undefined;
      const keepAlive = setInterval(() => stream.comment('keep-alive'), o.keepAliveMs);
      // Whether a worker can take a queued evaluation changes with the registry, not the record.
      const recheck = setInterval(() => {
        if (last.status === 'queued') void queue.evaluations.get(id).then(onRecord, () => undefined);
      }, o.waitCheckMs ?? 2000);
      const handle = {
        stop: () => {
          unwatch?.();
          unwatch = undefined;
          clearInterval(keepAlive);
          clearInterval(recheck);
          open.delete(handle);
          release();
          stream.end();
        },
      };
      open.add(handle);
      res.on('close', handle.stop);
      const progressOf = (v: View) => JSON.stringify(v.progress);
      const statusOf = (v: View) => JSON.stringify([v.status, v.waiting]);
      let chain = Promise.resolve();
      function onRecord(record: EvaluationRecord | null): void {
        // In order: each view waits for the registry read of the one before.
        chain = chain
          .then(async () => {
            if (stream.isClosed) return;
            if (!record) return handle.stop();
            const v = await view(record);
            if (progressOf(v) !== progressOf(last)) stream.send('progress', v);
            if (statusOf(v) !== statusOf(last)) stream.send('status', v);
            last = v;
            if (EvaluationStore.isFinal(v.status)) {
              stream.send('end', v);
              handle.stop();
            }
          })
          .catch(() => undefined);
      }

      stream.send('status', last);
      if (EvaluationStore.isFinal(last.status)) {
        stream.send('end', last);
        handle.stop();
        return reply;
      }
      try {
        const stop = await o.events.watch(id, onRecord);
        if (stream.isClosed) stop();
        else unwatch = stop;
        if (!stream.isClosed) onRecord(await queue.evaluations.get(id));
      } catch (err) {
        request.log.warn({ err, evaluation: id }, 'events: following the evaluation failed');
        handle.stop();
      }
      return reply;
    },
  );

  /** A completed evaluation's stored report file, as text; 409 before it completed. */
  const reportText = async (id: string, name: 'report.json' | 'report.html'): Promise<string> => {
    const r = await load(id);
    if (r.status !== 'completed')
      throw new ProblemError(409, 'conflict', `evaluation ${id} is ${r.status}; its report exists once it completed`);
    const text = await storage.withFile(EVALUATION_REPORTS, `${id}/${name}`, (path) => readFile(path, 'utf8'));
    if (text === undefined) throw notFound(`evaluation ${id} has no ${name} (removed from storage?)`);
    return text;
  };

  app.get(
    '/v1/evaluations/:id/report.json',
    {
      schema: {
        summary: "A completed evaluation's report: accuracy overall and per class, the confusion matrix, accuracy by rendered parameter",
        tags: ['evaluations'],
        params: EvaluationIdParams,
        response: {
          200: { description: 'report.json (format synthline.evaluation/1)', content: { 'application/json': { schema: Report } } },
          ...problemResponses(400, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const report = Report.parse(JSON.parse(await reportText(request.params.id, 'report.json')));
      return reply.type('application/json; charset=utf-8').send(report);
    },
  );

  app.get(
    '/v1/evaluations/:id/report.html',
    {
      schema: {
        summary: "A completed evaluation's report as a self-contained page with its plots",
        tags: ['evaluations'],
        params: EvaluationIdParams,
        response: {
          200: { description: 'report.html', content: { 'text/html': { schema: z.string() } } },
          ...problemResponses(400, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const text = await reportText(request.params.id, 'report.html');
      return reply.type('text/html; charset=utf-8').header('content-security-policy', HTML_CSP).send(text);
    },
  );
};
