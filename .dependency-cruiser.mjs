// The import rules of the workspace, checked by dependency-cruiser in `.ci/run` (scripts/test.sh:
// `npm run layering`). A package reaches only downwards: to the packages of lower layers that its
// package.json declares, and to the npm packages it declares; apps sit on top of the packages.
//
// Layers, lowest first (a package imports only from layers below its own, never a peer):
//   base      helpers that depend on nothing but Node (atomic writes, the seeded stream, ...)
//   spec      the contracts: zod schemas of jobs, frame plans, labels, manifests
//   config    settings read from the environment
//   domain    planner, blender, sensor, shards, storage, jobs, metrics: one concern each
//   library   the asset library (storage, blender)   queue: BullMQ wiring (jobs)
//   pipeline  frames -> samples -> dataset
//   mix       real photos mixed with rendered datasets
//   evaluate  a probe classifier trained on a set and tested on another (the Python runner)
//   apps      api and worker, each a shell over the packages; they never import each other
//   cli       the synthline command: composes api and worker (`demo`, `serve`, `worker`)
//   console   the web page the API serves (a browser bundle): it imports the API's types only
//
// The rules read each workspace's package.json, so declaring a dependency there is what lets a
// package import another; a new package gets a place in LAYERS below (an unplaced one fails).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @type {string[][]} workspace folder names (packages/<name>, apps/<name>), lowest layer first */
const LAYERS = [
  ['base'],
  ['spec'],
  ['config'],
  ['planner', 'blender', 'sensor', 'shards', 'storage', 'jobs', 'metrics'],
  ['library', 'queue'],
  ['pipeline'],
  ['mix'],
  ['evaluate'],
  ['api', 'worker'],
  ['cli', 'console'],
];

/** The workspace root: this file's folder (depcruise reports paths relative to where it runs, also here). */
const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** Every workspace: its folder (packages/x or apps/x), folder name, npm name and declared dependencies. */
const workspaces = ['packages', 'apps'].flatMap((kind) =>
  readdirSync(join(ROOT, kind), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, kind, d.name, 'package.json')))
    .map((d) => {
      const manifest = JSON.parse(readFileSync(join(ROOT, kind, d.name, 'package.json'), 'utf8'));
      return { dir: `${kind}/${d.name}`, folder: d.name, name: manifest.name, deps: Object.keys(manifest.dependencies ?? {}) };
    }),
);

const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));
const unplaced = workspaces.filter((w) => !layerOf.has(w.folder)).map((w) => w.dir);
if (unplaced.length > 0) throw new Error(`.dependency-cruiser.mjs: give ${unplaced.join(', ')} a layer in LAYERS`);

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A path regex matching the files of these workspaces. */
const inWorkspaces = (ws) => `^(?:${ws.map((w) => escapeRegex(w.dir)).join('|')})/`;
const byName = new Map(workspaces.map((w) => [w.name, w]));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that cannot be understood, tested or loaded one without the other.',
      from: {},
      // A cycle closed only by `import type` is erased at run time (spec: products -> job-spec's JobSpec type).
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'packages-not-to-apps',
      severity: 'error',
      comment: 'Packages are shared by the apps; an app is never a dependency of a package.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-not-to-apps',
      severity: 'error',
      comment: 'The API and the worker are separate processes sharing only packages; only the CLI composes them.',
      from: { path: '^apps/([^/]+)/', pathNot: '^apps/(?:cli|console)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'console-types-only',
      severity: 'error',
      comment: 'The web console runs in a browser: of the API it imports types only (erased from its bundle), never code.',
      from: { path: '^apps/console/' },
      to: { path: '^apps/(?!console/)', dependencyTypesNot: ['type-only'] },
    },
    // One rule per workspace: it imports itself and the workspaces its package.json declares.
    ...workspaces.map((w) => {
      const allowed = [w, ...w.deps.map((d) => byName.get(d)).filter((d) => d !== undefined)];
      return {
        name: 'undeclared-workspace-dependency',
        severity: 'error',
        comment: `${w.dir} imports a workspace package its package.json does not declare: add it to "dependencies" (if the layers allow it).`,
        from: { path: inWorkspaces([w]) },
        to: { path: '^(?:packages|apps)/', pathNot: inWorkspaces(allowed) },
      };
    }),
    // One rule per layer: its workspaces import none of their own layer (but themselves) or above.
    ...LAYERS.map((names, i) => ({
      name: 'layer-order',
      severity: 'error',
      comment: `${names.join(', ')} (layer ${i}) import only from lower layers (LAYERS in .dependency-cruiser.mjs).`,
      from: { path: `^((?:packages|apps)/(?:${names.map(escapeRegex).join('|')}))/` },
      to: { path: inWorkspaces(workspaces.filter((w) => (layerOf.get(w.folder) ?? 0) >= i)), pathNot: '^$1/' },
    })),
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: "An npm package imported without being declared in the closest package.json (the workspace's own).",
      from: { path: '^(?:packages|apps)/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports tie packages together as much as the others.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Workspace packages resolve through their package.json `exports` to their TypeScript sources.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    combinedDependencies: false,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
