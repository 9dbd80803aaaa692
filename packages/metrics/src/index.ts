export { processMetrics } from './process-metrics.ts';
