import { z } from 'zod';
import { PageQuery, pageOf } from '../paging.ts';
import {
  EvaluationEpoch,
  EvaluationError,
  EvaluationRequest,
  EvaluationStatus,
  SetRef as SetRefBase,
  workerList,
  type EvaluationRecord,
  type RegistryPolicy,
} from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';

/** A set an evaluation names; never a path. */
export const SetRef = SetRefBase.describe(
  'a completed job (`{"job": id}`), a mix (`{"mix": id}`, from POST /v1/mixes) or a real photo set (`{"real": name}`, a folder under SYNTHLINE_REAL)',
).meta({ id: 'EvaluationSet' });

/** Target: `class`, `model`, `color`, `side`, or a dotted path into the labels. */
const TARGET = /^[A-Za-z_][A-Za-z0-9_]{0,31}(\.[A-Za-z0-9_]{1,32}){0,7}$/;

/** The body of `POST /v1/evaluations`. */
export const EvaluationBody = z
  .strictObject({
    train: SetRef.describe('the set the probe classifier trains on'),
    test: SetRef.describe('the set it is tested on'),
    target: z
      .string()
      .max(128)
      .regex(TARGET, 'class, model, color, side, or a dotted label path such as attributes.model')
      .describe('what the probe predicts: class, model, color, side, or a dotted label path'),
    size: z.number().int().min(16).max(1024).default(128).describe('images are resized to size x size (at most MAX_EVAL_SIZE)'),
    epochs: z.number().int().min(1).max(10_000).default(3).describe('training epochs (at most MAX_EVAL_EPOCHS)'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .meta({ id: 'EvaluationRequest' });
export type EvaluationBody = z.infer<typeof EvaluationBody>;

/** Why a queued evaluation does not start. */
export const EvaluationWaiting = z.object({
  code: z.literal('NO_EVALUATION_WORKER'),
  message: z.string(),
});

/** An evaluation as the API shows it. */
export const EvaluationView = z
  .object({
    id: z.string(),
    status: EvaluationStatus,
    request: EvaluationRequest.extend({ train: SetRef, test: SetRef }),
    progress: z.object({
      stage: z.string().nullable().describe('what the worker does now'),
      epoch: EvaluationEpoch.nullable().describe('the last training epoch finished'),
    }),
    waiting: EvaluationWaiting.nullable().describe(
      'while queued: why no worker takes it (none live has the evaluation runner); null otherwise',
    ),
    accuracy: z.number().nullable().describe('test accuracy, once completed'),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    error: EvaluationError.nullable(),
    links: z.object({ self: z.string(), events: z.string(), report_json: z.string(), report_html: z.string() }),
  })
  .meta({ id: 'Evaluation' });
export type EvaluationView = z.infer<typeof EvaluationView>;

/** The query of `GET /v1/evaluations`: the jobs' paging. */
export const EvaluationListQuery = PageQuery;

/** What `GET /v1/evaluations` answers: one page, newest first. */
export const EvaluationPage = pageOf(EvaluationView, 'EvaluationPage', 'evaluations kept, in all pages');
export type EvaluationPage = z.infer<typeof EvaluationPage>;

/** Evaluation ids are 12 letters or digits (see JobQueue.submitEvaluation). */
export const EvaluationIdParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9]{12}$/, 'an evaluation id is 12 letters or digits'),
});

/**
 * Live workers that advertise the evaluation runner, and how many live ones there are, from the
 * registry; cached for a second, so views and streams share one read.
 */
export function runnerWorkers(queue: JobQueue, policy: RegistryPolicy): () => Promise<{ live: number; runners: number }> {
  let cached: { at: number; value: Promise<{ live: number; runners: number }> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) {
      const value = queue.store.workers(policy.retainLostMs).then((entries) => {
        const live = workerList(entries, policy, now).items.filter((w) => w.status === 'live');
        return { live: live.length, runners: live.filter((w) => w.evaluation_runner !== null).length };
      });
      value.catch(() => {
        cached = undefined;
      });
      cached = { at: now, value };
    }
    return cached.value;
  };
}

/** The message of a queued evaluation that no live worker can run. */
export function noRunnerMessage(live: number): string {
  return (
    `no live worker has the evaluation runner (${live} live worker${live === 1 ? '' : 's'}, none with a Python that has PyTorch): ` +
    'the evaluation waits until one starts. A worker advertises it when SYNTHLINE_PYTHON names a Python 3 with torch and torchvision ' +
    '(Debian: apt-get install python3-torch python3-torchvision) and WORKER_EVALUATIONS is 1; GET /v1/workers shows evaluation_runner'
  );
}

/** A stored evaluation as the API shows it; `runners` from {@link runnerWorkers}; messages passed through `redact`. */
export function toEvaluationView(
  r: EvaluationRecord,
  fleet: { live: number; runners: number },
  redact: (text: string) => string,
): EvaluationView {
  const self = `/v1/evaluations/${r.id}`;
  return {
    id: r.id,
    status: r.status,
    request: r.request,
    progress: { stage: r.stage === null ? null : redact(r.stage), epoch: r.epoch },
    waiting: r.status === 'queued' && fleet.runners === 0 ? { code: 'NO_EVALUATION_WORKER', message: noRunnerMessage(fleet.live) } : null,
    accuracy: r.accuracy,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    error: r.error ? { code: r.error.code, message: redact(r.error.message) } : null,
    links: { self, events: `${self}/events`, report_json: `${self}/report.json`, report_html: `${self}/report.html` },
  };
}
