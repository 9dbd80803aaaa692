import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { ROOT } from './helpers.ts';

// The layering check of `.ci/run` (`npm run layering`: dependency-cruiser with
// .dependency-cruiser.mjs) passes on the tree as it is, and fails, naming the rule, on a copy of
// the tree with a forbidden import added.

const CRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Runs the check as `npm run layering` does, in `dir`; its exit code and report. */
async function layering(dir: string): Promise<{ code: number; report: string }> {
  const r = await execa('node', [CRUISE, '--config', '.dependency-cruiser.mjs', '--output-type', 'err', 'packages', 'apps'], {
    cwd: dir,
    reject: false,
    all: true,
  });
  return { code: r.exitCode ?? -1, report: r.all ?? '' };
}

let copy: string;

/**
 * A copy of the workspace (packages/, apps/, the configs) whose node_modules links the copy's own
 * workspaces and the real tree's npm packages, so an import added to the copy resolves in it.
 */
before(async () => {
  copy = await mkdtemp(join(tmpdir(), 'synthline-layering-'));
  for (const f of ['packages', 'apps'])
    await cp(join(ROOT, f), join(copy, f), { recursive: true, filter: (src) => !src.includes('node_modules') });
  for (const f of ['.dependency-cruiser.mjs', 'tsconfig.json', 'package.json']) await cp(join(ROOT, f), join(copy, f));
  await mkdir(join(copy, 'node_modules', '@synthline'), { recursive: true });
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry !== '@synthline' && entry !== '.bin') await symlink(join(ROOT, 'node_modules', entry), join(copy, 'node_modules', entry));
  }
  for (const kind of ['packages', 'apps']) {
    for (const name of await readdir(join(copy, kind))) {
      const manifest = JSON.parse(await readFile(join(copy, kind, name, 'package.json'), 'utf8')) as { name: string };
      await symlink(join(copy, kind, name), join(copy, 'node_modules', manifest.name));
    }
  }
});

after(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

/** Writes a file into the copy. */
async function put(rel: string, text: string): Promise<void> {
  await mkdir(dirname(join(copy, rel)), { recursive: true });
  await writeFile(join(copy, rel), text);
}

/** Adds workspace dependencies to a package.json of the copy. */
async function declare(dir: string, ...names: string[]): Promise<void> {
  const path = join(copy, dir, 'package.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { dependencies?: Record<string, string> };
  manifest.dependencies = { ...manifest.dependencies, ...Object.fromEntries(names.map((n) => [n, '*'])) };
  await writeFile(path, JSON.stringify(manifest, null, 2));
}

test('the layering check passes on the tree', async () => {
  const { code, report } = await layering(ROOT);
  assert.equal(code, 0, report);
  assert.match(report, /no dependency violations found/);
});

test('an import the layering does not allow fails the check, naming the rule', async () => {
  // planner and sensor are peers (one layer): declaring the dependency does not make it allowed.
  await declare('packages/planner', '@synthline/sensor');
  await put('packages/planner/src/probe-peer.ts', "export { applySensor } from '@synthline/sensor';\n");
  const { code, report } = await layering(copy);
  assert.notEqual(code, 0, report);
  assert.match(report, /error layer-order: packages\/planner\/src\/probe-peer\.ts → packages\/sensor\/src\/index\.ts/);
  assert.doesNotMatch(report, /undeclared-workspace-dependency/);
  await rm(join(copy, 'packages/planner/src/probe-peer.ts'));
});

test('each rule names its violation', async () => {
  const probes: [rule: string, file: string, text: string][] = [
    // A lower layer, but not declared in pipeline's package.json.
    ['undeclared-workspace-dependency', 'packages/pipeline/src/probe-undeclared.ts', "export { FileStorage } from '@synthline/storage';\n"],
    ['packages-not-to-apps', 'packages/base/src/probe-app.ts', "export { buildApp } from '../../../apps/api/src/app.ts';\n"],
    ['apps-not-to-apps', 'apps/worker/src/probe-api.ts', "export { buildApp } from '../../api/src/app.ts';\n"],
    ['no-non-package-json', 'packages/spec/src/probe-npm.ts', "export { Queue } from 'bullmq';\n"],
    ['no-circular', 'packages/base/src/probe-cycle-a.ts', "import { b } from './probe-cycle-b.ts';\nexport const a = () => b;\n"],
    ['not-to-unresolvable', 'packages/shards/src/probe-missing.ts', "export { gone } from './no-such-file.ts';\n"],
  ];
  await put('packages/base/src/probe-cycle-b.ts', "import { a } from './probe-cycle-a.ts';\nexport const b = () => a;\n");
  for (const [, file, text] of probes) await put(file, text);
  const { code, report } = await layering(copy);
  assert.notEqual(code, 0, report);
  for (const [rule, file] of probes) {
    assert.ok(
      report.split('\n').some((line) => line.includes(`error ${rule}: ${file}`)),
      `${rule} is reported for ${file}:\n${report}`,
    );
  }
  // Nothing of the real tree is reported.
  for (const line of report.split('\n').filter((l) => /^\s*error /.test(l))) assert.match(line, /probe-/, line);
});
