import { z } from 'zod';
import { JobSpec } from '@synthline/spec';
import { JobStatus } from '@synthline/jobs';
import { JobView as JobViewBase } from './job-view.ts';

/** The spec as the request body of `POST /v1/jobs`; named for the OpenAPI document. */
export const JobSpecBody = JobSpec.meta({ id: 'JobSpec' });

/** A job as the API shows it; named for the OpenAPI document. */
export const JobView = JobViewBase.meta({ id: 'JobView' });

/** What `POST /v1/jobs` answers: enough to follow the job. */
export const SubmittedJob = JobViewBase.pick({ id: true, status: true, links: true }).meta({ id: 'SubmittedJob' });

/** Job ids are 12 letters or digits (see JobQueue.submit). */
export const JobIdParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9]{12}$/, 'a job id is 12 letters or digits'),
});

export const SubmitHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Repeat a submission safely: the same key with the same body gives the same job back for 24 h'),
});

export const ListQuery = z.strictObject({
  status: JobStatus.optional().describe('only jobs with this status'),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,120}$/, 'expected the next_cursor of a previous page')
    .optional()
    .describe('the `next_cursor` of the previous page; absent: the first page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const JobPage = z
  .object({
    items: z.array(JobViewBase),
    total: z.number().int().describe('jobs matching the filter, in all pages'),
    limit: z.number().int(),
    next_cursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  })
  .meta({ id: 'JobPage' });

export const SampleParams = JobIdParams.extend({
  index: z
    .string()
    .regex(/^\d{1,9}$/, 'expected a frame index: a non-negative integer')
    .transform(Number)
    .describe('frame index, 0-based'),
});
