import type { z } from 'zod';

/** A spec that does not pass the schema; `problems` name each offending field. */
export class SpecError extends Error {
  override name = 'SpecError';
  readonly code = 'SPEC_INVALID';
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`invalid spec:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** `['products', 0, 'asset']` -> `products[0].asset`; the root is `(spec)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(spec)';
}

/** Zod issues as one problem per offending field; an unknown key is named by its own path. */
export function problemsOf(error: z.ZodError): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_union') {
      out.push({ path: formatPath(issue.path), message: unionMessage(issue) });
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  // A range failed every form; the most useful message is the deepest specific one.
  const inner = issue.errors.flat().find((i) => i.code !== 'invalid_type');
  return inner
    ? `${inner.message} (expected a number, [min, max] or {"choice": [...]})`
    : 'expected a number, [min, max] or {"choice": [...]}';
}
