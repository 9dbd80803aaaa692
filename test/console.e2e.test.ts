// The web console (apps/console) in Debian's Chromium, driven by playwright-core, against a real
// API, a real worker (Blender) and a private Redis: the user paths of issue 15, with screenshots
// of each page kept under test-artifacts/console/ and an axe-core check of each page.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { loadApiEnv, loadWorkerEnv } from '@synthline/config';
import { startApi, type RunningApi } from '@synthline/api';
import { startWorker, type RunningWorker } from '@synthline/worker';
import { startPrivateRedis, type PrivateRedis } from '@synthline/cli/private-redis';
import { ROOT, boxLibrary, cli, tempDir, until } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/console');
const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');

let redis: PrivateRedis;
let api: RunningApi;
let keyed: RunningApi;
let worker: RunningWorker;
let browser: Browser;
let token = '';
/** The job the form submitted and watched complete; the evaluation test reuses it. */
let completedJob = '';

const spec = (over: Record<string, unknown> = {}) => ({
  name: 'console-e2e',
  seed: 5,
  count: 3,
  products: [{ asset: 'builtin:iphone-13' }, { asset: 'builtin:iphone-14-pro' }],
  render: { resolution: [64, 48], samples: 4 },
  output: { shard_size: 2, annotations: { mask: true } },
  ...over,
});

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (scripts/ensure-deps.sh installs it)`);
  assert.ok(existsSync(join(ROOT, 'apps/console/dist/app.js')), 'the console is not built: npm ci (postinstall) or npm run build:console');
  await mkdir(ARTIFACTS, { recursive: true });
  redis = await startPrivateRedis({ appendonly: false });
  const env = {
    // A library with one scanned product (and its thumbnail) for the assets page.
    SYNTHLINE_LIBRARY: await boxLibrary(await tempDir('synthline-console-lib-')),
    REDIS_URL: redis.url,
    SYNTHLINE_PREFIX: `con${process.pid}`,
    SYNTHLINE_OUTPUT: await tempDir('synthline-console-'),
    PORT: '0',
    SYNTHLINE_BATCH_SIZE: '2',
    SYNTHLINE_BATCH_WINDOW: '2',
    LOG_LEVEL: 'silent',
    BLENDER_THREADS: '1',
  };
  api = await startApi(loadApiEnv(env));
  worker = await startWorker(loadWorkerEnv({ ...env, WORKER_ID: 'console-w1' }));
  const made = await cli(['api-key', 'console']);
  assert.equal(made.code, 0, made.all);
  const lines = made.stdout.split('\n').map((l) => l.trim());
  token = lines.find((l) => l.startsWith('sl_')) ?? '';
  const entry = lines.find((l) => l.startsWith('console:')) ?? '';
  keyed = await startApi(loadApiEnv({ ...env, SYNTHLINE_PREFIX: `conk${process.pid}`, SYNTHLINE_API_KEYS: entry }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await worker?.close();
  await keyed?.close();
  await api?.close();
  await redis?.dispose();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  return page;
}

/** axe-core in the page: no serious or critical violations. */
async function checkA11y(page: Page, what: string): Promise<void> {
  await page.evaluate(await readFile(AXE, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }
    ).axe;
    const r = await axe.run();
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: accessibility violations ${JSON.stringify(bad)}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function fillSpec(page: Page, text: string): Promise<void> {
  await page.goto(`${api.url}/#/new`);
  await page.locator('#spec-editor').fill(text);
}

