import type { Redis } from 'ioredis';
import type { JobRecord } from './job-store.ts';

/** Called with a record whenever it changed (null: it is gone). */
export type JobListener<T = JobRecord> = (record: T | null) => void;

/** What {@link JobEvents} follows: a store that publishes the ids of records that change (JobStore, EvaluationStore). */
export interface ChangeSource<T> {
  readonly redis: Redis;
  readonly eventsChannel: string;
  get(id: string): Promise<T | null>;
}

/**
 * Job changes for every event stream of one process, from one Redis subscription: the store
 * publishes the id of each job that changes on `<prefix>:events`; this reads a watched job once
 * per change, whatever the number of streams following it, and hands the record to each. So
 * Redis load grows with the changes of watched jobs, not with the number of open streams.
 *
 * A message can be lost while the subscription reconnects: every watched job is also read once
 * per `resyncMs` (one pipelined round trip for all of them).
 */
export class JobEvents<T = JobRecord> {
  private readonly sub: Redis;
  private readonly listeners = new Map<string, Set<JobListener<T>>>();
  /** Jobs with a read in flight, and whether another change came in meanwhile. */
  private readonly reading = new Map<string, boolean>();
  private readonly resync: NodeJS.Timeout;
  private started: Promise<unknown> | undefined;
  private closed = false;

  constructor(
    private readonly store: ChangeSource<T>,
    opts: { resyncMs?: number; onError?: (err: Error) => void } = {},
  ) {
    // A connection in subscriber mode can run no other command: a duplicate of the store's.
    this.sub = store.redis.duplicate({ maxRetriesPerRequest: null });
    this.sub.on('error', opts.onError ?? (() => undefined));
    this.sub.on('message', (_channel: string, id: string) => {
      if (this.listeners.has(id)) this.refresh(id);
    });
    this.resync = setInterval(() => {
      for (const id of this.listeners.keys()) this.refresh(id);
    }, opts.resyncMs ?? 5000);
    this.resync.unref();
  }

  /** Subscribes (once, on first use). */
  private start(): Promise<unknown> {
    this.started ??= this.sub.subscribe(this.store.eventsChannel);
    return this.started;
  }

  /** Open listeners, for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  /**
   * Calls `listener` with the job's record on each change until the returned function is
   * called. Resolves once the subscription is live, so no change after it is missed.
   */
  async watch(id: string, listener: JobListener<T>): Promise<() => void> {
    if (this.closed) throw new Error('job events are closed');
    await this.start();
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      const s = this.listeners.get(id);
      s?.delete(listener);
      if (s && s.size === 0) this.listeners.delete(id);
    };
  }

  private refresh(id: string): void {
    if (this.reading.has(id)) {
      this.reading.set(id, true); // read again once this read is back
      return;
    }
    this.reading.set(id, false);
    void this.store
      .get(id)
      .then(
        (record) => {
          for (const l of [...(this.listeners.get(id) ?? [])]) l(record);
        },
        () => undefined, // Redis away: the resync reads it again
      )
      .finally(() => {
        const again = this.reading.get(id);
        this.reading.delete(id);
        if (again && this.listeners.has(id)) this.refresh(id);
      });
  }

  /** Stops the subscription; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.resync);
    this.listeners.clear();
    try {
      await this.sub.quit();
    } catch {
      this.sub.disconnect();
    }
  }
}
