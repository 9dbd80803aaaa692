import { parseArgs, type ParseArgsConfig } from 'node:util';
import { suggest } from '@synthline/spec';

/**
 * The exit codes of every command, in one table: `--help` prints it, the README lists it, and a
 * test holds both to what the commands return.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/** What each exit code means, as `--help` and the README say it. */
export const EXIT_MEANINGS: readonly (readonly [number, string])[] = [
  [EXIT.ok, 'ok'],
  [EXIT.failed, 'failed: a job, frames or Blender failed; an invalid dataset or existing output; nothing to cancel'],
  [EXIT.usage, 'bad usage: a bad command line, spec or variable; a file or job that does not exist'],
  [EXIT.unreachable, 'unreachable: the API or its Redis cannot be reached'],
];

/** A mistake on the command line: exit 2, with the message and the command's usage line. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The usage line(s) of the command, shown under the message. */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** The API (or the Redis behind it) cannot be reached: exit 3, with what to start. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs, with its errors as {@link UsageError}s that name the option and, for a
 * misspelt one, the option meant (`--frmaes` -> `--frames`).
 */
export function parseCommand<O extends Options>(command: string, usage: string, args: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = (err as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const typed = /'(-[^']*)'/.exec(message)?.[1] ?? '?';
      const near = suggest(typed.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`${command}: unknown option ${typed}${near ? `; did you mean --${near}?` : ''}`, usage);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /'(-[^'\s]*)/.exec(message)?.[1] ?? 'an option';
      const what = /does not take an argument/.test(message) ? 'takes no value' : 'needs a value';
      throw new UsageError(`${command}: ${flag} ${what}`, usage);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? '';
      throw new UsageError(`${command}: unexpected argument "${arg}"`, usage);
    }
    throw err;
  }
}
