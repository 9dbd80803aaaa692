import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { EvaluateError, REPORT_FILES, evaluate, probeRunner } from '@synthline/evaluate';
import { EVALUATION_REPORTS, setRefName, type EvaluationRunner, type SetRef } from '@synthline/jobs';
import { EVALUATE_QUEUE, type EvaluatePayload, type JobQueue } from '@synthline/queue';
import { FileStorage, type Storage } from '@synthline/storage';
import { logFailedJob, logWorkerErrors, type QueueWorkerOptions } from './queue-worker.ts';

/** The report files stored and served (the plots are inside report.html). */
const STORED = [REPORT_FILES.json, REPORT_FILES.html] as const;

/** How long the probe of the Python runner may take (importing torch takes seconds on a cold disk). */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Whether `python` runs the evaluation runner with PyTorch: its versions, or null with the reason.
 * Never throws.
 */
export async function probeEvaluationRunner(python: string): Promise<{ runner: EvaluationRunner | null; why: string | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const hello = await Promise.race([
      probeRunner(python),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { runner: { python: hello.python, torch: hello.torch, torchvision: hello.torchvision, cuda: hello.cuda }, why: null };
  } catch (err) {
    return { runner: null, why: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export interface EvaluatorOptions {
  queue: JobQueue;
  storage: Storage;
  /** SYNTHLINE_REAL. */
  realRoot: string;
  /** SYNTHLINE_PYTHON. */
  python: string;
  workerId: string;
  log: Logger;
}

/** An input that cannot be resolved on this worker: the evaluation fails with this code and message. */
class InputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The local folder a set reference names, on this worker (the API checked it exists; it may be gone since). */
async function resolveSet(ref: SetRef, flag: string, o: EvaluatorOptions): Promise<string> {
  if ('real' in ref) return resolve(o.realRoot, ref.real);
  if ('mix' in ref) {
    if (!(o.storage instanceof FileStorage))
      throw new InputError('INPUT', `${flag} ${setRefName(ref)}: mixes need a folder as SYNTHLINE_OUTPUT`);
    return join(o.storage.dir, 'mixes', ref.mix);
  }
  const job = await o.queue.store.get(ref.job);
  if (!job) throw new InputError('NOT_FOUND', `${flag} ${setRefName(ref)}: no such job (its record may have expired)`);
  if (job.status !== 'completed' || !job.output_uri?.startsWith('file:'))
    throw new InputError('INPUT', `${flag} ${setRefName(ref)}: the job is ${job.status}, or its dataset is not in a folder`);
  return fileURLToPath(job.output_uri);
}

/**
 * Runs one evaluation: resolves its sets to folders on this worker, trains and tests the probe
 * with the Python runner (stage and epochs published as they come), stores report.json and
 * report.html under `evaluations/<id>/` of the storage, with every server folder in them replaced
 * by the set's name (`job:<id>`, `mix:<id>`, `real:<name>`). A failure is stored on the
 * evaluation as data; nothing is retried.
 */
export async function processEvaluation(job: Job<EvaluatePayload>, o: EvaluatorOptions): Promise<void> {
  const id = job.data.evaluationId;
  const store = o.queue.evaluations;
  const rec = await store.get(id);
  if (!rec || (await store.start(id, o.workerId)) !== 'running') return; // gone, or already ended
  const { request } = rec;
  const names: [string, string][] = [];
  const hide = (text: string) => names.reduce((t, [path, name]) => t.split(path).join(name), text);
  const out = await mkdtemp(join(tmpdir(), 'synthline-eval-'));
  names.push([out, '<report>']);
  try {
    const train = await resolveSet(request.train, 'train', o);
    const test = await resolveSet(request.test, 'test', o);
    // Longer paths first: a mix folder lies inside the output folder.
    names.unshift(
      ...[[train, setRefName(request.train)] as [string, string], [test, setRefName(request.test)] as [string, string]].sort(
        (a, b) => b[0].length - a[0].length,
      ),
    );
    let stage = Promise.resolve();
    const publish = (p: Parameters<typeof store.progress>[1]) => {
      // In order, and never failing the run: progress is advisory.
      stage = stage.then(() => store.progress(id, p)).catch((err: unknown) => o.log.debug({ err }, 'evaluation progress not stored'));
    };
    const result = await evaluate({
      train,
      test,
      target: request.target,
      out,
      size: request.size,
      epochs: request.epochs,
      seed: request.seed,
      python: o.python,
      overwrite: true,
      onStage: (what) => publish({ stage: hide(what) }),
      onEpoch: (e) =>
        publish({
          stage: `training: epoch ${e.epoch} of ${e.epochs}`,
          epoch: { epoch: e.epoch, epochs: e.epochs, loss: e.loss, train_accuracy: e.train_accuracy, test_accuracy: e.test_accuracy },
        }),
    });
    await stage;
    publish({ stage: 'storing the report' });
    for (const name of STORED) {
      const text = hide(await readFile(join(out, name), 'utf8'));
      const path = await o.storage.prepare(EVALUATION_REPORTS, `${id}/${name}`);
      const tmp = join(out, `${name}.stored`);
      await writeFile(tmp, text);
      await copyFile(tmp, path);
      await o.storage.publish(EVALUATION_REPORTS, `${id}/${name}`);
    }
    await o.storage.release(EVALUATION_REPORTS).catch(() => undefined);
    await stage;
    await store.complete(id, result.report.accuracy.accuracy);
    o.log.info({ evaluation: id, accuracy: result.report.accuracy.accuracy }, 'evaluation completed');
  } catch (err) {
    const code = err instanceof EvaluateError || err instanceof InputError ? err.code : 'INTERNAL';
    const message = code === 'INTERNAL' ? `the evaluation failed on worker ${o.workerId}; its log says why` : hide((err as Error).message);
    o.log.warn({ evaluation: id, code, err }, `evaluation failed: ${(err as Error).message}`);
    await store.fail(id, { code, message });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The evaluator: a BullMQ worker on the evaluations queue, one evaluation at a time (training
 * uses every core it is given). Started only once the runner answered its probe.
 */
export function startEvaluator(o: EvaluatorOptions, q: QueueWorkerOptions): Worker<EvaluatePayload> {
  const worker = new Worker<EvaluatePayload>(EVALUATE_QUEUE, (job) => processEvaluation(job, o), {
    connection: q.connection,
    prefix: q.prefix,
    autorun: true,
    concurrency: 1,
    lockDuration: Math.max(q.lockDurationMs, 120_000),
  });
  worker.on('failed', (job, err) => logFailedJob(q.log, job, err));
  logWorkerErrors(worker, q.log);
  return worker;
}
