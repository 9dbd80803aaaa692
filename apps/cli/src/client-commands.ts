import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { hashToken } from '@synthline/api';
import { loadCliEnv } from '@synthline/config';
import { ApiClient, describe, readSpecText, watchWithProgress } from './client.ts';
import { formatWorkers } from './workers-table.ts';

function clientFrom(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { api: { type: 'string' }, 'api-key': { type: 'string' }, ...extra },
  });
  // A flag wins over its variable, and the variable is read only when the flag is absent: a bad
  // SYNTHLINE_API never breaks a command that names --api.
  const api = typeof values.api === 'string' ? values.api : loadCliEnv(['SYNTHLINE_API']).SYNTHLINE_API;
  const key = typeof values['api-key'] === 'string' ? values['api-key'] : loadCliEnv(['SYNTHLINE_API_KEY']).SYNTHLINE_API_KEY;
  return {
    client: new ApiClient(api, key),
    values: values as Record<string, string | boolean | undefined>,
    positionals,
  };
}

/** `synthline submit <spec> [--wait] [--idempotency-key K]` */
export async function submit(argv: string[]): Promise<number> {
  const { client, values, positionals } = clientFrom(argv, { wait: { type: 'boolean' }, 'idempotency-key': { type: 'string' } });
  const path = positionals[0];
  if (!path) throw new Error('usage: synthline submit <spec.json> [--wait] [--api URL]');
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
  const { client, positionals } = clientFrom(argv);
  const id = positionals[0];
  if (!id) throw new Error('usage: synthline status <job-id> [--api URL]');
  process.stdout.write(`${describe(await client.get(id))}\n`);
  return 0;
}

/** `synthline watch <id>`: a progress bar from the event stream. */
export async function watch(argv: string[]): Promise<number> {
  const { client, positionals } = clientFrom(argv);
  const id = positionals[0];
  if (!id) throw new Error('usage: synthline watch <job-id> [--api URL]');
  const final = await watchWithProgress(client, id);
  process.stdout.write(`${describe(final)}\n`);
  return final.status === 'completed' ? 0 : 1;
}

/** `synthline cancel <id>` */
export async function cancel(argv: string[]): Promise<number> {
  const { client, positionals } = clientFrom(argv);
  const id = positionals[0];
  if (!id) throw new Error('usage: synthline cancel <job-id> [--api URL]');
  process.stdout.write(`${describe(await client.cancel(id))}\n`);
  return 0;
}

/** `synthline list [--status S]` */
export async function list(argv: string[]): Promise<number> {
  const { client, values } = clientFrom(argv, { status: { type: 'string' } });
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
  const { client, values } = clientFrom(argv, { json: { type: 'boolean' } });
  const list = await client.workers();
  process.stdout.write(values.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatWorkers(list)}\n`);
  return 0;
}

/** `synthline api-key <name>`: a new token, and the line the server keeps (only its hash). */
export function apiKey(argv: string[]): number {
  const name = argv[0];
  if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error('usage: synthline api-key <name> (letters, digits, ".", "_", "-")');
  const token = `sl_${randomBytes(24).toString('base64url')}`;
  process.stdout.write(`token (give it to the client, as SYNTHLINE_API_KEY or --api-key; it is shown once):\n  ${token}\n`);
  process.stdout.write(`server entry (SYNTHLINE_API_KEYS or a line of SYNTHLINE_API_KEYS_FILE):\n  ${name}:${hashToken(token)}\n`);
  return 0;
}
