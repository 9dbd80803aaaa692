/**
 * Benchmark, not a test: Redis at scale (issue 10), three measurements side by side in one run,
 * against one private redis-server (no AOF):
 *
 * 1. API latency with 100,000 finished jobs against 10 (two prefixes, one API each, in this
 *    process): GET /metrics, GET /v1/jobs?limit=20, ?status=completed&limit=20, the same two
 *    with limit=10 (a page of 10 jobs on both stores) and page 2 of a cursor (limit=5, so the
 *    10-job store has a page 2 too), requests interleaved between the two APIs so noise hits both.
 * 2. Redis memory before the 100,000 jobs, with them, and once their retention passed and the
 *    sweep ran. The jobs go through the store's own code (JobStore.create, then transition to
 *    completed), so indexes, counters and expiry are the real ones; no BullMQ keys are involved.
 * 3. Event streams: one API in its own process (`synthline serve`), one running job, a simulated
 *    worker reporting progress every 200 ms (JobStore.setInflight, as a worker does); Redis
 *    commands per second and delivery time to every stream, with 1 and with 500 open streams.
 *
 *   npm run bench:redis [-- --jobs 100000 --requests 300 --streams 500 --seconds 10 --retention 40]
 */
import { execa } from 'execa';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadApiEnv } from '@synthline/config';
import { parseSpec } from '@synthline/spec';
import { JobStore } from '@synthline/jobs';
import { createRedis } from '@synthline/queue';
import { freePort, startPrivateRedis } from '@synthline/cli/private-redis';
import { startApi } from '@synthline/api';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '300' },
    streams: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    retention: { type: 'string', default: '40' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/redis-scale.json', import.meta.url)) },
  },
});
const JOBS = Number(args.jobs);
const REQUESTS = Number(args.requests);
const STREAMS = Number(args.streams);
const SECONDS = Number(args.seconds);
const RETENTION_S = Number(args.retention);
const TICK_MS = 200;
const CLI = fileURLToPath(new URL('../apps/cli/bin/synthline.js', import.meta.url));

const t0 = performance.now();
const log = (msg: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] ?? NaN;
const p99 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? NaN;
const r2 = (n: number) => Math.round(n * 100) / 100;
const mib = (b: number) => r2(b / 2 ** 20);

const redis = await startPrivateRedis({ appendonly: false });
const conn = createRedis(redis.url);
const info = async (section: string, field: string) =>
  Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await conn.info(section))?.[1] ?? NaN);
const usedMemory = () => info('memory', 'used_memory');
/** What used_memory is made of (INFO memory), to tell what is left after the sweep. */
const memoryParts = async () => {
  const text = await conn.info('memory');
  const get = (f: string) => Number(new RegExp(`^${f}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    used_memory: get('used_memory'),
    dataset: get('used_memory_dataset'),
    overhead: get('used_memory_overhead'),
    clients: get('mem_clients_normal'),
    scripts: get('used_memory_scripts'),
  };
};
const commands = () => info('stats', 'total_commands_processed');
const redisVersion = /redis_version:(\S+)/.exec(await conn.info('server'))?.[1] ?? '?';
const outDir = await mkdtemp(join(tmpdir(), 'synthline-bench-redis-'));
const pid = process.pid;

// A realistic job: the parsed spec of a small job (about 1.9 kB of JSON in the job's hash).
const SPEC = parseSpec({ count: 24, name: 'bench' });

/** Creates `n` finished jobs through the store's own scripts, `chunk` at a time. */
async function createFinished(store: JobStore, n: number, retentionS: number, chunk = 1000): Promise<void> {
  for (let i = 0; i < n; i += chunk) {
    await Promise.all(
      Array.from({ length: Math.min(chunk, n - i) }, async (_, k) => {
        const id = `j${String(i + k).padStart(8, '0')}`;
        await store.create(
          {
            id,
            name: 'bench',
            spec: SPEC,
            frames_total: 24,
            batch_size: 24,
            batches_total: 1,
            window: 16,
            max_failed_frames: 0,
            output_uri: `file:///out/${id}`,
          },
          { retentionS },
        );
        await store.start(id);
        await store.complete(id, { frames_done: 24, manifest_uri: `file:///out/${id}/manifest.json` });
      }),
    );
  }
}

