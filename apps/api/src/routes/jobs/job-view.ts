import { z } from 'zod';
import { FrameFailureRecord, JobError, JobStatus, type JobRecord } from '@synthline/jobs';

/** A job as the REST API shows it (`GET /v1/jobs/:id`). */
export const JobView = z.object({
  id: z.string(),
  name: z.string(),
  status: JobStatus,
  progress: z.object({ frames_done: z.number().int(), frames_total: z.number().int(), frames_failed: z.number().int() }),
  frames_per_s: z.number().nullable(),
  eta_s: z.number().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  output: z
    .object({
      uri: z.string(),
      manifest: z.string().nullable(),
      shards: z.array(z.object({ name: z.string(), samples: z.number().int(), bytes: z.number().int(), sha256: z.string() })),
    })
    .nullable(),
  error: JobError.nullable(),
  failures: z.array(FrameFailureRecord),
  notes: z.array(z.string()),
  links: z.object({ self: z.string(), events: z.string(), samples: z.string() }),
});
export type JobView = z.infer<typeof JobView>;

/** A stored job as the API shows it; rates and ETA are computed at the time of the call. */
export function toJobView(r: JobRecord, now = Date.now()): JobView {
  const finished = r.frames_done + r.frames_failed;
  let rate: number | null = null;
  let eta: number | null = null;
  if (r.started_at) {
    const end = r.finished_at ? Date.parse(r.finished_at) : now;
    const secs = (end - Date.parse(r.started_at)) / 1000;
    if (secs > 0 && r.frames_done > 0) {
      rate = Number((r.frames_done / secs).toFixed(3));
      eta = r.finished_at ? 0 : Math.max(0, Math.round((r.frames_total - finished) / rate));
    }
  }
  const self = `/v1/jobs/${r.id}`;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    progress: { frames_done: r.frames_done, frames_total: r.frames_total, frames_failed: r.frames_failed },
    frames_per_s: rate,
    eta_s: eta,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    output: r.status === 'completed' && r.output_uri ? { uri: r.output_uri, manifest: r.manifest_uri, shards: r.shards } : null,
    error: r.error,
    failures: r.failures.slice(0, 50),
    notes: r.notes,
    links: { self, events: `${self}/events`, samples: `${self}/samples/{index}` },
  };
}
