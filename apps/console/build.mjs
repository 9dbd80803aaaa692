// Builds the web console into dist/ (git-ignored): web/main.ts bundled and minified by esbuild,
// the page and its style copied, each also gzipped (the API sends .gz to clients that accept it).
// Run by the root package's `postinstall` (so `npm ci` builds it) and by `npm run build:console`.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, 'web/main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css', 'favicon.svg']) await copyFile(join(here, 'web', f), join(dist, f));
const sizes = {};
for (const f of ['index.html', 'app.js', 'style.css', 'favicon.svg']) {
  const bytes = await readFile(join(dist, f));
  const gz = gzipSync(bytes, { level: 9 });
  await writeFile(join(dist, `${f}.gz`), gz);
  sizes[f] = { bytes: bytes.length, gzip: gz.length };
}
await writeFile(join(dist, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