// ---------------------------------------------------------------- 1 and 2: 100,000 jobs vs 10
const small = new JobStore(conn, `rs${pid}small`);
const big = new JobStore(conn, `rs${pid}big`);
// The APIs start first, as in a fresh deployment: each indexes its empty store at start (so it
// does not walk 100,000 jobs later) and makes its own few keys before the baseline is read.
const apiEnv = (prefix: string) =>
  loadApiEnv({
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: prefix,
    SYNTHLINE_OUTPUT: outDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MIN: '1000000',
    QUOTA_JOBS_IN_FLIGHT: '0',
    QUOTA_FRAMES_OUTSTANDING: '0',
    QUOTA_DAILY_BUDGET: '0',
  });
const apiSmall = await startApi(apiEnv(small.prefix));
const apiBig = await startApi(apiEnv(big.prefix));
for (const a of [apiSmall, apiBig])
  for (const path of ['/metrics', '/v1/jobs?limit=20']) await (await fetch(`${a.url}${path}`)).arrayBuffer();
await createFinished(small, 10, 0);
const memBefore = await usedMemory();
const partsBefore = await memoryParts();
const keysBefore = await conn.dbsize();
log(`creating ${JOBS} finished jobs (retention ${RETENTION_S} s)...`);
const tCreate = performance.now();
await createFinished(big, JOBS, RETENTION_S);
const createS = (performance.now() - tCreate) / 1000;
const createdAt = Date.now();
const memAfter = await usedMemory();
const keysAfter = await conn.dbsize();
log(`created in ${createS.toFixed(1)} s; used_memory ${mib(memBefore)} -> ${mib(memAfter)} MiB`);
if (createS * 2 > RETENTION_S)
  log(`warning: creating took ${createS.toFixed(1)} s, the first jobs may expire during the latency runs; pass a longer --retention`);

async function getJson(url: string): Promise<{ next_cursor: string | null; total: number; items: unknown[] }> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { next_cursor: string | null; total: number; items: unknown[] };
}
// Page 2 needs a cursor from page 1: limit=5, so the 10-job store has a second page as well.
const cursorSmall = (await getJson(`${apiSmall.url}/v1/jobs?limit=5`)).next_cursor;
const cursorBig = (await getJson(`${apiBig.url}/v1/jobs?limit=5`)).next_cursor;
if (!cursorSmall || !cursorBig) throw new Error('no next_cursor on page 1');
// Jobs created in the same millisecond as the cursor's job: page 2 reads them to skip those page 1 showed.
const tiesAt = async (store: JobStore, cursor: string) => {
  const score = Number(Buffer.from(cursor, 'base64url').toString('utf8').split(':')[0]);
  return conn.zcount(`${store.prefix}:jobs`, score, score);
};
const cursorTies = { jobs_10: await tiesAt(small, cursorSmall), jobs_100k: await tiesAt(big, cursorBig) };
const totals = {
  small: (await getJson(`${apiSmall.url}/v1/jobs?limit=1`)).total,
  big: (await getJson(`${apiBig.url}/v1/jobs?limit=1`)).total,
};
if (totals.small !== 10 || totals.big !== JOBS) throw new Error(`unexpected totals ${JSON.stringify(totals)}`);

