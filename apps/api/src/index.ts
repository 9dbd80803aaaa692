export { buildApp, type App, type AppOptions } from './app.ts';
export { startApi, type RunningApi } from './server.ts';
export { Problem, ProblemError, PROBLEM_TYPES, type ProblemType } from './problem.ts';
export { JOB_EVENTS, type JobEvent } from './routes/jobs/events.ts';
export { readSampleImage, IMAGE_TYPES } from './samples.ts';
export { SubmittedJob, JobPage } from './routes/jobs/schemas.ts';
export { JobView, toJobView } from './routes/jobs/job-view.ts';
export { CatalogView } from './routes/catalog.ts';
export { hashToken, parseKeys, loadKeys, isLoopback, type ApiKey } from './access.ts';