test('the console is served at / with a strict CSP, gzipped, open without a key; the API behind it is not', async () => {
  const res = await fetch(`${keyed.url}/`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await res.text(), /<script type="module" src="\/console\/app.js">/);
  const js = await fetch(`${keyed.url}/console/app.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-encoding'), 'gzip');
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`${keyed.url}/console/secrets.txt`)).status, 404, 'the console serves its own files only');
  assert.equal((await fetch(`${keyed.url}/v1/jobs`)).status, 401);
});

test('submit a job from the form, watch it reach 100%, and find each box drawn where its label says', async () => {
  const page = await newPage();
  await fillSpec(page, JSON.stringify(spec(), null, 2));
  // The class balance from the planner, before submitting.
  await page.locator('#check-spec').click();
  await page.locator('#class-balance tbody tr').first().waitFor();
  const check = (await (
    await fetch(`${api.url}/v1/specs/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec()),
    })
  ).json()) as { exact: boolean; classes: { name: string; expected: number }[] };
  assert.equal(check.exact, true);
  assert.equal(
    check.classes.reduce((n, c) => n + c.expected, 0),
    3,
  );
  for (const c of check.classes)
    assert.equal(await page.locator(`#class-balance tr[data-class="${c.name}"] td.num`).first().textContent(), String(c.expected));
  await checkA11y(page, 'new job page');
  await shot(page, 'new-job');
  await page.locator('#submit-job').click();
  await page.waitForURL(/#\/jobs\/[A-Za-z0-9]{12}$/);
  const id = (/#\/jobs\/([A-Za-z0-9]{12})$/.exec(page.url()) as RegExpExecArray)[1] as string;
  // The page follows the event stream: the bar reaches 100% without a reload.
  await page.locator('progress[data-percent="100"]').waitFor({ timeout: 300_000 });
  await page.locator('h1 .status-completed').waitFor({ timeout: 120_000 });
  assert.match((await page.locator('#progress-text').textContent()) ?? '', /3 of 3 frames done, 0 failed/);
  completedJob = id;
  for (let i = 0; i < 3; i++) await page.locator(`figure.sample[data-index="${i}"][data-loaded="yes"]`).waitFor({ timeout: 60_000 });
  await page.locator('img.contact').waitFor({ timeout: 30_000 });
  await checkA11y(page, 'job page');
  await shot(page, 'job');

  for (let i = 0; i < 3; i++) {
    const label = (await (await fetch(`${api.url}/v1/jobs/${id}/samples/${i}/label`)).json()) as {
      bbox: number[] | null;
      image: { width: number };
    };
    assert.ok(label.bbox, `frame ${i} shows its product`);
    const fig = page.locator(`figure.sample[data-index="${i}"]`);
    const rect = fig.locator('rect.bbox');
    assert.deepEqual(
      await rect.evaluate((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)))),
      label.bbox,
      'the overlay box is the label bbox',
    );
    // And on screen: where the label's pixels are in the displayed image.
    const img = await fig.locator('.sample-frame img').first().boundingBox();
    const box = await rect.boundingBox();
    assert.ok(img && box);
    const scale = img.width / label.image.width;
    const [x, y, w, h] = label.bbox;
    for (const [got, want] of [
      [box.x, img.x + (x as number) * scale],
      [box.y, img.y + (y as number) * scale],
      [box.width, (w as number) * scale],
      [box.height, (h as number) * scale],
    ] as const)
      assert.ok(Math.abs(got - want) <= 2, `frame ${i}: box at ${JSON.stringify(box)}, image ${JSON.stringify(img)}, label ${label.bbox}`);
  }
  // The mask overlay is there, hidden until asked for.
  // Annotations lay over the frames on request: the mask, and a note where one was not rendered.
  await page.locator('#overlay').selectOption('mask');
  await page.locator('figure.sample[data-index="0"] img.overlay-mask').waitFor({ state: 'visible' });
  await checkA11y(page, 'job page with an overlay');
  await shot(page, 'job-overlay');
  await page.locator('#overlay').selectOption('depth');
  await page.locator('figure.sample[data-index="0"] .overlay-missing', { hasText: 'no depth rendered' }).waitFor();
  assert.equal(await page.locator('figure.sample img.overlay').count(), 0);
  await page.locator('#overlay').selectOption('none');
  // The overlay is the mask: opaque exactly where the mask is set.
  const mask = await (await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/mask`)).arrayBuffer();
  const over = await (await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/mask?view=overlay`)).arrayBuffer();
  const m = await sharp(Buffer.from(mask)).toColourspace('b-w').raw().toBuffer();
  const o = await sharp(Buffer.from(over)).ensureAlpha().raw().toBuffer();
  assert.ok(m.some((x) => x > 0));
  for (let k = 0; k < m.length; k++) assert.equal((o[k * 4 + 3] ?? 0) > 0, (m[k] ?? 0) > 0, `pixel ${k}`);
  const bad = await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/mask?view=pretty`);
  assert.equal(bad.status, 400);
  // The manifest opens through the API.
  const manifest = await fetch(`${api.url}/v1/jobs/${id}/files/dataset.json`);
  assert.equal(manifest.status, 200);
  assert.equal(((await manifest.json()) as { shards: unknown[] }).shards.length, 2);
  await page.close();
});

test('preview a spec: its first frames, small, shown with their boxes before anything is submitted', async () => {
  const page = await newPage();
  await fillSpec(page, JSON.stringify(spec({ name: 'console-look', count: 50, render: { resolution: [320, 240], samples: 4 } }), null, 2));
  await page.locator('#preview-spec').click();
  for (let i = 0; i < 4; i++)
    await page.locator(`#preview figure.sample[data-index="${i}"][data-loaded="yes"]`).waitFor({ timeout: 300_000 });
  await page.locator('#preview-status', { hasText: 'Preview rendered.' }).waitFor({ timeout: 60_000 });
  // Small: the preview's size, not the spec's; a box drawn on each frame that shows its product.
  const size = await page.locator('#preview figure.sample[data-index="0"] .sample-frame img').first().getAttribute('width');
  assert.equal(size, '160');
  assert.ok((await page.locator('#preview rect.bbox').count()) >= 1, 'boxes are drawn over the preview');
  assert.match(page.url(), /#\/new$/, 'still on the new-job page: nothing was submitted');
  await checkA11y(page, 'new job page with a preview');
  await shot(page, 'preview');
  await page.close();
});

