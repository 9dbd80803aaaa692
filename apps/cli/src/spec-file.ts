import { readFile } from 'node:fs/promises';
import { SpecError, parseSpec, type JobSpec } from '@synthline/spec';
import { UsageError } from './exit.ts';

/** A spec file's text; a file that cannot be read is a usage error naming it (exit 2). */
export async function readSpecText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a folder' : e.message;
    throw new UsageError(`cannot read the spec file ${path}: ${why}`);
  }
}

/** Reads and validates a spec file; throws SpecError naming each bad field. */
export async function loadSpecFile(path: string): Promise<JobSpec> {
  const text = await readSpecText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SpecError([{ path: '(file)', message: `${path} is not valid JSON: ${(err as Error).message}` }]);
  }
  return parseSpec(json);
}
