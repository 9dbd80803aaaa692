import { JobSpec } from './job-spec.ts';
import { SpecError, problemsOf } from './errors.ts';

export * from './range.ts';
export * from './catalog.ts';
export * from './job-spec.ts';
export * from './frame-plan.ts';
export * from './protocol.ts';
export * from './label.ts';
export * from './manifest.ts';
export * from './errors.ts';
export * from './products.ts';
export * from './failures.ts';
export * from './suggest.ts';

/**
 * Parses a spec, filling every default; throws {@link SpecError} naming each bad field, in the
 * order the document has them, with the field or value probably meant where one is near.
 */
export function parseSpec(input: unknown): JobSpec {
  const r = JobSpec.safeParse(input);
  if (!r.success) throw new SpecError(problemsOf(r.error, { input, schema: JobSpec }));
  return r.data;
}
