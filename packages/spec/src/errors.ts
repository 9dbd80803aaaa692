import type { z } from 'zod';
import { didYouMean } from './suggest.ts';

/** One offending field: its path (`products[0].asset`) and what is wrong with it. */
export interface SpecProblem {
  path: string;
  message: string;
}

/** A spec that does not pass the schema; `problems` name each offending field. */
export class SpecError extends Error {
  override name = 'SpecError';
  readonly code = 'SPEC_INVALID';
  constructor(readonly problems: SpecProblem[]) {
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

/** What {@link problemsOf} may know beyond the issues, to say more. */
export interface ProblemContext {
  /** The document that was parsed: problems follow its order, and a bad value is named from it. */
  input?: unknown;
  /** The schema it was parsed with: an unknown field is matched against the fields it has. */
  schema?: z.ZodType;
}

type Path = readonly PropertyKey[];

/**
 * Zod issues as one problem per offending field: an unknown key is named by its own path, with
 * the field probably meant (`render.sampels: unknown field; did you mean "samples"?`), an enum
 * value likewise. Where two checks fail the same field, one is kept: a custom check (it knows the
 * domain) before zod's generic one, else the first. With `context.input` the problems follow the
 * document as written (key order, array order); a missing field sits at the end of its parent.
 */
export function problemsOf(error: z.ZodError, context: ProblemContext = {}): SpecProblem[] {
  const raw: { path: Path; message: string; custom: boolean }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsAt(context.schema, issue.path);
      for (const key of issue.keys)
        raw.push({ path: [...issue.path, key], message: `unknown field${didYouMean(key, known)}`, custom: false });
    } else if (issue.code === 'invalid_union') {
      raw.push({ path: issue.path, message: unionMessage(issue, context), custom: false });
    } else if (issue.code === 'invalid_value') {
      const typed = valueAt(context.input, issue.path, issue.input);
      const values = issue.values.filter((v): v is string => typeof v === 'string');
      const near = typeof typed === 'string' ? didYouMean(typed, values) : '';
      raw.push({ path: issue.path, message: `${issue.message}${near}`, custom: false });
    } else {
      raw.push({ path: issue.path, message: issue.message, custom: issue.code === 'custom' });
    }
  }

  // One problem per field.
  const kept = new Map<string, (typeof raw)[number]>();
  for (const p of raw) {
    const key = formatPath(p.path);
    const had = kept.get(key);
    if (!had || (p.custom && !had.custom)) kept.set(key, p);
  }
  const problems = [...kept.values()];

  if (context.input !== undefined) {
    const order = documentOrder(context.input);
    const at = (path: Path): number => {
      const own = order.get(formatPath(path));
      if (own) return own.pos;
      // Not in the document (a missing field): after everything else its nearest present parent holds.
      for (let n = path.length - 1; n >= 0; n--) {
        const parent = order.get(formatPath(path.slice(0, n)));
        if (parent) return parent.end + 0.5;
      }
      return Number.POSITIVE_INFINITY;
    };
    const pos = new Map(problems.map((p) => [p, at(p.path)]));
    problems.sort((a, b) => pos.get(a)! - pos.get(b)!);
  }
  return problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
}

/**
 * Each path of a JSON document (formatted as {@link formatPath}) -> its position in a walk of the
 * document in key and index order, and the last position inside it.
 */
function documentOrder(doc: unknown): Map<string, { pos: number; end: number }> {
  const out = new Map<string, { pos: number; end: number }>();
  let next = 0;
  const walk = (value: unknown, path: PropertyKey[]): void => {
    const entry = { pos: next++, end: 0 };
    out.set(formatPath(path), entry);
    if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, [...path, i]);
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    entry.end = next - 1;
  };
  walk(doc, []);
  return out;
}

/** The value at `path` of the input, or `fallback` (zod's own copy, when it reported one). */
function valueAt(input: unknown, path: Path, fallback: unknown): unknown {
  if (input === undefined) return fallback;
  let v: unknown = input;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return fallback;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value at `path` may have to pass (several through a union), wrappers removed. */
function schemasAt(schema: z.ZodType, path: Path, depth = 0): z.ZodType[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const inner = def.innerType ?? def.in ?? (def.type === 'lazy' ? def.getter?.() : undefined);
  if (inner) return schemasAt(inner, path, depth + 1);
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => schemasAt(o, path, depth + 1));
  if (def.type === 'intersection') return [def.left, def.right].flatMap((s) => (s ? schemasAt(s, path, depth + 1) : []));
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  let child: z.ZodType | null | undefined;
  if (def.type === 'object' && typeof head === 'string') child = def.shape?.[head];
  else if (def.type === 'array') child = def.element;
  else if (def.type === 'tuple' && typeof head === 'number') child = def.items?.[head] ?? def.rest;
  else if (def.type === 'record') child = def.valueType;
  return child ? schemasAt(child, rest, depth + 1) : [];
}

/** The field names an object at `path` of the schema has (none without a schema). */
function fieldsAt(schema: z.ZodType | undefined, path: Path): string[] {
  if (!schema) return [];
  return schemasAt(schema, path).flatMap((s) => {
    const def = defOf(s);
    return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
  });
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion, context: ProblemContext): string {
  // A range failed every form; the most useful message is the deepest specific one.
  const inner = issue.errors.flat().find((i) => i.code !== 'invalid_type');
  const forms = 'expected a number, [min, max] or {"choice": [...]}';
  if (!inner) return forms;
  if (inner.code === 'unrecognized_keys') {
    const known = fieldsAt(context.schema, [...issue.path, ...inner.path]);
    const fields = inner.keys.map((k) => `unknown field "${k}"${didYouMean(k, known)}`);
    return `${fields.join(', ')} (${forms})`;
  }
  return `${inner.message} (${forms})`;
}
