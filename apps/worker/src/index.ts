export { startWorker, type RunningWorker, type WorkerOptions } from './worker.ts';
export type { WorkerFaults } from './context.ts';
