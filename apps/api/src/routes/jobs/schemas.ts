import { z } from 'zod';
import { PageQuery, pageOf } from '../paging.ts';
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

export const ListQuery = PageQuery.extend({
  status: JobStatus.optional().describe('only jobs with this status'),
});

export const JobPage = pageOf(JobViewBase, 'JobPage', 'jobs matching the filter, in all pages');

export const SampleParams = JobIdParams.extend({
  index: z
    .string()
    .regex(/^\d{1,9}$/, 'expected a frame index: a non-negative integer')
    .transform(Number)
    .describe('frame index, 0-based'),
});
