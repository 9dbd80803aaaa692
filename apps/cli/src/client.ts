import { readFile } from 'node:fs/promises';
import { WorkerList } from '@synthline/jobs';
import { JobView } from '@synthline/api';
import type { Progress } from '@synthline/pipeline';
import { loadCliEnv } from '@synthline/config';
import { progressReporter } from './progress.ts';
import { readSse } from './sse.ts';

/** The API answered with an error (a problem+json document). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: { path: string; message: string }[] },
  ) {
    const lines = (problem.errors ?? []).map((e) => `  ${e.path}: ${e.message}`);
    super([`${status} ${problem.title ?? ''}${problem.detail ? `: ${problem.detail}` : ''}`, ...lines].join('\n'));
  }
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
      throw new Error(
        `cannot reach the synthline API at ${this.base} (${(err as Error).message}); start it with "synthline serve" or pass --api`,
      );
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
        if (err instanceof ApiError || attempt >= 30) throw err;
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

/** Follows a job with a progress bar on stderr; returns its final view. */
export async function watchWithProgress(client: ApiClient, id: string): Promise<JobView> {
  const bar = progressReporter(process.stderr, 5);
  let status = '';
  const v = await client.watch(id, (view) => {
    if (view.status !== status) {
      if (status) bar.end();
      status = view.status;
      process.stderr.write(`job ${id}: ${status}\n`);
    }
    if (view.status === 'running' || view.status === 'finalizing') bar.update(viewProgress(view));
  });
  bar.end();
  return v;
}

export async function readSpecText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
