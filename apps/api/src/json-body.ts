import sjson from 'secure-json-parse';
import { ProblemError } from './problem.ts';

/**
 * How deep a JSON text nests, by one pass over its characters (strings skipped), stopping as
 * soon as `max` is passed: a hostile body nested thousands deep is refused before any recursive
 * code (parsing, hashing, validation) walks it.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * The API's JSON body parser: Fastify's own rules (prototype poisoning refused, as
 * secure-json-parse does for Fastify) plus a nesting limit; every failure is a 400 problem.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0 || text.trim() === '')
    throw new ProblemError(400, 'malformed-body', 'the body is empty but its content type says JSON');
  if (jsonDepthExceeds(text, maxDepth))
    throw new ProblemError(400, 'malformed-body', `the body nests deeper than ${maxDepth} levels; a spec needs far fewer`);
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const why = /forbidden|prototype/i.test((err as Error).message)
      ? 'the body carries a forbidden "__proto__" or "constructor.prototype" key'
      : 'the body is not valid JSON';
    throw new ProblemError(400, 'malformed-body', why);
  }
}
