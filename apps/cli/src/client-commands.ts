import { randomBytes } from 'node:crypto';
import { EXIT, UsageError, parseCommand } from './exit.ts';
import { type USAGE_OF, usageOf } from './usage.ts';
import { hashToken } from '@synthline/api';
import { loadCliEnv } from '@synthline/config';
import { ApiClient, describe, watchWithProgress } from './client.ts';
import { readSpecText } from './spec-file.ts';
import { formatWorkers } from './workers-table.ts';

function clientFrom(command: keyof typeof USAGE_OF, argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { values, positionals } = parseCommand(command, usageOf(command), argv, {
    api: { type: 'string' },
    'api-key': { type: 'string' },
    ...extra,
  });
  // A flag wins over its variable, and the variable is read only when the flag is absent: a bad
  // SYNTHLINE_API never breaks a command that names --api.
  const api = typeof values.api === 'string' ? values.api : loadCliEnv(['SYNTHLINE_API']).SYNTHLINE_API;
  const key = typeof values['api-key'] === 'string' ? values['api-key'] : loadCliEnv(['SYNTHLINE_API_KEY']).SYNTHLINE_API_KEY;
  return {
    client: new ApiClient(api, key),
    /** The one positional argument the command takes (a spec file, a job id), else a usage error. */
    one(what: string): string {
      if (positionals.length > 1) throw new UsageError(`${command}: unexpected argument "${positionals[1]}"`, usageOf(command));
      const v = positionals[0];
      if (!v) throw new UsageError(`${command}: missing ${what}`, usageOf(command));
      return v;
    },
    values: values as Record<string, string | boolean | undefined>,
    positionals,
  };
}

/** `synthline submit <spec> [--wait] [--idempotency-key K]` */
export async function submit(argv: string[]): Promise<number> {
  const { client, values, one } = clientFrom('submit', argv, { wait: { type: 'boolean' }, 'idempotency-key': { type: 'string' } });
  const path = one('the spec file (a JSON job spec, e.g. examples/quickstart.json)');
  const key = typeof values['idempotency-key'] === 'string' ? values['idempotency-key'] : undefined;
  const job = await client.submit(await readSpecText(path), key);
  process.stdout.write(`${job.id}\n`);
  if (!values.wait) return 0;
  const final = await watchWithProgress(client, job.id);
  process.stdout.write(`${describe(final)}\n`);
  return final.status === 'completed' ? 0 : 1;
}

/** `synthline status <id>` */
export async function status(argv: string[]): Promise<number> {
  const { client, one } = clientFrom('status', argv);
  const id = one('the job id (synthline list shows them)');
  process.stdout.write(`${describe(await client.get(id))}\n`);
  return 0;
}

/** `synthline watch <id>`: a progress bar from the event stream. */
export async function watch(argv: string[]): Promise<number> {
  const { client, one } = clientFrom('watch', argv);
  const id = one('the job id (synthline list shows them)');
  const final = await watchWithProgress(client, id);
  process.stdout.write(`${describe(final)}\n`);
  return final.status === 'completed' ? 0 : 1;
}

/** `synthline cancel <id>` */
export async function cancel(argv: string[]): Promise<number> {
  const { client, one } = clientFrom('cancel', argv);
  const id = one('the job id (synthline list shows them)');
  const after = await client.cancel(id);
  process.stdout.write(`${describe(after)}\n`);
  if (after.status === 'cancelled') return EXIT.ok;
  process.stderr.write(`nothing cancelled: job ${id} had already ${after.status === 'failed' ? 'failed' : 'completed'}\n`);
  return EXIT.failed;
}

/** `synthline list [--status S]` */
export async function list(argv: string[]): Promise<number> {
  const { client, values } = clientFrom('list', argv, { status: { type: 'string' } });
  const r = await client.list(typeof values.status === 'string' ? values.status : undefined);
  for (const j of r.items) {
    process.stdout.write(
      `${j.id}  ${j.status.padEnd(10)}  ${String(j.progress.frames_done).padStart(7)}/${j.progress.frames_total}  ${j.name}  ${j.created_at}\n`,
    );
  }
  process.stdout.write(`${r.items.length} of ${r.total} job(s)\n`);
  return 0;
}

/** `synthline workers [--json]`: the worker registry as a table (or the API's JSON). */
export async function workers(argv: string[]): Promise<number> {
  const { client, values } = clientFrom('workers', argv, { json: { type: 'boolean' } });
  const list = await client.workers();
  process.stdout.write(values.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatWorkers(list)}\n`);
  return 0;
}

/** `synthline api-key <name>`: a new token, and the line the server keeps (only its hash). */
export function apiKey(argv: string[]): number {
  const { positionals } = parseCommand('api-key', usageOf('api-key'), argv, {});
  const name = positionals[0];
  if (!name) throw new UsageError("api-key: missing the key's name (who uses it, e.g. ci-runner)", usageOf('api-key'));
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new UsageError(`api-key: "${name}" is not a usable name: letters, digits, ".", "_" and "-", at most 64`, usageOf('api-key'));
  const token = `sl_${randomBytes(24).toString('base64url')}`;
  process.stdout.write(`token (give it to the client, as SYNTHLINE_API_KEY or --api-key; it is shown once):\n  ${token}\n`);
  process.stdout.write(`server entry (SYNTHLINE_API_KEYS or a line of SYNTHLINE_API_KEYS_FILE):\n  ${name}:${hashToken(token)}\n`);
  return 0;
}
