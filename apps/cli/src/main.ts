import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, SpecError, parseSpec, builtinCatalog, type JobSpec, type RenderDevice } from '@synthline/spec';
import { BlenderError, RenderSlot } from '@synthline/blender';
import { OutputExistsError, renderDataset } from '@synthline/pipeline';
import { verifyDataset } from '@synthline/shards';
import { mirrorS3 } from '@synthline/storage';
import { AssetLibrary, scanLibrary } from '@synthline/library';
import { loadCliEnv } from '@synthline/config';
import { progressReporter } from './progress.ts';
import { ApiError } from './client.ts';
import * as clientCommands from './client-commands.ts';
import * as mixCommands from './mix-commands.ts';

/** Commands that need the service packages are loaded only when used. */
const service = () => import('./service.ts');

const USAGE = `synthline: synthetic training images of look-alike products, rendered with Blender

on this machine:
  synthline render <spec.json> --out <dir> [--frames A:B] [--overwrite] [--threads N] [--library DIR]
                  [--device auto|cpu|cuda|optix|hip|metal] [--allow-cpu-fallback]
  synthline assets scan [--library DIR]    probe every library product once in Blender
  synthline verify <dir|s3://bucket/key>  a dataset or a mix
  synthline catalog

${mixCommands.MIX_USAGE}

the service:
  synthline demo [--spec F] [--out DIR]   private Redis + API + one worker; renders the quickstart
  synthline up [--port 8080] [--out DIR]  the same service on this machine, until Ctrl-C
  synthline serve                         the REST API (configured by environment variables)
  synthline worker [--slots N|auto] [--doctor]
                                          render batches from the queue until SIGTERM
                                          (--doctor: run synthline doctor first; exit 1 if it fails)
  synthline doctor [--json] [--render N]  can this machine serve? Blender, devices, Redis, storage,
                                          library, and N frames on the CPU and each GPU (frames/s)

client of the API (--api URL, default $SYNTHLINE_API or http://127.0.0.1:8080):
  synthline submit <spec.json> [--wait] [--idempotency-key K]
  synthline status <id> | watch <id> | cancel <id> | list [--status S]
  synthline workers [--json]              the workers: live or lost, slots, devices, frames/s
  (with --api-key TOKEN or $SYNTHLINE_API_KEY when the API has keys)
  synthline api-key <name>                a new API key: the token, and the hashed entry for the server

exit codes: 0 ok, 1 failed (frames failed, dataset invalid, Blender or API error), 2 bad usage or spec`;

/** Reads and validates a spec file; throws SpecError naming each bad field. */
export async function loadSpecFile(path: string): Promise<JobSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SpecError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SpecError([{ path: '(file)', message: `${path} is not valid JSON: ${(err as Error).message}` }]);
  }
  return parseSpec(json);
}

/** `--library` if given, else SYNTHLINE_LIBRARY: read only when the flag is absent, so a bad variable never breaks a flag. */
function libraryRoot(flag: string | undefined): string {
  return flag ?? loadCliEnv(['SYNTHLINE_LIBRARY']).SYNTHLINE_LIBRARY;
}

/** `A:B` -> [A, B]. */
export function parseFrames(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new SpecError([{ path: '--frames', message: `expected A:B (frame indices, B exclusive), got "${text}"` }]);
  return [Number(m[1]), Number(m[2])];
}

async function render(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      frames: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      threads: { type: 'string' },
      device: { type: 'string' },
      'allow-cpu-fallback': { type: 'boolean' },
      library: { type: 'string' },
    },
  });
  const specPath = positionals[0];
  if (!specPath || !values.out) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let spec = await loadSpecFile(specPath);
  // --device and --allow-cpu-fallback override the spec's render.device / render.allow_cpu_fallback.
  if (values.device !== undefined && !(DEVICE_KINDS as readonly string[]).includes(values.device)) {
    throw new SpecError([{ path: '--device', message: `expected one of ${DEVICE_KINDS.join(', ')}, got "${values.device}"` }]);
  }
  if (values.device !== undefined || values['allow-cpu-fallback'] !== undefined) {
    spec = {
      ...spec,
      render: {
        ...spec.render,
        ...(values.device !== undefined ? { device: values.device as RenderDevice } : {}),
        ...(values['allow-cpu-fallback'] !== undefined ? { allow_cpu_fallback: values['allow-cpu-fallback'] } : {}),
      },
    };
  }
  const frames = values.frames ? parseFrames(values.frames) : undefined;
  if (frames && !(frames[0] < frames[1] && frames[1] <= spec.count)) {
    throw new SpecError([{ path: '--frames', message: `${values.frames} must lie within 0:${spec.count} with A < B` }]);
  }
  const outDir = resolve(values.out);
  const n = frames ? frames[1] - frames[0] : spec.count;
  process.stderr.write(
    `rendering ${n} frames of "${spec.name}" (${spec.render.resolution.join('x')}, ${spec.render.samples} samples) into ${outDir}\n`,
  );
  const progress = progressReporter(process.stderr);
  const result = await renderDataset({
    spec,
    outDir,
    overwrite: values.overwrite,
    ...(frames ? { frames } : {}),
    slot: { threads: values.threads ? Number(values.threads) : 0 },
    onProgress: (p) => progress.update(p),
    library: await AssetLibrary.open(libraryRoot(values.library)),
  });
  progress.end();
  const m = result.manifest;
  const out = process.stdout;
  out.write(
    `\ndone in ${result.seconds.toFixed(1)} s: ${m.counts.samples} samples in ${m.shards.length} shard(s), ${m.classes.length} classes\n`,
  );
  out.write(`  dataset      ${outDir}\n`);
  out.write(`  manifest     ${result.manifestPath}\n`);
  out.write(`  device       ${result.device || 'unknown'}\n`);
  for (const s of m.shards.slice(0, 5))
    out.write(`  shard        ${resolve(outDir, s.name)}  (${s.samples} samples, ${(s.bytes / 1e6).toFixed(1)} MB)\n`);
  if (m.shards.length > 5) out.write(`  ...          ${m.shards.length - 5} more shards\n`);
  if (result.contactSheetPath) out.write(`  contact sheet ${result.contactSheetPath}\n`);
  out.write(`  check it:    synthline verify ${outDir}\n`);
  if (result.failed.length > 0) {
    process.stderr.write(`\n${result.failed.length} frame(s) failed:\n`);
    for (const f of result.failed.slice(0, 10)) process.stderr.write(`  frame ${f.index} (${f.code}): ${f.error}\n`);
    return 1;
  }
  return 0;
}