const ENDPOINTS = [
  { name: 'GET /metrics', path: () => '/metrics' },
  { name: 'GET /v1/jobs?limit=20', path: () => '/v1/jobs?limit=20' },
  { name: 'GET /v1/jobs?status=completed&limit=20', path: () => '/v1/jobs?status=completed&limit=20' },
  // limit=20 shows 10 jobs of the small store and 20 of the big one: the same page size on both.
  { name: 'GET /v1/jobs?limit=10', path: () => '/v1/jobs?limit=10' },
  { name: 'GET /v1/jobs?status=completed&limit=10', path: () => '/v1/jobs?status=completed&limit=10' },
  {
    name: 'GET /v1/jobs?limit=5&cursor= (page 2)',
    path: (which: 'small' | 'big') => `/v1/jobs?limit=5&cursor=${which === 'small' ? cursorSmall : cursorBig}`,
  },
] as const;
const lat: Record<string, { small: number[]; big: number[] }> = Object.fromEntries(ENDPOINTS.map((e) => [e.name, { small: [], big: [] }]));
const timed = async (url: string): Promise<number> => {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t;
};
log(`latency: ${REQUESTS} requests per endpoint and store, interleaved...`);
for (let i = -20; i < REQUESTS; i++) {
  // 20 warm-up rounds, not counted; the order of the two APIs alternates every round.
  for (const e of ENDPOINTS) {
    const order = i % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
    for (const which of order) {
      const ms = await timed(`${which === 'small' ? apiSmall.url : apiBig.url}${e.path(which)}`);
      if (i >= 0) (lat[e.name] as { small: number[]; big: number[] })[which].push(ms);
    }
  }
}
await apiSmall.close();
await apiBig.close();
const latency = ENDPOINTS.map((e) => {
  const l = lat[e.name] as { small: number[]; big: number[] };
  return {
    endpoint: e.name,
    jobs_10: { p50_ms: r2(median(l.small)), p99_ms: r2(p99(l.small)) },
    jobs_100k: { p50_ms: r2(median(l.big)), p99_ms: r2(p99(l.big)) },
    ratio_p50: r2(median(l.big) / median(l.small)),
    ratio_p99: r2(p99(l.big) / p99(l.small)),
  };
});
const expiredEarly = JOBS - (await big.statusCounts()).completed;
const firstHashGone = (await conn.exists(big.jobKey('j00000000'))) === 0;
log(
  `latency done; ${firstHashGone ? 'the first job hash had already expired (retention too short for this machine)' : 'no job expired during the runs'}`,
);

// Memory: wait until every job's retention passed, then sweep as the API does.
const waitMs = createdAt + RETENTION_S * 1000 + 1000 - Date.now();
log(`waiting ${(Math.max(0, waitMs) / 1000).toFixed(1)} s for the retention to pass...`);
if (waitMs > 0) await sleep(waitMs);
const keysBeforeSweep = await conn.dbsize();
const memBeforeSweep = await usedMemory();
const tSweep = performance.now();
let swept = 0;
let sweepCalls = 0;
const callMs: number[] = [];
for (;;) {
  const tc = performance.now();
  const n = await big.sweepExpired();
  callMs.push(performance.now() - tc);
  sweepCalls++;
  swept += n;
  if (n === 0) break;
}
const sweepMs = performance.now() - tSweep;
if (swept !== JOBS) log(`warning: the sweep removed ${swept} jobs, not ${JOBS}`);
const memSwept = await usedMemory();
const keysSwept = await conn.dbsize();
await sleep(2000); // Redis shrinks emptied hash tables in its cron: read again a little later
const memSwept2s = await usedMemory();
const partsSwept = await memoryParts();
const keysLeft = (await conn.keys(`${big.prefix}:*`)).sort();
// Sweep calls over 10 ms land in Redis's slow log (with their arguments), which counts as data.
const slowlogLen = Number(await conn.call('SLOWLOG', 'LEN'));
await conn.call('SLOWLOG', 'RESET');
const memSweptNoSlowlog = await usedMemory();
const countsAfter = await big.statusCounts();
log(
  `swept ${swept} jobs in ${sweepCalls} calls, ${sweepMs.toFixed(0)} ms; used_memory ${mib(memSwept)} MiB (2 s later ${mib(memSwept2s)} MiB)`,
);

