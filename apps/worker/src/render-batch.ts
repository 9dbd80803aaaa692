import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { SpecError, parseSpec } from '@synthline/spec';
import { renderFrames } from '@synthline/pipeline';
import { planContext } from '@synthline/planner';
import { AssetLibrary } from '@synthline/library';
import { TarWriter } from '@synthline/shards';
import { FINAL_STATUSES, JobStore, type FrameFailureRecord } from '@synthline/jobs';
import { RenderBatchPayload, batchRange } from '@synthline/queue';
import type { WorkerContext } from './context.ts';
import { HAND_BACK_MS } from './job-waits.ts';
import { FRAGMENTS, commitFragmentInfo, fragmentTarRel, readFragmentInfo, type FragmentInfo } from '@synthline/storage';

/** How often a running batch reports progress and checks whether its job was cancelled. */
const PROGRESS_MS = 200;

export type BatchOutcome = { kind: 'rendered'; ok: number; failed: number; counted: boolean } | { kind: 'skipped'; reason: string };

/**
 * Renders one batch of frames into its fragment: `fragments/NNNNNN.tar`, then its info
 * `NNNNNN.json`, each published whole under a name fixed by the batch number. The info commits
 * the batch: a batch that runs again after it was committed (a worker killed before telling
 * Redis) only records the committed info, and the batch is counted once.
 */
