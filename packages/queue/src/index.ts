export * from './names.ts';
export { createRedis } from './connection.ts';
export {
  JobStore,
  JobStatus,
  JobError,
  FrameFailureRecord,
  FINAL_STATUSES,
  canonicalHash,
  budgetUnits,
  encodeCursor,
  decodeCursor,
  QuotaExceededError,
  IdempotencyPendingError,
  NO_QUOTA,
  type Quota,
  type QuotaName,
  type JobPageQuery,
  type JobRecord,
} from './job-store.ts';
export { JobEvents } from './job-events.ts';
export { JobQueue, IdempotencyConflictError, type JobQueueOptions, type Submitted } from './job-queue.ts';
export { JobView, toJobView } from './job-view.ts';
export { startPrivateRedis, findRedisServer, freePort, canAptInstall, type PrivateRedis } from './private-redis.ts';
export {
  WorkerSlot,
  WorkerHeartbeat,
  WorkerView,
  WorkerList,
  DEFAULT_REGISTRY_POLICY,
  workerStatus,
  workerList,
  type RegistryPolicy,
  type RegistryEntry,
} from './worker-registry.ts';
export { processMetrics, within } from './process-metrics.ts';
export {
  kindOf,
  workerKinds,
  servesDevice,
  workerInstance,
  servability,
  waitVerdict,
  unservableError,
  waitingNote,
  type WorkerCapability,
  type Servability,
  type UnservableCode,
} from './device-wait.ts';
