import { WorkerList } from '@synthline/jobs';
import { JobView } from '@synthline/api';
import type { Progress } from '@synthline/pipeline';
import { loadCliEnv } from '@synthline/config';
import { progressReporter } from './progress.ts';
import { readSse } from './sse.ts';
import { UnreachableError } from './exit.ts';

/** The API answered with an error (a problem+json document). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: { path: string; message: string }[] },
  ) {
    const lines = (problem.errors ?? []).map((e) => `  ${e.path}: ${e.message}`);
    // With a list of problems the detail only summarises it: the list alone, each line once.
    const head =
      lines.length > 0 || !problem.detail ? `${status} ${problem.title ?? ''}` : `${status} ${problem.title ?? ''}: ${problem.detail}`;
    super([head, ...lines].join('\n'));
  }
}

/** The API cannot be reached: what to start, or which flag to pass. */
function unreachable(base: string, err: unknown): UnreachableError {
  const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new UnreachableError(
    `cannot reach the synthline API at ${base} (${cause}): start the service with "synthline up" (the API and a worker on this machine), ` +
      'or point at a running one with --api URL or SYNTHLINE_API',
  );
}

/** A small client of the synthline REST API. */
export class ApiClient {
  /** @param apiKey a bearer token (default `$SYNTHLINE_API_KEY`) */
  constructor(
    readonly base: string,
    private readonly apiKey: string | undefined = loadCliEnv(['SYNTHLINE_API_KEY']).SYNTHLINE_API_KEY,
  ) {}