test('the gallery routes answer 400 out of range and 404 for what does not exist', async () => {
  const res = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec({ count: 1 })),
  });
  const { id } = (await res.json()) as { id: string };
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/samples/5/label`)).status, 400);
  assert.equal((await fetch(`${api.url}/v1/jobs/AAAAAAAAAAAA/samples/0/label`)).status, 404);
  assert.equal((await fetch(`${api.url}/v1/jobs/AAAAAAAAAAAA/spec`)).status, 404);
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/normals`)).status, 400);
  const spec0 = (await (await fetch(`${api.url}/v1/jobs/${id}/spec`)).json()) as { name: string; count: number };
  assert.deepEqual([spec0.name, spec0.count], ['console-e2e', 1]);
  await until(
    'the one-frame job finishes',
    async () => ((await (await fetch(`${api.url}/v1/jobs/${id}`)).json()) as { status: string }).status === 'completed',
    300_000,
  );
  const label = await fetch(`${api.url}/v1/jobs/${id}/samples/0/label`);
  assert.equal(label.status, 200);
  assert.equal(((await label.json()) as { index: number }).index, 0);
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/depth`)).status, 404, 'depth was not asked for');
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/samples/0/annotations/mask`)).headers.get('content-type'), 'image/png');
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/files/other.tar`)).status, 404);
  assert.equal((await fetch(`${api.url}/v1/jobs/${id}/files/..%2Fx`)).status, 400);
});

test('a bad field is refused and its problem shows beside its line', async () => {
  const page = await newPage();
  const text = JSON.stringify(spec({ render: { resolution: [64, 48], samples: -3 } }), null, 2);
  await fillSpec(page, text);
  // Checking finds the same problem as submitting.
  await page.locator('#check-spec').click();
  await page.locator('.field-error[data-path="render.samples"]').waitFor();
  await page.locator('#submit-job').click();
  const err = page.locator('.field-error[data-path="render.samples"]');
  await err.waitFor();
  const line = Number(await err.evaluate((e) => (e.parentElement as unknown as { dataset: { line: string } }).dataset.line));
  assert.match(text.split('\n')[line - 1] as string, /"samples": -3/, 'the problem is on the line of the field');
  assert.match((await page.locator('[role="alert"]').textContent()) ?? '', /Refused \(400\)/);
  await checkA11y(page, 'new job page with problems');
  await shot(page, 'new-job-invalid');
  await page.close();
});

test('a job is cancelled from the list; the workers and assets pages show the fleet and library', async () => {
  const res = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec({ name: 'to-cancel', count: 400, render: { resolution: [32, 32], samples: 1 } })),
  });
  const { id } = (await res.json()) as { id: string };
  const page = await newPage();
  await page.goto(`${api.url}/#/jobs`);
  await page.locator(`tr[data-job="${id}"]`).waitFor();
  await checkA11y(page, 'jobs page');
  await shot(page, 'jobs');
  await page.locator(`button[data-cancel="${id}"]`).click();
  await page.locator(`tr[data-job="${id}"][data-status="cancelled"]`).waitFor();
  assert.equal(((await (await fetch(`${api.url}/v1/jobs/${id}`)).json()) as { status: string }).status, 'cancelled');
  // The status filter lists only the cancelled job.
  await page.locator('#status-filter').selectOption('cancelled');
  await page.waitForURL(/status=cancelled/);
  // The unfiltered table stays until the filtered page arrives: wait for that one.
  await page.locator(`tr[data-job="${id}"]`).waitFor();
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('tr[data-job]')
        .length === 1,
  );

  await page.goto(`${api.url}/#/workers`);
  await page.locator('tr[data-worker="console-w1"] .status-live').waitFor();
  await checkA11y(page, 'workers page');
  await shot(page, 'workers');
  await page.goto(`${api.url}/#/assets`);
  await page.locator('h1', { hasText: 'Assets' }).waitFor();
  // The scan's thumbnail of the product, as the API serves it.
  const thumb = page.locator('td.thumb[data-asset="library:box"] img');
  await thumb.waitFor();
  // Loaded, at the size the API serves (the page may not read a blob: back under its CSP).
  await thumb.evaluate(
    (img) =>
      new Promise<void>((done) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number; addEventListener(e: string, f: () => void): void };
        if (i.complete && i.naturalWidth > 0) done();
        else i.addEventListener('load', () => done());
      }),
  );
  const natural = await thumb.evaluate((img) => (img as unknown as { naturalWidth: number; naturalHeight: number }).naturalWidth);
  const served = await sharp(Buffer.from(await (await fetch(`${api.url}/v1/assets/box/thumbnail`)).arrayBuffer())).metadata();
  assert.equal(natural, served.width);
  assert.equal(served.width, 160);
  await checkA11y(page, 'assets page');
  await shot(page, 'assets');
  await page.close();
});

