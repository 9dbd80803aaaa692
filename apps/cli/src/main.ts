import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEVICE_KINDS, SpecError, suggest, builtinCatalog, type Manifest, type RenderDevice } from '@synthline/spec';
import { EnvError } from '@synthline/config';
import { EXIT, UnreachableError, UsageError, parseCommand } from './exit.ts';
import { loadSpecFile } from './spec-file.ts';
import { USAGE, USAGE_OF } from './usage.ts';
import { BlenderError, RenderSlot } from '@synthline/blender';
import { OutputExistsError, renderDataset, renderThumbnails } from '@synthline/pipeline';
import { verifyDataset } from '@synthline/shards';
import { mirrorS3 } from '@synthline/storage';
import { AssetLibrary, THUMBNAILS_DIR, scanLibrary } from '@synthline/library';
import { loadCliEnv } from '@synthline/config';
import { progressReporter } from './progress.ts';
import { ApiError } from './client.ts';
import * as clientCommands from './client-commands.ts';
import * as mixCommands from './mix-commands.ts';

/** Commands that need the service packages are loaded only when used. */
const service = () => import('./service.ts');

/** `--library` if given, else SYNTHLINE_LIBRARY: read only when the flag is absent, so a bad variable never breaks a flag. */
function libraryRoot(flag: string | undefined): string {
  return flag ?? loadCliEnv(['SYNTHLINE_LIBRARY']).SYNTHLINE_LIBRARY;
}

/** `--out`: a folder, or a path where one can be made (not an existing file). */
async function outFolder(path: string, command: string): Promise<string> {
  const dir = resolve(path);
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new UsageError(`${command}: --out ${path} is a file, not a folder`, USAGE_OF.render);
  return dir;
}

/** `A:B` -> [A, B]. */
export function parseFrames(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`render: --frames expects A:B (frame indices, B exclusive), got "${text}"`, USAGE_OF.render);
  return [Number(m[1]), Number(m[2])];
}

/** `9 of 32 classes`: the classes that have samples, of the spec's class space. */
function classesPresent(m: Manifest): string {
  const present = Object.values(m.counts.per_class).filter((n) => n > 0).length;
  return present === m.classes.length ? `${present} classes` : `${present} of the spec's ${m.classes.length} classes`;
}