export async function processRenderBatch(job: Job, token: string | undefined, ctx: WorkerContext): Promise<BatchOutcome> {
  const { jobId, batch } = RenderBatchPayload.parse(job.data);
  const { store } = ctx.queue;
  const rec = await store.batchInfo(jobId);
  if (!rec) return { kind: 'skipped', reason: 'no such job' };
  if (FINAL_STATUSES.includes(rec.status)) return { kind: 'skipped', reason: rec.status };
  // Keep the window full: this batch enqueues the one `window` places after it.
  await ctx.queue.enqueueBatch(jobId, batch + rec.window, rec.batches_total);
  if (await store.batchCommitted(jobId, batch)) return { kind: 'skipped', reason: 'already committed' };
  const committed = await readFragmentInfo(ctx.storage, jobId, batch);
  if (committed) {
    await store.commitBatch(jobId, batch, committed.ok, committed.failures);
    return { kind: 'skipped', reason: 'fragment already committed' };
  }
  const spec = parseSpec(await store.spec(jobId));
  // A spec naming a device kind this worker does not render on: hand the batch back (no attempt
  // spent) for a worker that has it; if no live worker has it for longer than DEVICE_WAIT_MS,
  // the job fails with DEVICE_UNAVAILABLE. The job stays `queued` meanwhile: nobody renders it.
  const refusal = ctx.pool.refusal(spec.render.device, spec.render.allow_cpu_fallback);
  if (refusal) return handBack(job, token, ctx, jobId, spec.render.device, spec.render.allow_cpu_fallback, refusal);
  // A worker that can render the job has it: it is not waiting for one (see JobWaits).
  await ctx.waits.clear(jobId);
  await store.start(jobId);

  if (job.attemptsMade > 0) ctx.metrics.batchRetries.inc();
  let context;
  try {
    context = planContext(spec, await AssetLibrary.open(ctx.libraryRoot));
  } catch (err) {
    // The library changed since submit (an asset removed or failing its new scan): retrying
    // cannot help, and no Blender should be handed the asset.
    if (err instanceof SpecError) throw new UnrecoverableError(err.message);
    throw err;
  }
  if (ctx.faults.failBatches) throw new Error('simulated GPU failure (an injected fault)');
  const [start, end] = batchRange(batch, rec.batch_size, rec.frames_total);
  const log = ctx.log.child({ job: jobId, batch, frames: `${start}:${end}` });
  // A tar name of this run's own: the info committed last says which run's tar is the batch's.
  const tarRel = fragmentTarRel(batch);
  const fragment = await ctx.storage.prepare(jobId, tarRel);
  const slot = await ctx.pool.acquire();
  let holding = true;
  const releaseSlot = () => {
    if (holding) ctx.pool.release(slot);
    holding = false;
  };
  const writer = new TarWriter(fragment);
  const failures: FrameFailureRecord[] = [];
  const timings: FragmentInfo['timings'] = {};
  const runKey = `${jobId}:${batch}`;
  let held: FragmentInfo;
  let ok = 0;
  let stopped: string | undefined;
  let lastReport = 0;
  try {
    ctx.running.set(runKey, { jobId, batch, frames: 0, total: end - start, slot: ctx.pool.slots.indexOf(slot) });
    const indices = {
      [Symbol.iterator]: function* () {
        for (let i = start; i < end; i++) yield i;
      },
    };
    for await (const outcome of renderFrames({
      spec,
      indices,
      slot,
      context,
      cancelled: () => stopped !== undefined,
      onAllSent: releaseSlot,
      ...(ctx.faults.crashFrames.size
        ? { mapPlan: (p) => (ctx.faults.crashFrames.has(p.index) ? { ...p, debug: { crash: true } } : p) }
        : {}),
    })) {
      if (outcome.ok) {
        await writer.add(outcome.frame.sample);
        timings[outcome.frame.label.key] = outcome.frame.timing;
        ctx.metrics.frameOk(outcome.frame.timing.render_s);
        ok++;
      } else {
        const f = outcome.failure;
        failures.push({ index: f.index, code: f.code, error: f.error });
        ctx.metrics.frameFailed();
        log.warn({ frame: f.index, code: f.code, blender: f.logTail.slice(-5) }, `frame failed: ${f.error}`);
      }
      ctx.running.set(runKey, { jobId, batch, frames: ok + failures.length, total: end - start, slot: ctx.pool.slots.indexOf(slot) });
      if (ctx.closing()) stopped = 'shutdown';
      // Progress and a look for cancellation at most every PROGRESS_MS, not per frame: cheap
      // frames (small images, a simulated renderer) would otherwise spend their time on Redis.
      const now = Date.now();
      if (now - lastReport >= PROGRESS_MS) {
        lastReport = now;
        await store.setInflight(jobId, batch, ok);
        const status = await store.status(jobId);
        if (status && JobStore.isFinal(status)) stopped = status;
      }
    }
    if (stopped) {
      await writer.abort();
      await store.setInflight(jobId, batch, 0);
      if (stopped === 'shutdown') {
        // Hand the batch back without spending an attempt; another worker takes it from the start.
        log.info('worker shutting down: batch handed back');
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return { kind: 'skipped', reason: stopped };
    }
    await writer.finish();
    await ctx.storage.publish(jobId, tarRel);
    held = await commitFragmentInfo(ctx.storage, jobId, { batch, tar: tarRel, frames: [start, end], ok, failures, timings });
    if (held.tar !== tarRel) {
      // Another run of this batch committed first: its tar and counts stand; this one's goes.
      log.info({ committed: held.tar }, 'batch already committed by another run: this run dropped');
      await ctx.storage.remove(jobId, tarRel);
    }
  } catch (err) {
    await writer.abort().catch(() => undefined);
    if (isDiskFull(err)) await failOutputFull(ctx, jobId, err);
    throw err;
  } finally {
    ctx.running.delete(runKey);
    releaseSlot();
    await ctx.storage.release(jobId, tarRel);
  }

  const counted = await store.commitBatch(jobId, batch, held.ok, held.failures);
  if (counted && failures.length > 0) {
    const now = await store.get(jobId);
    if (now && now.frames_failed > now.max_failed_frames) {
      log.error({ failed: now.frames_failed, allowed: now.max_failed_frames }, 'too many frames failed: job fails');
      const last = failures[failures.length - 1];
      const error = {
        code: 'TOO_MANY_FAILED_FRAMES' as const,
        message: `${now.frames_failed} frames failed, more than the ${now.max_failed_frames} allowed (output.max_failed_fraction); last: frame ${last?.index}: ${last?.error}`,
      };
      await store.fail(jobId, error.code, error.message);
      await ctx.queue.dropPendingBatches(jobId);
    }
  }
  log.info({ ok, failed: failures.length }, 'batch done');
  return { kind: 'rendered', ok, failed: failures.length, counted };
}

/**
 * A batch this worker will not render (its job asks for a device kind it lacks, or it gave up on
 * the job): asks the registry whether a live worker can take it. Within DEVICE_WAIT_MS (or with
 * such a worker around) the batch goes back to the queue for HAND_BACK_MS, no attempt spent;
 * past it the job has been failed and the batch ends for good. Returns only for an ended job.
 */
export async function handBack(
  job: Job,
  token: string | undefined,
  ctx: WorkerContext,
  jobId: string,
  device: string,
  allowCpuFallback: boolean,
  why: string,
): Promise<BatchOutcome> {
  const verdict = await ctx.waits.check(jobId, device, allowCpuFallback);
  if (verdict.kind === 'ended') return { kind: 'skipped', reason: 'job ended' };
  if (verdict.kind === 'failed') throw new UnrecoverableError(verdict.error.message);
  const log = ctx.log.child({ job: jobId, batch: (job.data as { batch?: unknown }).batch });
  if (verdict.kind === 'waiting') {
    log.debug(
      { waited_ms: verdict.waitedMs, left_ms: verdict.leftMs, code: verdict.why.code },
      `${why}; no live worker can take it: handed back`,
    );
  } else {
    log.debug({ by: verdict.by }, `${why}: handed back`);
  }
  await job.moveToDelayed(Date.now() + HAND_BACK_MS, token);
  throw new DelayedError();
}

/** ENOSPC or EDQUOT: the output volume is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Fails the job at once when its output volume is full (retrying would fill it again), drops
 * its pending batches and its partial output, and throws an error BullMQ will not retry, so
 * nothing is left that a reader could take for a dataset.
 */
export async function failOutputFull(ctx: WorkerContext, jobId: string, err: unknown): Promise<never> {
  const e = err as NodeJS.ErrnoException;
  const error = {
    code: 'OUTPUT_FULL' as const,
    message: `the output volume is full (${e.code}) writing ${e.path ?? ctx.storage.url(jobId)}: free space or point SYNTHLINE_OUTPUT elsewhere, then resubmit`,
  };
  // Pending batches go first and the output next, so that once the job reads as failed no part
  // of it is left (finalize removes anything a batch in flight elsewhere writes after this).
  await ctx.queue.dropPendingBatches(jobId);
  await ctx.storage.remove(jobId).catch(() => undefined);
  await ctx.queue.store.fail(jobId, error.code, error.message);
  throw new UnrecoverableError(error.message);
}

/** Removes a job's fragments folder. */
export async function removeFragments(ctx: WorkerContext, jobId: string): Promise<void> {
  await ctx.storage.remove(jobId, FRAGMENTS);
}
