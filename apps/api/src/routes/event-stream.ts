import type { ServerResponse } from 'node:http';
import { ProblemError } from '../problem.ts';

/** One open text/event-stream response. */
export class EventStream {
  private closed = false;

  constructor(private readonly res: ServerResponse) {
    res.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed || this.res.writableEnded;
  }

  send(event: string, data: unknown): void {
    if (!this.isClosed) this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (!this.isClosed) this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.isClosed) this.res.end();
    this.closed = true;
  }
}

/** Starts an event stream on a hijacked reply's raw response: the headers proxies need. */
export function openEventStream(res: ServerResponse): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and similar proxies buffer responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  return new EventStream(res);
}

/**
 * The event streams each client (API key, or address without keys) holds open in this process,
 * jobs' and evaluations' together, capped at `max` (MAX_STREAMS_PER_KEY).
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a slot for `client` (429 when it holds `max`); returns the function that gives it back (safe to call twice). */
  take(client: string): () => void {
    const n = this.held.get(client) ?? 0;
    if (n >= this.max) {
      throw new ProblemError(
        429,
        'too-many-streams',
        `this client already holds ${n} open event streams, the most allowed (MAX_STREAMS_PER_KEY); close one first`,
        undefined,
        { limit: this.max },
      );
    }
    this.held.set(client, n + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      const left = (this.held.get(client) ?? 1) - 1;
      if (left <= 0) this.held.delete(client);
      else this.held.set(client, left);
    };
  }
}
