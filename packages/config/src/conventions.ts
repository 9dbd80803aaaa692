import { z } from 'zod';
import { EnvError, type EnvProblem } from './env-error.ts';

/**
 * The conventions every variable follows, in every process:
 * - unset or empty means the default (Docker and shells often pass a variable that is set but
 *   empty: that means "use the default");
 * - a bad value is reported with the variable's name and why, every bad variable in one error;
 * - a message quotes the value only where it cannot be a secret (numbers, switches, choices).
 */

/** What a loader reads: `process.env`, or any record of strings (tests, a CLI flag on top). */
export type EnvSource = Readonly<Record<string, string | undefined>>;

const unsetIfEmpty = (v: unknown): unknown => (v === '' ? undefined : v);

/** The value a variable takes when unset or empty; a function is called at each read. */
type Default<T> = Exclude<T, undefined> | (() => Exclude<T, undefined>);

/** `rule` with a default for unset or empty. */
export function withDefault<S extends z.ZodType>(rule: S, def: Default<z.output<S>>) {
  return z.preprocess(unsetIfEmpty, z._default(rule, def));
}

/** `rule`, or undefined when unset or empty (the caller decides what that means). */
export function optional<S extends z.ZodType>(rule: S) {
  return z.preprocess(unsetIfEmpty, z.optional(rule));
}

/** Any text. */
export const text = z.string();

const range = (min: number, max: number) => (max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`);

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string().transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a whole number ${range(min, max)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A finite number from `min` to `max` (`1e9` is fine). */
export function number(min: number, max: number) {
  return z.string().transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a number ${range(min, max)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A switch: `1`/`true` or `0`/`false`. */
export const flag = z.string().transform((v, ctx) => {
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  ctx.addIssue({ code: 'custom', message: `"${v}" is not 1, 0, true or false` });
  return z.NEVER;
});

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `"${String(iss.input)}" is not one of ${values.join(', ')}` });
}

/**
 * Parses `env` with `schema`; throws {@link EnvError} naming every bad variable. Variables the
 * schema does not name are ignored (a process environment holds many).
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: EnvSource): z.output<S> {
  const r = schema.safeParse(env);
  if (!r.success) throw new EnvError(r.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  return r.data;
}

/**
 * Parses only `names` of `schema`'s variables (by the same rules): for a reader that needs a few
 * of them and should not fail on a bad variable it never uses.
 */
export function parseSome<S extends z.ZodRawShape, K extends keyof S & keyof z.output<z.ZodObject<S>> & string>(
  schema: z.ZodObject<S>,
  names: readonly K[],
  env: EnvSource,
): Pick<z.output<z.ZodObject<S>>, K> {
  const some = z.object(Object.fromEntries(names.map((n) => [n, schema.shape[n]])) as Pick<S, K>);
  return parseEnv(some, env) as Pick<z.output<z.ZodObject<S>>, K>;
}

/**
 * Checks `env` against every schema a process will read, and throws one {@link EnvError} naming
 * every bad variable of all of them (each once): an operator fixes them in one go, not one start
 * at a time. Returns the parsed first schema.
 */
export function parseAll<S extends z.ZodType>(env: EnvSource, first: S, ...more: z.ZodType[]): z.output<S> {
  const problems = new Map<string, EnvProblem>();
  let out: z.output<S> | undefined;
  for (const [i, schema] of [first, ...more].entries()) {
    const r = schema.safeParse(env);
    if (r.success) {
      if (i === 0) out = r.data as z.output<S>;
      continue;
    }
    for (const issue of r.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      if (!problems.has(variable)) problems.set(variable, { variable, message: issue.message });
    }
  }
  if (problems.size > 0) throw new EnvError([...problems.values()]);
  return out as z.output<S>;
}
