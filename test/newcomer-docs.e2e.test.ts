// What a newcomer looks at in their first hour, beyond the CLI: the contact sheet of a first
// small render, and the API's OpenAPI document at /docs/json (issue 17).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import sharp from 'sharp';
import { Manifest, SampleLabel } from '@synthline/spec';
import { CONTACT_SHEET_FILE, layoutCaptions, MIN_CAPTION_WIDTH } from '@synthline/pipeline';
import { readTar } from '@synthline/shards';
import { freePort, startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { CLI, ROOT, cli, tempDir, until } from './helpers.ts';

let redis: PrivateRedis | undefined;
let api: ResultPromise | undefined;
after(async () => {
  api?.kill('SIGTERM');
  await api?.catch(() => undefined);
  await redis?.dispose();
});

test('the contact sheet of a 96x72 render: 96 px tiles whose captions stay inside them; the shards hold no part of it', async () => {
  const work = await tempDir();
  const specPath = join(work, 'spec.json');
  await writeFile(specPath, JSON.stringify({ name: 't', seed: 3, count: 6, render: { resolution: [96, 72], samples: 4 } }));
  const r = await cli(['render', specPath, '--out', join(work, 'out')]);
  assert.equal(r.code, 0, r.all);
  const dir = join(work, 'out');
  const manifest = Manifest.parse(JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8')));
  assert.equal(manifest.contact_sheet, CONTACT_SHEET_FILE);

  // The captions are the samples' classes as their labels name them; the shards carry images,
  // labels and class indices only.
  const captions: string[][] = [];
  for (const s of manifest.shards) {
    for await (const sample of readTar(join(dir, s.name))) {
      assert.deepEqual(
        sample.members.map((m) => m.ext),
        ['png', 'json', 'cls'],
      );
      const label = SampleLabel.parse(JSON.parse(sample.members[1]?.data.toString() ?? ''));
      captions.push([label.attributes.model, `${label.attributes.color} / ${label.attributes.side} up`]);
    }
  }
  assert.equal(captions.length, 6);

  const thumb = 96; // the larger side of the images
  const layout = layoutCaptions(captions, thumb);
  const lineCount = Math.max(2, ...layout.lines.map((l) => l.length));
  const cellW = Math.max(thumb, MIN_CAPTION_WIDTH) + 4;
  const cellH = thumb + lineCount * layout.lineHeight + 8 + 4;
  const { data, info } = await sharp(join(dir, CONTACT_SHEET_FILE)).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.format, 'raw');
  assert.deepEqual([info.width, info.height], [3 * cellW, 2 * cellH], '3 x 2 tiles of 96 px with their captions');
  for (const [i, lines] of layout.lines.entries()) {
    assert.ok(lines.join(' ').includes(captions[i]?.[1]?.split(' / ')[1] ?? '?'), `caption ${i} keeps its side: ${lines.join(' | ')}`);
  }

  // Caption text is light on a dark ground; none of it spills into the gutters between tiles.
  const luma = (x: number, y: number) => {
    const o = (y * info.width + x) * info.channels;
    return ((data[o] ?? 0) + (data[o + 1] ?? 0) + (data[o + 2] ?? 0)) / 3;
  };
  let brightest = 0;
  let textSeen = 0;
  for (let row = 0; row < 2; row++) {
    for (let y = row * cellH + 2 + thumb; y < (row + 1) * cellH; y++) {
      for (let col = 0; col < 3; col++) {
        for (let x = col * cellW; x < (col + 1) * cellW; x++) {
          const l = luma(x, y);
          const inGutter = x - col * cellW < 2 || x - col * cellW >= cellW - 3;
          if (inGutter) brightest = Math.max(brightest, l);
          else if (l > 150) textSeen++;
        }
      }
    }
  }
  assert.ok(textSeen > 100, 'the captions are drawn');
  assert.ok(brightest < 90, `no caption reaches the gutters between tiles (brightest there: ${brightest})`);
});

test('/docs/json lists each schema once, with no made-up ±9007199254740991 integer bounds', async () => {
  redis = await startPrivateRedis({ appendonly: false });
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('SYNTHLINE_API_KEYS')) env[k] = v;
  // A real `synthline serve`, keyless on loopback: the docs are open there.
  api = execa('node', [CLI, 'serve'], {
    cwd: ROOT,
    extendEnv: false,
    reject: false,
    all: true,
    env: {
      ...env,
      REDIS_URL: redis.url,
      SYNTHLINE_PREFIX: `docs-${process.pid}`,
      SYNTHLINE_OUTPUT: await tempDir('synthline-docs-'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await until('the API to answer', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok, 60_000);

  const res = await fetch(`${url}/docs/json`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes('9007199254740991'), 'no Number.MAX_SAFE_INTEGER bounds');
  const doc = JSON.parse(text) as {
    paths: Record<string, unknown>;
    components: { schemas: Record<string, { title?: string; properties?: Record<string, unknown> }> };
  };
  const schemas = doc.components.schemas;
  const names = Object.keys(schemas);
  assert.ok(names.length >= 5, names.join(', '));

  // Each schema once: by name (no "X" beside "XInput"), by title, and by body.
  for (const name of names) assert.ok(!(name.endsWith('Input') && name.slice(0, -5) in schemas), `${name} beside ${name.slice(0, -5)}`);
  const titles = Object.values(schemas).flatMap((s) => (s.title ? [s.title] : []));
  assert.equal(new Set(titles).size, titles.length, `titles: ${titles.join(', ')}`);
  const bodies = new Map<string, string>();
  for (const [name, s] of Object.entries(schemas)) {
    const body = JSON.stringify(s);
    assert.ok(!bodies.has(body), `${name} repeats ${bodies.get(body)}`);
    bodies.set(body, name);
  }

  // Every listed schema is used, every reference resolves; real bounds stay.
  const refs = new Set([...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string));
  assert.deepEqual(
    [...refs].filter((r) => !(r in schemas)),
    [],
    'every $ref resolves',
  );
  assert.deepEqual(
    names.filter((n) => !refs.has(n)),
    [],
    'every schema listed is referred to',
  );
  assert.match(JSON.stringify(doc.paths['/v1/jobs']), /"#\/components\/schemas\/JobSpec"/, 'POST /v1/jobs takes a JobSpec');
  assert.deepEqual((schemas.JobSpec?.properties?.count as { minimum?: number } | undefined)?.minimum, 1, 'a spec counts at least 1 frame');
});
