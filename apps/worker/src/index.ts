export { startWorker, type RunningWorker } from './worker.ts';
export { loadEnv, WorkerEnv } from './env.ts';
