export { partialName, writeFileAtomic } from './atomic-write.ts';
export { Stream } from './random.ts';
export { within } from './timeout.ts';
export { coerceError } from './errors.ts';
