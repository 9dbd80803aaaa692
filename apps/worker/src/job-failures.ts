import { JobStore } from '@synthline/jobs';

/** How many jobs' failure counts a worker keeps at most; past it the oldest are forgotten. */
export const MAX_TRACKED_JOBS = 1000;

/** How often a worker drops the failure counts of jobs that ended. */
export const PRUNE_EVERY_MS = 60_000;

/**
 * Failed batches per job on this worker (past MAX_JOB_FAILURES_PER_WORKER it leaves that job to
 * other workers). Bounded: entries of jobs that ended are pruned, and beyond `cap` jobs the one
 * whose last failure is oldest is forgotten (at worst this worker tries that job again).
 */
export class JobFailures {
  /** In order of last failure, oldest first (a Map keeps insertion order). */
  private readonly counts = new Map<string, number>();

  constructor(readonly cap = MAX_TRACKED_JOBS) {
    if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`cap must be a whole number >= 1, got ${cap}`);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Failed batches of the job on this worker (0 if none, or forgotten). */
  count(jobId: string): number {
    return this.counts.get(jobId) ?? 0;
  }

  /** The jobs tracked, oldest last failure first. */
  jobs(): string[] {
    return [...this.counts.keys()];
  }

  /** Counts one more failed batch of the job and returns its count; may forget the oldest job. */
  add(jobId: string): number {
    const n = this.count(jobId) + 1;
    this.counts.delete(jobId); // re-inserted last: the newest
    this.counts.set(jobId, n);
    while (this.counts.size > this.cap) {
      const oldest = this.counts.keys().next().value;
      if (oldest === undefined) break;
      this.counts.delete(oldest);
    }
    return n;
  }

  delete(jobId: string): boolean {
    return this.counts.delete(jobId);
  }

  /** Drops the entries of the jobs `ended` names (final or gone); returns how many were dropped. */
  async prune(ended: (jobIds: string[]) => Promise<Set<string>>): Promise<number> {
    const ids = this.jobs();
    if (ids.length === 0) return 0;
    const over = await ended(ids);
    let n = 0;
    for (const id of over) if (this.counts.delete(id)) n++;
    return n;
  }
}

/** Which of these jobs ended (completed, failed, cancelled) or no longer exist: one round trip. */
export async function endedJobs(store: Pick<JobStore, 'redis' | 'jobKey'>, jobIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (jobIds.length === 0) return out;
  const p = store.redis.pipeline();
  for (const id of jobIds) p.hget(store.jobKey(id), 'status');
  const replies = (await p.exec()) ?? [];
  jobIds.forEach((id, i) => {
    const [err, status] = replies[i] ?? [new Error('no reply'), null];
    if (err) return; // unknown: keep it
    if (typeof status !== 'string' || JobStore.isFinal(status)) out.add(id);
  });
  return out;
}