async function verify(argv: string[]): Promise<number> {
  const dir = argv[0];
  if (!dir) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let report;
  if (dir.startsWith('s3://')) {
    // An object store: its objects are copied to a temporary folder and verified there.
    const local = await mkdtemp(join(tmpdir(), 'synthline-verify-'));
    try {
      const n = await mirrorS3(dir, local);
      if (n === 0) {
        process.stderr.write(`nothing under ${dir}: no dataset there\n`);
        return 1;
      }
      report = await verifyDataset(local);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  } else {
    report = await verifyDataset(resolve(dir));
  }
  if (report.ok) {
    process.stdout.write(`ok: ${report.samples} samples in ${report.shards} shard(s) match dataset.json\n`);
    return 0;
  }
  process.stdout.write(`INVALID: ${report.problems.length} problem(s)\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`);
  return 1;
}

function catalog(): number {
  for (const m of builtinCatalog().models) {
    process.stdout.write(`builtin:${m.id}  ${m.name}  colours: ${m.colors.map((c) => c.name).join(', ')}\n`);
  }
  return 0;
}

/** `synthline assets scan [--library DIR]`: probes each product and saves the results. */
async function assets(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { library: { type: 'string' } },
  });
  if (positionals[0] !== 'scan') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const lib = await AssetLibrary.open(libraryRoot(values.library));
  process.stderr.write(`scanning ${lib.folders.length} product(s) in ${lib.root}\n`);
  const slot = new RenderSlot();
  let bad = 0;
  try {
    await scanLibrary(lib, slot, (e) => {
      if (!e.ok) bad++;
      const dims = e.dimensions_m ? ` ${e.dimensions_m.map((d) => (d * 1000).toFixed(1)).join(' x ')} mm` : '';
      const info = e.probe
        ? ` ${e.probe.meshes} mesh(es), ${e.probe.vertices} vertices,${dims}, materials: ${e.probe.material_slots.join(', ') || 'none'}`
        : '';
      process.stdout.write(`${e.ok ? 'ok  ' : 'FAIL'} library:${e.id}${info}\n`);
      for (const err of e.errors) process.stdout.write(`       error: ${err}\n`);
      for (const w of e.warnings) process.stdout.write(`       warning: ${w}\n`);
    });
  } finally {
    await slot.close();
  }
  process.stdout.write(`${lib.folders.length - bad} usable, ${bad} unusable; background photos: ${lib.backgrounds.length}\n`);
  return bad ? 1 : 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'render':
        return await render(rest);
      case 'verify':
        return await mixCommands.verify(rest, verify);
      case 'catalog':
        return catalog();
      case 'mix':
        return await mixCommands.mix(rest);
      case 'export':
        return await mixCommands.exportCommand(rest);
      case 'assets':
        return await assets(rest);
      case 'serve':
        return await (await service()).serve();
      case 'worker':
        return await (await service()).worker(rest);
      case 'demo':
        return await (await service()).demo(rest);
      case 'up':
        return await (await service()).up(rest);
      case 'submit':
        return await clientCommands.submit(rest);
      case 'status':
        return await clientCommands.status(rest);
      case 'watch':
        return await clientCommands.watch(rest);
      case 'cancel':
        return await clientCommands.cancel(rest);
      case 'list':
        return await clientCommands.list(rest);
      case 'workers':
        return await clientCommands.workers(rest);
      case 'api-key':
        return clientCommands.apiKey(rest);
      case 'doctor':
        return await (await import('./doctor.ts')).doctorCommand(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`unknown command "${cmd}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof SpecError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`API error: ${err.message}\n`);
      return err.status >= 400 && err.status < 500 ? 2 : 1;
    }
    if (err instanceof OutputExistsError || err instanceof BlenderError) {
      process.stderr.write(`error: ${err.message}\n`);
      if (err instanceof BlenderError && err.logTail.length)
        process.stderr.write(`Blender's last lines:\n  ${err.logTail.slice(-10).join('\n  ')}\n`);
      return 1;
    }
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
