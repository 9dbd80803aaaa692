import type { SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The OpenAPI document as /docs/json serves it: what fastify-type-provider-zod makes of the
 * routes' zod schemas, then tidied by {@link tidyOpenApi}.
 */
export const openapiTransformObject: SwaggerTransformObject = (input) =>
  tidyOpenApi(jsonSchemaTransformObject(input) as Record<string, unknown>) as ReturnType<SwaggerTransformObject>;

const REF = '#/components/schemas/';
const INPUT = 'Input';
/** Keywords whose value zod sets to ±Number.MAX_SAFE_INTEGER for an `.int()` without that bound. */
const BOUNDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Tidies a generated OpenAPI document (a fresh object; the argument is left as it is):
 *
 * - Each schema once. fastify-type-provider-zod emits every schema with an id twice, once as a
 *   request would be validated (`JobSpecInput`) and once as a response is serialized
 *   (`JobSpec`), whether a route uses it or not. Only the components the document refers to
 *   are kept, `XInput` under the plain name `X` where `X` itself is not used (or is the same
 *   schema), and every `$ref` follows.
 * - No made-up bounds. zod gives an `.int()` without its own bounds minimum
 *   -9007199254740991 and maximum 9007199254740991 (the safe-integer range), which reads as a
 *   real limit; those are dropped, real bounds (`minimum: 1`) stay.
 */
export function tidyOpenApi(doc: Record<string, unknown>): Record<string, unknown> {
  const out = dropSafeIntegerBounds(structuredClone(doc) as Json) as Record<string, Json>;
  const components = out.components;
  if (!isObject(components) || !isObject(components.schemas)) return out;
  const schemas = components.schemas;
  components.schemas = {};

  // The schemas reachable from the rest of the document (paths, responses, ...).
  const used = new Set<string>();
  const pending = refsIn(out);
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (used.has(name) || !(name in schemas)) continue;
    used.add(name);
    pending.push(...refsIn(schemas[name] as Json));
  }

  // An input variant is named as its output twin when that twin is unused or the same schema.
  const rename = new Map<string, string>();
  for (const name of used) {
    if (!name.endsWith(INPUT)) continue;
    const twin = name.slice(0, -INPUT.length);
    if (!(twin in schemas)) continue;
    if (!used.has(twin) || same(schemas[name] as Json, schemas[twin] as Json)) rename.set(name, twin);
  }
  const kept: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const to = rename.get(name) ?? name;
    if (used.has(name) && !(to in kept)) kept[to] = schema;
  }
  components.schemas = kept;
  return renameRefs(out, rename) as Record<string, unknown>;
}

function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `v` without bound keywords set to ±Number.MAX_SAFE_INTEGER. */
function dropSafeIntegerBounds(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropSafeIntegerBounds);
  if (!isObject(v)) return v;
  const o: { [key: string]: Json } = {};
  for (const [k, child] of Object.entries(v)) {
    if (BOUNDS.has(k) && typeof child === 'number' && Math.abs(child) === Number.MAX_SAFE_INTEGER) continue;
    o[k] = dropSafeIntegerBounds(child);
  }
  return o;
}

/** Names of the component schemas that `v` refers to, outside `components.schemas` at the top. */
function refsIn(v: Json, top = true): string[] {
  if (Array.isArray(v)) return v.flatMap((c) => refsIn(c, false));
  if (!isObject(v)) return [];
  const names: string[] = [];
  for (const [k, child] of Object.entries(v)) {
    if (k === '$ref' && typeof child === 'string' && child.startsWith(REF)) names.push(child.slice(REF.length));
    else if (top && k === 'components' && isObject(child)) {
      for (const [section, entries] of Object.entries(child)) if (section !== 'schemas') names.push(...refsIn(entries, false));
    } else names.push(...refsIn(child, false));
  }
  return names;
}

/** `v` with every `$ref` to a renamed component pointing at its new name. */
function renameRefs(v: Json, rename: Map<string, string>): Json {
  if (rename.size === 0) return v;
  if (Array.isArray(v)) return v.map((c) => renameRefs(c, rename));
  if (!isObject(v)) return v;
  const o: { [key: string]: Json } = {};
  for (const [k, child] of Object.entries(v)) {
    const to = k === '$ref' && typeof child === 'string' && child.startsWith(REF) ? rename.get(child.slice(REF.length)) : undefined;
    o[k] = to ? `${REF}${to}` : renameRefs(child, rename);
  }
  return o;
}

/** Whether an input schema and its output twin say the same, references to input variants read as their twins. */
function same(input: Json, output: Json): boolean {
  const plain = (s: Json) => JSON.stringify(s).replaceAll(/("#\/components\/schemas\/[^"]*?)Input"/g, '$1"');
  return plain(input) === plain(output);
}
