// A newcomer's first hour (issue 17), through the real `synthline` command: a job with no worker
// says so, human output on stdout and logs on stderr, one table of exit codes, command-line
// errors that say what to write, messages that fit what they describe.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import sharp from 'sharp';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { CLI, ROOT, cli, tempDir, until } from './helpers.ts';

let redis: PrivateRedis;
let work: string;
let serveOut = { stdout: '', stderr: '' };
let apiUrl = '';
let completedJob = '';
const children: ResultPromise[] = [];

/** Starts `synthline <args>` as a long-running process; its output is collected as it comes. */
function start(args: string[], env: NodeJS.ProcessEnv) {
  const p = execa('node', [CLI, ...args], { env: { ...process.env, ...env }, cwd: ROOT, reject: false, all: true });
  children.push(p);
  const out = { stdout: '', stderr: '' };
  p.stdout?.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  p.stderr?.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  return { p, out };
}

before(async () => {
  redis = await startPrivateRedis();
  work = await tempDir('synthline-newcomer-');
  const api = start(['serve'], { REDIS_URL: redis.url, PORT: '0', SYNTHLINE_OUTPUT: join(work, 'jobs'), LOG_LEVEL: 'info' });
  serveOut = api.out;
  apiUrl = await until('the API to listen', async () => /listening on (http:\/\/\S+)/.exec(api.out.stderr)?.[1]);
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(children);
  await redis?.dispose();
});

const tiny = { name: 'newcomer', seed: 5, count: 4, render: { resolution: [64, 48], samples: 4 }, output: { shard_size: 4 } };