async function render(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('render', USAGE_OF.render, argv, {
    out: { type: 'string', short: 'o' },
    frames: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    threads: { type: 'string' },
    device: { type: 'string' },
    'allow-cpu-fallback': { type: 'boolean' },
    library: { type: 'string' },
  });
  const specPath = positionals[0];
  if (!specPath) throw new UsageError('render: missing the spec file (a JSON job spec, e.g. examples/quickstart.json)', USAGE_OF.render);
  if (positionals.length > 1) throw new UsageError(`render: unexpected argument "${positionals[1]}"`, USAGE_OF.render);
  if (!values.out) throw new UsageError('render: missing --out <dir> (the folder to write the dataset into)', USAGE_OF.render);
  if (values.threads !== undefined && !/^\d+$/.test(values.threads))
    throw new UsageError(`render: --threads expects a whole number (0: all cores), got "${values.threads}"`, USAGE_OF.render);
  let spec = await loadSpecFile(specPath);
  // --device and --allow-cpu-fallback override the spec's render.device / render.allow_cpu_fallback.
  if (values.device !== undefined && !(DEVICE_KINDS as readonly string[]).includes(values.device)) {
    throw new UsageError(`render: --device expects one of ${DEVICE_KINDS.join(', ')}, got "${values.device}"`, USAGE_OF.render);
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
    throw new UsageError(`render: --frames ${values.frames} must lie within 0:${spec.count} with A < B`, USAGE_OF.render);
  }
  const outDir = await outFolder(values.out, 'render');
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
  out.write(`\ndone in ${result.seconds.toFixed(1)} s: ${m.counts.samples} samples in ${m.shards.length} shard(s), ${classesPresent(m)}\n`);
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
  const { positionals } = parseCommand('verify', USAGE_OF.verify, argv, {});
  const dir = positionals[0];
  if (!dir) throw new UsageError('verify: missing the dataset folder (the one holding dataset.json)', USAGE_OF.verify);
  if (!dir.startsWith('s3://')) await datasetFolder(dir);
  let report;
  if (dir.startsWith('s3://')) {
    // An object store: its objects are copied to a temporary folder and verified there.
    const local = await mkdtemp(join(tmpdir(), 'synthline-verify-'));
    try {
      const n = await mirrorS3(dir, local);
      if (n === 0) throw new UsageError(`verify: nothing under ${dir}: no dataset there`, USAGE_OF.verify);
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

/** A folder that holds a dataset (its dataset.json), else a usage error saying what it is instead. */
export async function datasetFolder(dir: string): Promise<string> {
  const path = resolve(dir);
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UsageError(`verify: ${dir} does not exist`, USAGE_OF.verify);
  if (!st.isDirectory())
    throw new UsageError(`verify: ${dir} is a file; give the dataset's folder (the one holding dataset.json)`, USAGE_OF.verify);
  if (!(await stat(join(path, 'dataset.json')).catch(() => undefined)))
    throw new UsageError(
      `verify: ${dir} is not a dataset: it has no dataset.json (a dataset is the folder synthline render --out or a job's output wrote)`,
      USAGE_OF.verify,
    );
  return path;
}

/** `synthline assets scan [--library DIR]`: probes each product and saves the results. */
async function assets(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('assets', USAGE_OF.assets, argv, { library: { type: 'string' } });
  if (positionals[0] !== 'scan') {
    throw new UsageError(
      positionals[0] ? `assets: unknown subcommand "${positionals[0]}"; did you mean "scan"?` : 'assets: missing the subcommand "scan"',
      USAGE_OF.assets,
    );
  }
  const root = libraryRoot(values.library);
  if (!root.startsWith('s3://') && !(await stat(root).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(
      `assets scan: there is no asset library at ${resolve(root)}: create it with products/<id>/ folders (a model and a product.json each; README "Bring your own products"), or pass --library DIR`,
      USAGE_OF.assets,
    );
  }
  const lib = await AssetLibrary.open(root);
  process.stderr.write(`scanning ${lib.folders.length} product(s) in ${lib.root}\n`);
  const slot = new RenderSlot();
  let bad = 0;
  try {
    const entries = await scanLibrary(lib, slot, (e) => {
      if (!e.ok) bad++;
      const dims = e.dimensions_m ? ` ${e.dimensions_m.map((d) => (d * 1000).toFixed(1)).join(' x ')} mm` : '';
      const info = e.probe
        ? ` ${e.probe.meshes} mesh(es), ${e.probe.vertices} vertices,${dims}, materials: ${e.probe.material_slots.join(', ') || 'none'}`
        : '';
      process.stdout.write(`${e.ok ? 'ok  ' : 'FAIL'} library:${e.id}${info}\n`);
      for (const err of e.errors) process.stdout.write(`       error: ${err}\n`);
      for (const w of e.warnings) process.stdout.write(`       warning: ${w}\n`);
    });
    // A thumbnail of each usable product, rendered as it will look on the belt (the console shows them).
    const usable = entries.filter((e) => e.ok).map((e) => e.id);
    const failed = await renderThumbnails(lib, slot, usable);
    for (const [id, why] of failed) process.stdout.write(`warning: library:${id} has no thumbnail: ${why}\n`);
    if (usable.length > failed.size)
      process.stdout.write(`thumbnails of ${usable.length - failed.size} product(s) in ${join(lib.root, THUMBNAILS_DIR)}\n`);
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
      case 'evaluate':
        return await (await import('./evaluate-commands.ts')).evaluateCommand(rest);
      case 'assets':
        return await assets(rest);
      case 'serve':
        return await (await service()).serve(rest);
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
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return EXIT.ok;
      case undefined:
        process.stderr.write(`synthline: missing a command\n\n${USAGE}\n`);
        return EXIT.usage;
      default: {
        const near = suggest(cmd, Object.keys(USAGE_OF));
        throw new UsageError(`unknown command "${cmd}"${near ? `; did you mean "${near}"?` : ''} (synthline --help lists them)`);
      }
    }
  } catch (err) {
    return reportError(err);
  }
}

/** Prints an error the way its kind calls for and returns the exit code of {@link EXIT_MEANINGS}. */
function reportError(err: unknown): number {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  if (err instanceof UsageError) {
    say(`error: ${err.message}`);
    if (err.usage) say(`usage:\n${err.usage}`);
    return EXIT.usage;
  }
  if (err instanceof SpecError || err instanceof EnvError) {
    say(err.message);
    return EXIT.usage;
  }
  if (err instanceof UnreachableError) {
    say(`error: ${err.message}`);
    return EXIT.unreachable;
  }
  if (err instanceof ApiError) {
    say(`API error: ${err.message}`);
    // 503: the API is up but its Redis is not; other 5xx: the API failed.
    if (err.status === 503) return EXIT.unreachable;
    return err.status >= 400 && err.status < 500 ? EXIT.usage : EXIT.failed;
  }
  if (err instanceof OutputExistsError || err instanceof BlenderError) {
    say(`error: ${err.message}`);
    if (err instanceof BlenderError && err.logTail.length) say(`Blender's last lines:\n  ${err.logTail.slice(-10).join('\n  ')}`);
    return EXIT.failed;
  }
  say(`error: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT.failed;
}
