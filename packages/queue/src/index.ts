export * from './names.ts';
export { createRedis } from './connection.ts';
export { JobQueue, IdempotencyConflictError, type JobQueueOptions, type Submitted } from './job-queue.ts';
