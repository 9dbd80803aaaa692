import { Registry, collectDefaultMetrics } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * Process metrics (CPU, memory, event loop) in a registry of their own, collected once per
 * process however many APIs and workers it runs; each `/metrics` appends them to its own.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