  private auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base), {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...this.auth(), ...headers },
        ...(body !== undefined ? { body } : {}),
      });
    } catch (err) {
      throw unreachable(this.base, err);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!res.ok) throw new ApiError(res.status, (json ?? {}) as ApiError['problem']);
    return json;
  }

  /** Submits a spec file's text as it is: the API validates it. */
  async submit(specText: string, idempotencyKey?: string): Promise<{ id: string; status: string }> {
    return (await this.call('POST', '/v1/jobs', specText, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {})) as {
      id: string;
      status: string;
    };
  }

  async get(id: string): Promise<JobView> {
    return JobView.parse(await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}`));
  }

  async cancel(id: string): Promise<JobView> {
    return JobView.parse(await this.call('DELETE', `/v1/jobs/${encodeURIComponent(id)}`));
  }

  async list(status?: string): Promise<{ items: JobView[]; total: number }> {
    const q = status ? `?status=${encodeURIComponent(status)}` : '';
    return (await this.call('GET', `/v1/jobs${q}`)) as { items: JobView[]; total: number };
  }

  /** The worker registry (`GET /v1/workers`). */
  async workers(): Promise<WorkerList> {
    return WorkerList.parse(await this.call('GET', '/v1/workers'));
  }

  /** Follows a job's event stream until it ends; returns the final view. */
  async watch(id: string, onView: (v: JobView) => void): Promise<JobView> {
    for (let attempt = 0; ; attempt++) {
      let last: JobView | undefined;
      try {
        const res = await fetch(new URL(`/v1/jobs/${encodeURIComponent(id)}/events`, this.base), {
          headers: { accept: 'text/event-stream', ...this.auth() },
        });
        if (!res.ok) {
          const text = await res.text();
          throw new ApiError(res.status, (text ? JSON.parse(text) : {}) as ApiError['problem']);
        }
        for await (const ev of readSse(res)) {
          last = JobView.parse(JSON.parse(ev.data));
          onView(last);
          if (ev.event === 'end') return last;
        }
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (attempt >= 30) throw unreachable(this.base, err);
      }
      // The stream dropped (API restarted?): reconnect and carry on.
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** A job view as the progress reporter's input. */
export function viewProgress(v: JobView): Progress {
  const started = v.started_at ? Date.parse(v.started_at) : Date.now();
  const end = v.finished_at ? Date.parse(v.finished_at) : Date.now();
  return {
    done: v.progress.frames_done,
    failed: v.progress.frames_failed,
    total: v.progress.frames_total,
    elapsedS: Math.max(0, (end - started) / 1000),
  };
}

/** Prints a job's state in a few lines. */
export function describe(v: JobView): string {
  const lines = [
    `job ${v.id} (${v.name}): ${v.status}`,
    `  frames   ${v.progress.frames_done}/${v.progress.frames_total} done, ${v.progress.frames_failed} failed` +
      (v.frames_per_s ? `, ${v.frames_per_s} frames/s` : '') +
      (v.eta_s !== null && v.status === 'running' ? `, ETA ${v.eta_s}s` : ''),
  ];
  if (v.output) {
    lines.push(`  dataset  ${v.output.uri}`);
    if (v.output.manifest) lines.push(`  manifest ${v.output.manifest}`);
    lines.push(`  shards   ${v.output.shards.length} (${v.output.shards.reduce((s, x) => s + x.samples, 0)} samples)`);
  }
  if (v.error) lines.push(`  error    ${v.error.code}: ${v.error.message}`);
  for (const f of v.failures.slice(0, 5)) lines.push(`  frame ${f.index} failed (${f.code}): ${f.error}`);
  return lines.join('\n');
}

/** How often a client waiting on a queued job checks for live workers, and repeats that there are none. */
const NO_WORKER_CHECK_MS = 3000;
const NO_WORKER_REPEAT_MS = 10_000;

/**
 * Follows a job with a progress bar on stderr; returns its final view. While the job waits and no
 * live worker is registered, it says so (and which command starts one) and keeps saying so every
 * few seconds until one is.
 */
export async function watchWithProgress(client: ApiClient, id: string): Promise<JobView> {
  const bar = progressReporter(process.stderr, 5);
  let status = '';
  let drawn = false;
  const say = (line: string) => {
    if (drawn) bar.end();
    drawn = false;
    process.stderr.write(`${line}\n`);
  };
  const noWorker = watchForWorkers(client, () => status === 'queued', say);
  try {
    const v = await client.watch(id, (view) => {
      if (view.status !== status) {
        if (status === 'queued' && noWorker.said()) say('a worker took the job');
        status = view.status;
        // The final state is printed by the caller (describe): only the states on the way are said here.
        if (!TERMINAL.has(view.status)) say(`job ${id}: ${status}`);
      }
      if (view.status !== 'queued') {
        bar.update(viewProgress(view));
        drawn = true;
      }
    });
    if (drawn) bar.end();
    return v;
  } finally {
    noWorker.stop();
  }
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Every few seconds while `waiting()`, asks the API for its workers; with none live it says so
 * (once, then every NO_WORKER_REPEAT_MS), and when one comes, that too. A registry it may not
 * read (an older API, a key without access) is not the user's problem: it stays quiet then.
 */
function watchForWorkers(client: ApiClient, waiting: () => boolean, say: (line: string) => void) {
  let lastSaid = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stopped) return;
    if (waiting()) {
      const list = await client.workers().catch(() => undefined);
      if (!stopped && list && waiting()) {
        if (list.live === 0 && Date.now() - lastSaid >= NO_WORKER_REPEAT_MS) {
          say(
            `no live worker is connected to this API${list.lost ? ` (${list.lost} lost)` : ''}: the job waits until one starts. ` +
              'Start one with "synthline worker" (same REDIS_URL and SYNTHLINE_PREFIX as the API), or run "synthline up" for the API and a worker together.',
          );
          lastSaid = Date.now();
        } else if (list.live > 0 && lastSaid > 0) {
          say(`${list.live} live worker(s) now: the job will start`);
          lastSaid = 0;
        }
      }
    }
    if (!stopped) timer = setTimeout(check, NO_WORKER_CHECK_MS);
  };
  timer = setTimeout(check, 500);
  return {
    /** Whether the no-worker notice stands (said, and no worker seen since). */
    said: () => lastSaid > 0,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