test('with keys configured the console asks for one, refuses a wrong one and works with the right one', async () => {
  const page = await newPage();
  await page.goto(`${keyed.url}/#/jobs`);
  await page.locator('#key-form').waitFor();
  await checkA11y(page, 'key page');
  await shot(page, 'key');
  await page.locator('#key-input').fill('sl_not_the_key');
  await page.locator('#key-form button').click();
  await page.locator('#key-help.error').waitFor();
  await page.locator('#key-input').fill(token);
  await page.locator('#key-form button').click();
  await page.locator('h1', { hasText: 'Jobs' }).waitFor();
  assert.equal(
    await page.evaluate(() =>
      (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('synthline.apiKey'),
    ),
    token,
  );
  await page.close();
});

test("evaluate a completed job from its page: the evaluation's progress, then its report drawn from report.json, and the list", async () => {
  assert.ok(completedJob, 'the form test completed a job to evaluate');
  const page = await newPage();
  await page.goto(`${api.url}/#/jobs/${completedJob}`);
  await page.locator('#evaluate-form').waitFor();
  // A test set that does not exist: refused, and the problem is shown beside the field.
  await page.locator('#eval-test').fill('AAAAAAAAAAAA');
  await page.locator('#evaluate-submit').click();
  await page.locator('#eval-test-error[data-path="test.job"]').waitFor();
  assert.equal(await page.locator('#eval-test').getAttribute('aria-invalid'), 'true');
  assert.match((await page.locator('#evaluate-result [role="alert"]').textContent()) ?? '', /Refused \(404\)/);
  // Against itself: the probe is tested on the samples it trained on.
  await page.locator('#eval-test').fill(completedJob);
  await page.locator('#eval-target').selectOption('model');
  await page.locator('#eval-epochs').fill('2');
  await page.locator('#evaluate-submit').click();
  await page.waitForURL(/#\/evaluations\/[A-Za-z0-9]{12}$/);
  const id = (/#\/evaluations\/([A-Za-z0-9]{12})$/.exec(page.url()) as RegExpExecArray)[1] as string;
  // Followed live: completed, both epochs, and the report, without a reload.
  await page.locator('h1 .status-completed').waitFor({ timeout: 120_000 });
  await page.locator('#eval-accuracy').waitFor({ timeout: 30_000 });
  assert.match((await page.locator('.epochs').textContent()) ?? '', /epoch 2\/2/);
  const report = (await (await fetch(`${api.url}/v1/evaluations/${id}/report.json`)).json()) as {
    target: string;
    classes: string[];
    accuracy: { accuracy: number; n: number };
    confusion: number[][];
  };
  assert.equal(report.target, 'model');
  assert.equal(report.accuracy.n, 3);
  const shown = page.locator('#eval-accuracy');
  assert.equal(Number(await shown.getAttribute('data-accuracy')), report.accuracy.accuracy);
  assert.match((await shown.textContent()) ?? '', new RegExp(`Accuracy ${(report.accuracy.accuracy * 100).toFixed(1)}%`));
  for (const [i, counts] of report.confusion.entries())
    for (const [j, n] of counts.entries())
      assert.equal(
        await page.locator(`#confusion td[data-true="${i}"][data-pred="${j}"]`).textContent(),
        String(n),
        `confusion[${i}][${j}]`,
      );
  assert.equal(await page.locator('#per-class tbody tr').count(), report.classes.length);
  await checkA11y(page, 'evaluation page');
  await shot(page, 'evaluation');
  // report.json opens in a tab, fetched with the key as a blob.
  const [tab] = await Promise.all([page.context().waitForEvent('page'), page.locator('button[data-file="report.json"]').click()]);
  await tab.waitForLoadState();
  assert.match(await tab.content(), /synthline\.evaluation\/1/);
  await tab.close();

  await page.goto(`${api.url}/#/evaluations`);
  const row = page.locator(`tr[data-evaluation="${id}"][data-status="completed"]`);
  await row.waitFor();
  assert.equal(Number(await row.locator('td[data-accuracy]').getAttribute('data-accuracy')), report.accuracy.accuracy);
  assert.equal(await page.locator('[data-nav="evaluations"]').getAttribute('aria-current'), 'page');
  await checkA11y(page, 'evaluations page');
  await shot(page, 'evaluations');
  await page.close();
});