test('1, 7: a job with no worker says so until one starts; then one progress line at the end and "completed" once', async () => {
  const specPath = join(work, 'tiny.json');
  await writeFile(specPath, JSON.stringify(tiny));
  const submit = start(['submit', specPath, '--wait', '--api', apiUrl], {});
  // Said at once, and again while it stays true.
  await until('the no-worker notice', async () => /no live worker is connected to this API/.test(submit.out.stderr), 30_000);
  assert.match(submit.out.stderr, /Start one with "synthline worker"/);
  assert.match(submit.out.stderr, /"synthline up"/);
  await until('the notice repeated', async () => (submit.out.stderr.match(/no live worker/g) ?? []).length >= 2, 30_000);

  const worker = start(['worker'], {
    REDIS_URL: redis.url,
    SYNTHLINE_OUTPUT: join(work, 'jobs'),
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const r = await submit.p;
  assert.equal(r.exitCode, 0, submit.out.stderr);
  assert.match(submit.out.stderr, /1 live worker\(s\) now: the job will start|a worker took the job/);
  completedJob = submit.out.stdout.split('\n')[0] ?? '';
  assert.match(completedJob, /^\S+$/);
  // The end state once (in the summary on stdout), and the progress reaching the total.
  assert.equal((submit.out.stdout + submit.out.stderr).match(/completed/g)?.length, 1, `${submit.out.stdout}\n${submit.out.stderr}`);
  assert.equal(submit.out.stderr.match(/progress 4\/4 frames/g)?.length, 1, submit.out.stderr);
  worker.p.kill('SIGTERM');
  assert.equal((await worker.p).exitCode, 0);
  // Logs of the service are JSON lines on stderr (not a terminal), never on stdout.
  assert.doesNotMatch(worker.out.stdout, /"level"/);
  assert.equal(serveOut.stdout, '', 'serve prints nothing on stdout');
  assert.match(serveOut.stderr, /^\{"level":30/m);
});

test('2: up prints its banner on stdout and logs on stderr; a taken metrics port is one warning line, no stack; a demo beside it prints no log line', async () => {
  const taken: Server = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const up = start(['up', '--port', '0', '--out', join(work, 'up-jobs')], { WORKER_HTTP_PORT: String(port), LOG_LEVEL: 'info' });
    await until('up to be up', async () => /synthline is up/.test(up.out.stdout), 120_000);
    for (const line of up.out.stdout.trim().split('\n')) assert.doesNotMatch(line, /^\{/, `stdout holds no log line: ${line}`);
    const logs = up.out.stderr.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logs.length >= 3, `JSON log lines on stderr:\n${up.out.stderr}`);
    for (const l of logs) JSON.parse(l);
    const warning = logs.find((l) => l.includes('worker HTTP server not started'));
    assert.ok(warning, up.out.stderr);
    assert.match(warning, new RegExp(`port ${port} is taken`));
    assert.doesNotMatch(up.out.stderr, /\n\s+at /, 'no stack trace for a taken port');

    // A demo beside it: human lines only (no JSON warning, no stack), its dataset verified.
    const specPath = join(work, 'demo.json');
    await writeFile(specPath, JSON.stringify({ ...tiny, name: 'demo', count: 2 }));
    const demo = await cli(['demo', '--spec', specPath, '--out', join(work, 'demo-jobs')]);
    assert.equal(demo.code, 0, demo.all);
    assert.match(demo.stdout, /^verified: 2 samples in 1 shard\(s\) match dataset\.json$/m);
    for (const line of demo.all.split('\n')) assert.doesNotMatch(line, /^\s*\{|^\s+at |EADDRINUSE/, `a human line: ${line}`);
    up.p.kill('SIGINT');
    assert.equal((await up.p).exitCode, 0, up.out.stderr);
  } finally {
    taken.close();
  }
});

test("3: one table of exit codes: the README's and --help's are the same, and each code is what commands return", async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  const helpCodes = [...help.stdout.matchAll(/^ {2}(\d) {2}(.+)$/gm)].map((m) => [Number(m[1]), m[2]]);
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const readmeCodes = [...readme.matchAll(/^\| (\d) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    helpCodes.map((c) => c[0]),
    [0, 1, 2, 3],
  );
  assert.deepEqual(readmeCodes, helpCodes, "the README's exit code table is --help's");

  const missing = join(work, 'missing.json');
  const cases: [string[], number][] = [
    [['status', completedJob, '--api', apiUrl], 0],
    [['cancel', completedJob, '--api', apiUrl], 1], // nothing to cancel
    [['status', '--api', apiUrl], 2],
    [['submit', '--api', apiUrl], 2],
    [['submit', missing, '--api', apiUrl], 2],
    [['render', missing, '--out', join(work, 'o')], 2],
    [['status', 'no-such-job', '--api', apiUrl], 2],
    [['frobnicate'], 2],
    [['status', completedJob, '--api', 'http://127.0.0.1:9'], 3],
  ];
  for (const [args, code] of cases) {
    const r = await cli(args);
    assert.equal(r.code, code, `synthline ${args.join(' ')} exits ${code}:\n${r.all}`);
  }
  const down = await cli(['status', completedJob, '--api', 'http://127.0.0.1:9']);
  assert.match(down.stderr, /start the service with "synthline up"/);
  const both = [await cli(['submit', missing, '--api', apiUrl]), await cli(['render', missing, '--out', join(work, 'o')])];
  for (const r of both) assert.match(r.stderr, /cannot read the spec file .*missing\.json: no such file/);
  // A spec the API refuses: each problem once, no summary line repeating them.
  const badSpec = join(work, 'bad.json');
  await writeFile(badSpec, JSON.stringify({ count: 2, render: { sampels: 4 } }));
  const refused = await cli(['submit', badSpec, '--api', apiUrl]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr.match(/sampels/g)?.length, 1, refused.stderr);
  assert.match(refused.stderr, /^ {2}render\.sampels: unknown field; did you mean "samples"\?$/m);
  const cancel = await cli(['cancel', completedJob, '--api', apiUrl]);
  assert.match(cancel.stderr, new RegExp(`nothing cancelled: job ${completedJob} had already completed`));
});

test('6: command-line errors say what is wrong and what to write', async () => {
  const specPath = join(work, 'tiny.json');
  const noOut = await cli(['render', specPath]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /^error: render: missing --out <dir> \(the folder to write the dataset into\)\nusage:\n {2}synthline render /);
  assert.doesNotMatch(noOut.stderr, /mixing with real photos/, "the render command's usage, not the whole help");

  const typo = await cli(['render', specPath, '--frmaes', '0:4', '--out', join(work, 'o')]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^error: render: unknown option --frmaes; did you mean --frames\?/);

  const file = join(work, 'a-file');
  await writeFile(file, 'x');
  const onFile = await cli(['render', specPath, '--out', file]);
  assert.equal(onFile.code, 2);
  assert.match(onFile.stderr, /--out .*a-file is a file, not a folder/);
  assert.doesNotMatch(onFile.all, /rendering/, 'refused before it starts');

  const cmdTypo = await cli(['sumbit', specPath]);
  assert.match(cmdTypo.stderr, /unknown command "sumbit"; did you mean "submit"\?/);
});

test('7: verify, assets scan, render and mix reports say what they found', async () => {
  const notDataset = await cli(['verify', work]);
  assert.equal(notDataset.code, 2);
  assert.match(notDataset.stderr, /is not a dataset: it has no dataset\.json/);

  const noLib = join(work, 'no-library');
  const scan = await cli(['assets', 'scan', '--library', noLib]);
  assert.equal(scan.code, 2);
  assert.match(scan.stderr, /there is no asset library at .*no-library/);
  assert.equal(existsSync(noLib), false, 'nothing created');

  // 4 frames over the builtin catalog's classes: the summary counts the classes present.
  const dataset = join(work, 'ds');
  const render = await cli(['render', join(work, 'tiny.json'), '--out', dataset]);
  assert.equal(render.code, 0, render.all);
  const manifest = JSON.parse(await readFile(join(dataset, 'dataset.json'), 'utf8')) as {
    classes: unknown[];
    counts: { per_class: Record<string, number> };
  };
  const present = Object.keys(manifest.counts.per_class).filter((c) => (manifest.counts.per_class[c] ?? 0) > 0);
  assert.ok(present.length < manifest.classes.length);
  assert.match(render.stdout, new RegExp(`${present.length} of the spec's ${manifest.classes.length} classes`));

  // A mix of one class's real photos: classes with no samples on either side are counted, not listed.
  const real = join(work, 'real', present[0] ?? '');
  await mkdir(real, { recursive: true });
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
    .jpeg()
    .toFile(join(real, 'a.jpg'));
  const mix = await cli(['mix', '--real', join(work, 'real'), '--synthetic', dataset, '--ratio', '1:1', '--out', join(work, 'mix')]);
  assert.equal(mix.code, 0, mix.all);
  assert.match(mix.stdout, /ratio 1:1 requested; achieved 1 real : 1 synthetic \(1 synthetic per real photo\), exactly as requested/);
  assert.match(mix.stdout, new RegExp(`classes left out \\(${present.length - 1}\\)`));
  assert.match(mix.stdout, new RegExp(`\\(${manifest.classes.length - present.length} more class\\(es\\) of the spec have no samples`));
  assert.doesNotMatch(mix.stdout, /its 0 synthetic samples/);
});

test("8: the README's command summary is synthline --help, line for line", async () => {
  const help = await cli(['--help']);
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- synthline --help -->\n```text\n([\s\S]*?)\n```/.exec(readme)?.[1];
  assert.ok(block, 'the README holds the help between its markers');
  assert.equal(block, help.stdout.trimEnd());
});