// ---------------------------------------------------------------- 3: event streams, 1 vs 500
const ev = new JobStore(conn, `rs${pid}ev`);
await ev.ensureIndexes();
const JOB = 'runningjob01';
await ev.create({
  id: JOB,
  name: 'streams',
  spec: SPEC,
  frames_total: 1_000_000,
  batch_size: 24,
  batches_total: 41_667,
  window: 16,
  max_failed_frames: 0,
  output_uri: `file:///out/${JOB}`,
});
await ev.start(JOB);

// The simulator's own commands per setInflight, counted here before anything else runs
// (delta of total_commands_processed, less the one INFO between the two readings).
let frames = 0;
const calib = 20;
const c0 = await commands();
for (let i = 0; i < calib; i++) await ev.setInflight(JOB, 0, ++frames);
const perSetInflight = ((await commands()) - c0 - 1) / calib;

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const api = execa('node', [CLI, 'serve'], {
  all: true,
  reject: false,
  env: {
    ...process.env,
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: ev.prefix,
    SYNTHLINE_OUTPUT: outDir,
    PORT: String(port),
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MIN: '1000000',
    MAX_STREAMS_PER_KEY: '1000',
  },
});
for (;;) {
  if ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok) break;
  if (api.exitCode !== null) throw new Error(`the API did not start: ${String((await api).all)}`);
  await sleep(100);
}
const apiPid = api.pid as number;
const procStat = async () => {
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${apiPid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
  const f = (await readFile(`/proc/${apiPid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return { rss, cpuTicks: Number(f[11]) + Number(f[12]) }; // utime + stime, in clock ticks (100/s)
};

/** One open event stream: when each `progress` event came, by frames_done. */
interface Stream {
  req: ClientRequest;
  seen: Map<number, number>;
  opened: Promise<void>;
}
function openStream(): Stream {
  const seen = new Map<number, number>();
  let req!: ClientRequest;
  const opened = new Promise<void>((resolve, reject) => {
    req = httpRequest({ host: '127.0.0.1', port, path: `/v1/jobs/${JOB}/events`, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events: ${res.statusCode}`));
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const msg = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (msg.startsWith('event: status')) resolve();
          else if (msg.startsWith('event: progress')) {
            const data = msg.slice(msg.indexOf('data: ') + 6);
            const done = (JSON.parse(data) as { progress: { frames_done: number } }).progress.frames_done;
            if (!seen.has(done)) seen.set(done, at);
          }
        }
      });
    });
    req.on('error', reject); // after the stream opened (our destroy() at the end): a no-op
    req.end();
  });
  return { req, seen, opened };
}

/** A worker's progress reports for SECONDS, every TICK_MS; Redis commands and delivery to every stream. */
async function phase(streams: Stream[]) {
  await sleep(1000); // let the opening requests' Redis traffic settle
  const ticks: { frames: number; at: number }[] = [];
  const s0 = await procStat();
  const c0 = await commands();
  const start = performance.now();
  let sets = 0;
  for (let k = 0; start + k * TICK_MS < start + SECONDS * 1000; k++) {
    const due = start + k * TICK_MS;
    if (due > performance.now()) await sleep(due - performance.now());
    const at = performance.now();
    await ev.setInflight(JOB, 0, ++frames);
    sets++;
    ticks.push({ frames, at });
  }
  const wait = start + SECONDS * 1000 - performance.now();
  if (wait > 0) await sleep(wait);
  const elapsed = (performance.now() - start) / 1000;
  const delta = (await commands()) - c0 - 1; // less the first INFO
  const s1 = await procStat();
  await sleep(500); // the last tick's events
  const delivery: number[] = [];
  let missing = 0;
  for (const t of ticks) {
    let last = 0;
    for (const s of streams) {
      const got = s.seen.get(t.frames);
      if (got === undefined) missing++;
      else last = Math.max(last, got - t.at);
    }
    delivery.push(last);
  }
  const simulator = sets * perSetInflight;
  return {
    streams: streams.length,
    seconds: r2(elapsed),
    progress_reports: sets,
    redis_commands_per_s: r2(delta / elapsed),
    simulator_commands_per_s: r2(simulator / elapsed),
    api_commands_per_s: r2((delta - simulator) / elapsed),
    delivery_to_all_ms: { p50: r2(median(delivery)), p99: r2(p99(delivery)), max: r2(Math.max(...delivery)) },
    events_missing: missing,
    api_rss_mib: mib(s1.rss),
    api_cpu_percent: r2((s1.cpuTicks - s0.cpuTicks) / elapsed), // ticks of 10 ms per s = percent
  };
}

log(`streams: 1 open, ${SECONDS} s of progress every ${TICK_MS} ms...`);
const one = openStream();
await one.opened;
const idle = await procStat();
const phaseOne = await phase([one]);
log(`streams: opening ${STREAMS}...`);
const many: Stream[] = [one];
const tOpen = performance.now();
while (many.length < STREAMS) {
  const batch = Array.from({ length: Math.min(50, STREAMS - many.length) }, openStream);
  await Promise.all(batch.map((s) => s.opened));
  many.push(...batch);
}
const openMs = performance.now() - tOpen;
log(`streams: ${many.length} open in ${openMs.toFixed(0)} ms, ${SECONDS} s of progress...`);
const phaseMany = await phase(many);
for (const s of many) s.req.destroy();
api.kill('SIGTERM');
await api;

conn.disconnect();
await redis.dispose();
await rm(outDir, { recursive: true, force: true });

// ---------------------------------------------------------------- report
const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version, redis: redisVersion },
  params: {
    jobs: JOBS,
    requests: REQUESTS,
    streams: STREAMS,
    seconds: SECONDS,
    tick_ms: TICK_MS,
    retention_s: RETENTION_S,
    spec_json_bytes: JSON.stringify(SPEC).length,
  },
  latency,
  cursor_ties: cursorTies,
  memory: {
    note: 'jobs created directly in the store: no BullMQ keys involved',
    create_s: r2(createS),
    jobs_per_s: Math.round(JOBS / createS),
    used_memory_before_mib: mib(memBefore),
    used_memory_with_jobs_mib: mib(memAfter),
    bytes_per_job: Math.round((memAfter - memBefore) / JOBS),
    used_memory_after_sweep_mib: mib(memSwept),
    used_memory_after_sweep_2s_mib: mib(memSwept2s),
    left_over_bytes: memSwept2s - memBefore,
    parts_before: partsBefore,
    parts_after_sweep_2s: partsSwept,
    keys_left_of_the_prefix: keysLeft,
    keys: { before: keysBefore, with_jobs: keysAfter, retention_passed_before_sweep: keysBeforeSweep, after_sweep: keysSwept },
    used_memory_retention_passed_before_sweep_mib: mib(memBeforeSweep),
    swept_jobs: swept,
    sweep_calls: sweepCalls,
    sweep_ms: r2(sweepMs),
    sweep_call_ms: { p50: r2(median(callMs)), max: r2(Math.max(...callMs)) },
    slowlog_entries_after_sweep: slowlogLen,
    used_memory_after_sweep_slowlog_reset_mib: mib(memSweptNoSlowlog),
    left_over_bytes_slowlog_reset: memSweptNoSlowlog - memBefore,
    counts_after_sweep: countsAfter,
    expired_during_latency_runs: expiredEarly,
  },
  streams: {
    simulator_commands_per_set_inflight: perSetInflight,
    api_rss_idle_mib: mib(idle.rss),
    open_ms: r2(openMs),
    one: phaseOne,
    many: phaseMany,
    old_design: 'issue 10: 300 polling streams took Redis from 20 to 3,700 ops/s',
  },
};
await mkdir(dirname(args.out), { recursive: true });
await writeFile(args.out, `${JSON.stringify(results, null, 2)}\n`);

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `\nRedis at scale: ${JOBS} finished jobs vs 10, ${REQUESTS} requests each, interleaved (ms); jobs in the cursor's millisecond: ${cursorTies.jobs_10} vs ${cursorTies.jobs_100k}`,
);
console.log(
  `${'endpoint'.padEnd(42)} ${pad('10 p50', 8)} ${pad('100k p50', 9)} ${pad('ratio', 6)}  ${pad('10 p99', 8)} ${pad('100k p99', 9)} ${pad('ratio', 6)}`,
);
for (const l of latency) {
  console.log(
    `${l.endpoint.padEnd(42)} ${pad(l.jobs_10.p50_ms.toFixed(2), 8)} ${pad(l.jobs_100k.p50_ms.toFixed(2), 9)} ${pad(l.ratio_p50.toFixed(2), 6)}  ${pad(l.jobs_10.p99_ms.toFixed(2), 8)} ${pad(l.jobs_100k.p99_ms.toFixed(2), 9)} ${pad(l.ratio_p99.toFixed(2), 6)}`,
  );
}
const m = results.memory;
console.log(
  `\nRedis used_memory (no BullMQ keys: jobs created in the store): before ${m.used_memory_before_mib} MiB, with ${JOBS} jobs ${m.used_memory_with_jobs_mib} MiB (${m.bytes_per_job} B/job), after retention + sweep ${m.used_memory_after_sweep_mib} MiB (2 s later ${m.used_memory_after_sweep_2s_mib} MiB, ${m.left_over_bytes} B over before)`,
);
console.log(
  `slow log: ${m.slowlog_entries_after_sweep} entries; cleared: ${m.used_memory_after_sweep_slowlog_reset_mib} MiB, ${m.left_over_bytes_slowlog_reset} B over before`,
);
console.log(
  `created in ${m.create_s} s (${m.jobs_per_s} jobs/s); sweep: ${m.swept_jobs} jobs in ${m.sweep_calls} calls, ${m.sweep_ms} ms (per call p50 ${m.sweep_call_ms.p50} ms, max ${m.sweep_call_ms.max} ms); retention passed, before the sweep: ${m.used_memory_retention_passed_before_sweep_mib} MiB; keys ${m.keys.before} -> ${m.keys.with_jobs} -> ${m.keys.retention_passed_before_sweep} (retention passed) -> ${m.keys.after_sweep}`,
);
console.log(`\nEvent streams, progress every ${TICK_MS} ms for ${SECONDS} s (simulator: ${perSetInflight} commands per report)`);
console.log(
  `${'streams'.padStart(7)} ${pad('Redis cmd/s', 12)} ${pad('of it API', 10)} ${pad('deliver p50', 12)} ${pad('p99', 7)} ${pad('missing', 8)} ${pad('API RSS MiB', 12)} ${pad('API CPU %', 10)}`,
);
for (const p of [phaseOne, phaseMany]) {
  console.log(
    `${pad(p.streams, 7)} ${pad(p.redis_commands_per_s, 12)} ${pad(p.api_commands_per_s, 10)} ${pad(`${p.delivery_to_all_ms.p50} ms`, 12)} ${pad(p.delivery_to_all_ms.p99, 7)} ${pad(p.events_missing, 8)} ${pad(p.api_rss_mib, 12)} ${pad(p.api_cpu_percent, 10)}`,
  );
}
console.log(
  `(old design, issue 10: 300 polling streams took Redis from 20 to 3,700 ops/s; API RSS idle ${results.streams.api_rss_idle_mib} MiB)`,
);
console.log(`\nwritten to ${args.out}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
