// The synthline web console: a page of the API itself (same origin), routed by the URL's hash.
// It speaks only the public REST API, with the API key the user enters once (kept in
// sessionStorage for this browser session) as a bearer token; without keys (loopback mode) it
// sends none. Types are the API's own, imported as types only (erased from the bundle).
import type { EvaluationPage, EvaluationView, JobView } from '@synthline/api';
import type { EvaluationReport } from '@synthline/evaluate';
import type { WorkerList } from '@synthline/jobs';
import type { SampleLabel } from '@synthline/spec';
import { duration, jsonPathLines, lineOfPath, parseSse, percent, setName } from './util.ts';

/** What `GET /v1/jobs` answers (JobPage of the API). */
interface JobPage {
  items: JobView[];
  total: number;
  limit: number;
  next_cursor: string | null;
}

/** What `POST /v1/specs/check` answers (SpecCheck of the API). */
interface SpecCheck {
  count: number;
  planned: number;
  exact: boolean;
  classes: { index: number; name: string; expected: number; share: number }[];
}

const KEY = 'synthline.apiKey';
const main = document.getElementById('main') as HTMLElement;

/** Raised when the API answers 401: the page then asks for a key. */
class NeedKey extends Error {}

/** An RFC 9457 problem the API answered. */
class Problem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: { path: string; message: string }[],
  ) {
    super(detail);
  }
}

// ---------------------------------------------------------------- the API

function authHeaders(): Record<string, string> {
  const key = sessionStorage.getItem(KEY);
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string>) } });
  if (res.status === 401) throw new NeedKey('this API needs an API key');
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    let errors: { path: string; message: string }[] = [];
    try {
      const p = (await res.json()) as { detail?: string; errors?: { path: string; message: string }[] };
      detail = p.detail ?? detail;
      errors = p.errors ?? [];
    } catch {
      // not a problem document
    }
    throw new Problem(res.status, detail, errors);
  }
  return res;
}

async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

/** A blob: URL of something only a keyed request may fetch (images, files). */
async function blobUrl(path: string, signal?: AbortSignal): Promise<string> {
  const res = await request(path, signal ? { signal } : {});
  return URL.createObjectURL(await res.blob());
}

/**
 * Follows a job's event stream. EventSource cannot send the bearer key, so the stream is read
 * with fetch() and parsed here. Ends at the `end` event or when `signal` aborts.
 */
function follow(id: string, signal: AbortSignal, onView: (event: string, view: JobView) => void): Promise<void> {
  return followEvents<JobView>(`/v1/jobs/${id}/events`, signal, onView);
}

// ---------------------------------------------------------------- DOM helpers

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | number> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
const statusBadge = (s: string) => h('span', { class: `status status-${s}` }, s);
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function progressBar(v: JobView): HTMLProgressElement {
  const total = Math.max(1, v.progress.frames_total);
  const done = v.progress.frames_done + v.progress.frames_failed;
  return h('progress', {
    max: total,
    value: done,
    'aria-label': `${v.name}: ${done} of ${v.progress.frames_total} frames`,
    'data-percent': Math.round((100 * done) / total),
  });
}

function showError(err: unknown): void {
  if (err instanceof NeedKey) {
    askForKey();
    return;
  }
  if (err instanceof DOMException && err.name === 'AbortError') return;
  main.replaceChildren(
    h('h1', {}, 'Something went wrong'),
    h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)),
  );
}

function renderKeyState(): void {
  const state = document.getElementById('key-state') as HTMLElement;
  if (!sessionStorage.getItem(KEY)) {
    state.replaceChildren();
    return;
  }
  const forget = h('button', { type: 'button' }, 'Forget key');
  forget.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    renderKeyState();
    void route();
  });
  state.replaceChildren('API key set', forget);
}

function askForKey(): void {
  const wrong = sessionStorage.getItem(KEY) !== null;
  const input = h('input', { id: 'key-input', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'key-help' });
  const form = h(
    'form',
    { class: 'key-form', id: 'key-form' },
    h('label', { for: 'key-input' }, 'API key'),
    h(
      'p',
      { id: 'key-help', class: wrong ? 'error' : 'muted' },
      wrong
        ? 'That key was refused. Enter a valid one.'
        : 'This API needs an API key (made with "synthline api-key <name>"). It is kept for this browser session only.',
    ),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Use key'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    renderKeyState();
    void route();
  });
  main.replaceChildren(h('h1', {}, 'API key needed'), form);
  input.focus();
}

// ---------------------------------------------------------------- pages

/** Aborted when the user leaves the page: its streams and timers stop. */
let page = new AbortController();

async function jobsPage(params: URLSearchParams): Promise<void> {
  const status = params.get('status') ?? '';
  const cursor = params.get('cursor') ?? '';
  const signal = page.signal;
  const q = new URLSearchParams({ limit: '10', ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
  const data = await getJson<JobPage>(`/v1/jobs?${q}`, { signal });

  const filter = h(
    'select',
    { id: 'status-filter' },
    ...['', 'queued', 'running', 'completed', 'failed', 'cancelled'].map((s) =>
      h('option', { value: s, selected: s === status }, s || 'all'),
    ),
  );
  filter.addEventListener('change', () => {
    location.hash = `#/jobs${filter.value ? `?status=${filter.value}` : ''}`;
  });
  const row = (v: JobView): HTMLTableRowElement => {
    const cancel = h(
      'button',
      { type: 'button', class: 'danger', 'data-cancel': v.id, 'aria-label': `Cancel ${v.name} (${v.id})` },
      'Cancel',
    );
    cancel.addEventListener(
      'click',
      () =>
        void cancelJob(v.id)
          .then((nv) => update(nv))
          .catch(showError),
    );
    const failures = v.progress.frames_failed > 0 ? h('span', { class: 'error' }, String(v.progress.frames_failed)) : '0';
    return h(
      'tr',
      { 'data-job': v.id, 'data-status': v.status },
      h('td', {}, h('a', { href: `#/jobs/${v.id}` }, v.name), h('br'), h('span', { class: 'muted' }, v.id)),
      h('td', {}, statusBadge(v.status)),
      h('td', {}, progressBar(v), ` ${v.progress.frames_done}/${v.progress.frames_total}`),
      h('td', { class: 'num' }, failures),
      h('td', { class: 'num' }, v.frames_per_s === null ? '—' : v.frames_per_s.toFixed(2)),
      h('td', { class: 'num' }, FINAL.has(v.status) ? '—' : duration(v.eta_s)),
      h('td', {}, when(v.created_at)),
      h('td', {}, FINAL.has(v.status) ? '' : cancel),
    );
  };
  const { body, update } = tableRows(data.items, row);
  const next = data.next_cursor
    ? h('a', { href: `#/jobs?${new URLSearchParams({ ...(status ? { status } : {}), cursor: data.next_cursor })}` }, 'Next page →')
    : null;
  const first = cursor ? h('a', { href: `#/jobs${status ? `?status=${status}` : ''}` }, '← First page') : null;
  main.replaceChildren(
    h('h1', {}, 'Jobs'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Status'),
      filter,
      h('span', { class: 'muted' }, `${data.total} job${data.total === 1 ? '' : 's'}`),
      first,
      next,
    ),
    data.items.length === 0
      ? h('p', {}, 'No jobs yet. ', h('a', { href: '#/new' }, 'Submit one.'))
      : h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Job', 'Status', 'Progress', 'Failed', 'Frames/s', 'ETA', 'Created', ''].map((t, i) =>
                h('th', { scope: 'col', class: i === 3 || i === 4 || i === 5 ? 'num' : '' }, t),
              ),
            ),
          ),
          body,
        ),
  );
  keepLive(data.items, (v) => `/v1/jobs/${v.id}/events`, `/v1/jobs?${q}`, signal, update);
}

/** A table body of one row per item, and `update` to redraw an item's row from a newer view. */
function tableRows<V extends { id: string }>(items: V[], row: (v: V) => HTMLTableRowElement) {
  const rows = new Map<string, HTMLTableRowElement>();
  const body = h('tbody');
  for (const v of items) {
    const r = row(v);
    rows.set(v.id, r);
    body.append(r);
  }
  const update = (v: V) => {
    const old = rows.get(v.id);
    if (!old) return;
    const fresh = row(v);
    old.replaceWith(fresh);
    rows.set(v.id, fresh);
  };
  return { body, update };
}

/**
 * Keeps a list page's rows live: the event streams of the unfinished items shown (a browser holds
 * few connections to one host, so at most 4 streams); the rest are refreshed with the page every 5 s.
 */
function keepLive<V extends { id: string; status: string }>(
  items: V[],
  eventsOf: (v: V) => string,
  pagePath: string,
  signal: AbortSignal,
  update: (v: V) => void,
): void {
  const live = items.filter((v) => !FINAL.has(v.status)).slice(0, 4);
  for (const v of live) followEvents<V>(eventsOf(v), signal, (_e, nv) => update(nv)).catch(() => undefined);
  if (!items.some((v) => !FINAL.has(v.status))) return;
  const timer = setInterval(async () => {
    try {
      const fresh = await getJson<{ items: V[] }>(pagePath, { signal });
      for (const v of fresh.items) if (!live.some((l) => l.id === v.id)) update(v);
    } catch {
      // the next tick tries again
    }
  }, 5000);
  signal.addEventListener('abort', () => clearInterval(timer));
}

async function cancelJob(id: string): Promise<JobView> {
  return getJson<JobView>(`/v1/jobs/${id}`, { method: 'DELETE' });
}

/** Opens a file of the job (fetched with the key) in a new tab, or saves it. */
async function openFile(path: string, name: string, save: boolean): Promise<void> {
  const url = await blobUrl(path);
  const a = h('a', { href: url, ...(save ? { download: name } : { target: '_blank', rel: 'noopener' }) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function jobPage(id: string, params: URLSearchParams): Promise<void> {
  const signal = page.signal;
  const [view, spec] = await Promise.all([
    getJson<JobView>(`/v1/jobs/${id}`, { signal }),
    getJson<unknown>(`/v1/jobs/${id}/spec`, { signal }),
  ]);
  const samplePage = Math.max(0, Number(params.get('page') ?? 0) || 0);
  const head = h('div');
  const facts = h('dl', { class: 'facts' });
  const problems = h('div');
  const outputs = h('div');
  const gallery = h('section', { 'aria-labelledby': 'gallery-h' });
  const evaluate = h('section', { 'aria-labelledby': 'evaluate-h' });

  const render = (v: JobView) => {
    const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-job' }, 'Cancel job');
    cancel.addEventListener('click', () => void cancelJob(v.id).then(render).catch(showError));
    head.replaceChildren(
      h('h1', {}, `${v.name} `, statusBadge(v.status)),
      h(
        'div',
        { class: 'toolbar' },
        progressBar(v),
        h(
          'span',
          { id: 'progress-text' },
          `${v.progress.frames_done} of ${v.progress.frames_total} frames done, ${v.progress.frames_failed} failed`,
        ),
        FINAL.has(v.status) ? null : cancel,
      ),
    );
    const fact = (k: string, val: string) => [h('dt', {}, k), h('dd', {}, val)];
    facts.replaceChildren(
      ...fact('Job id', v.id),
      ...fact('Created', when(v.created_at)),
      ...fact('Started', when(v.started_at)),
      ...fact('Finished', when(v.finished_at)),
      ...fact('Frames/s', v.frames_per_s === null ? '—' : v.frames_per_s.toFixed(3)),
      ...fact('ETA', FINAL.has(v.status) ? '—' : duration(v.eta_s)),
      ...fact(
        'Run time',
        v.started_at ? duration(((v.finished_at ? Date.parse(v.finished_at) : Date.now()) - Date.parse(v.started_at)) / 1000) : '—',
      ),
    );
    problems.replaceChildren(
      ...(v.error
        ? [
            h('h2', {}, 'Error'),
            h('p', { class: 'error', role: 'alert' }, `${v.error.code}: ${v.error.message}`),
            ...(v.error.details ?? []).map((d) => h('p', { class: 'error' }, d)),
          ]
        : []),
      ...(v.failures.length
        ? [
            h('h2', {}, `Failed frames (${v.progress.frames_failed})`),
            h('ul', {}, ...v.failures.map((f) => h('li', {}, `frame ${f.index} (${f.code}): ${f.error}`))),
          ]
        : []),
      ...(v.notes.length ? [h('h2', {}, 'Notes'), h('ul', {}, ...v.notes.map((n) => h('li', {}, n)))] : []),
    );
    if (v.output) {
      const file = (name: string, label: string, save: boolean) => {
        const b = h('button', { type: 'button', 'data-file': name }, label);
        b.addEventListener('click', () => void openFile(`/v1/jobs/${v.id}/files/${name}`, `${v.id}-${name}`, save).catch(showError));
        return b;
      };
      const sheet = h('div');
      outputs.replaceChildren(
        h('h2', {}, 'Dataset'),
        h('p', {}, 'Stored at ', h('code', {}, v.output.uri)),
        h('div', { class: 'toolbar' }, file('dataset.json', 'Manifest (dataset.json)', false)),
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Shard'),
              h('th', { scope: 'col', class: 'num' }, 'Samples'),
              h('th', { scope: 'col', class: 'num' }, 'Bytes'),
              h('th', { scope: 'col' }, 'sha256'),
            ),
          ),
          h(
            'tbody',
            {},
            ...v.output.shards.map((s) =>
              h(
                'tr',
                {},
                h('td', {}, file(s.name, s.name, true)),
                h('td', { class: 'num' }, String(s.samples)),
                h('td', { class: 'num' }, String(s.bytes)),
                h('td', {}, h('code', {}, s.sha256.slice(0, 16))),
              ),
            ),
          ),
        ),
        sheet,
      );
      blobUrl(`/v1/jobs/${v.id}/files/contact-sheet.jpg`, signal)
        .then((url) =>
          sheet.replaceChildren(
            h('h2', {}, 'Contact sheet'),
            h('img', { class: 'contact', src: url, alt: `Contact sheet of job ${v.name}` }),
          ),
        )
        .catch(() => undefined);
    } else outputs.replaceChildren();
    evaluateForm(v, evaluate);
  };
  render(view);
  main.replaceChildren(
    head,
    facts,
    problems,
    outputs,
    evaluate,
    gallery,
    h('h2', {}, 'Spec'),
    h('pre', { id: 'job-spec', tabindex: 0, 'aria-label': 'The job spec' }, JSON.stringify(spec, null, 2)),
  );
  await galleryOf(view, gallery, samplePage, signal);
  if (!FINAL.has(view.status)) {
    follow(id, signal, (event, v) => {
      render(v);
      if (event === 'end' || event === 'progress') void galleryOf(v, gallery, samplePage, signal, true);
    }).catch(() => undefined);
  }
}

const PER_PAGE = 8;

/** One page of samples, each with its label's boxes drawn over it and its attributes beside it. */
async function galleryOf(v: JobView, into: HTMLElement, pageNo: number, signal: AbortSignal, onlyMissing = false): Promise<void> {
  const first = pageNo * PER_PAGE;
  const last = Math.min(v.progress.frames_total, first + PER_PAGE);
  const pages = Math.max(1, Math.ceil(v.progress.frames_total / PER_PAGE));
  if (!onlyMissing || into.childElementCount === 0) {
    const nav = h(
      'div',
      { class: 'toolbar' },
      pageNo > 0 ? h('a', { href: `#/jobs/${v.id}?page=${pageNo - 1}` }, '← Previous samples') : null,
      h(
        'span',
        { class: 'muted' },
        `samples ${first}–${Math.max(first, last - 1)} of ${v.progress.frames_total} (page ${pageNo + 1} of ${pages})`,
      ),
      pageNo + 1 < pages ? h('a', { href: `#/jobs/${v.id}?page=${pageNo + 1}` }, 'Next samples →') : null,
      h(
        'label',
        {},
        'Overlay ',
        h(
          'select',
          { id: 'overlay' },
          ...OVERLAYS.map((o) => h('option', { value: o }, o === 'none' ? 'none' : o === 'instances' ? 'instance map' : o)),
        ),
      ),
    );
    const grid = h('div', { class: 'gallery' });
    for (let i = first; i < last; i++)
      grid.append(
        h('figure', { class: 'sample', 'data-index': i, 'data-loaded': 'no' }, h('p', { class: 'muted' }, `frame ${i}: not rendered yet`)),
      );
    into.replaceChildren(h('h2', { id: 'gallery-h' }, 'Samples'), nav, grid);
    const select = nav.querySelector('#overlay') as HTMLSelectElement;
    select.addEventListener('change', () => {
      for (const fig of into.querySelectorAll<HTMLElement>('figure.sample[data-loaded="yes"]')) overlay(v, fig, select.value, signal);
    });
  }
  const pending = [...into.querySelectorAll<HTMLElement>('figure.sample[data-loaded="no"]')];
  for (const fig of pending) {
    const i = Number(fig.dataset.index);
    try {
      fig.dataset.loaded = 'loading';
      const label = await getJson<SampleLabel>(`/v1/jobs/${v.id}/samples/${i}/label`, { signal });
      const src = await blobUrl(`/v1/jobs/${v.id}/samples/${i}`, signal);
      fig.replaceChildren(...sampleView(v, i, label, src));
      fig.dataset.loaded = 'yes';
      fig.dataset.annotations = OVERLAYS.filter((o) => o !== 'none' && label.annotations[o]).join(' ');
      overlay(v, fig, into.querySelector<HTMLSelectElement>('#overlay')?.value ?? 'none', signal);
    } catch (err) {
      if (err instanceof NeedKey) {
        askForKey();
        return;
      }
      fig.dataset.loaded = 'no';
      if (err instanceof Problem && err.status === 404) continue;
      if (err instanceof DOMException && err.name === 'AbortError') return;
      fig.replaceChildren(h('p', { class: 'error' }, `frame ${i}: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}

/** What the gallery can lay over a frame: the annotations a spec may ask for. */
const OVERLAYS = ['none', 'mask', 'depth', 'instances'] as const;

/**
 * Lays annotation `kind` over a loaded sample (the server's overlay picture: instances in
 * colours, depth near-bright to far-dark), or takes it away; a frame without it says so.
 */
function overlay(v: JobView, fig: HTMLElement, kind: string, signal: AbortSignal): void {
  const frame = fig.querySelector('.sample-frame');
  for (const old of fig.querySelectorAll('.overlay, .overlay-missing')) old.remove();
  fig.dataset.overlay = kind;
  if (!frame || kind === 'none') return;
  if (!(fig.dataset.annotations ?? '').split(' ').includes(kind)) {
    fig.querySelector('figcaption')?.prepend(h('span', { class: 'overlay-missing muted' }, `no ${kind} rendered for this job. `));
    return;
  }
  blobUrl(`/v1/jobs/${v.id}/samples/${fig.dataset.index}/annotations/${kind}?view=overlay`, signal)
    .then((src) => {
      if (fig.dataset.overlay !== kind) return; // another was chosen meanwhile
      for (const old of fig.querySelectorAll('.overlay')) old.remove();
      frame.append(h('img', { class: `overlay overlay-${kind}`, src, alt: '', 'data-kind': kind }));
    })
    .catch(() => undefined);
}

function sampleView(v: JobView, i: number, label: SampleLabel, src: string): Node[] {
  const { width, height } = label.image;
  const overlay = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  for (const inst of label.instances ?? []) {
    if (inst.id === 1 || !inst.bbox) continue;
    const [x, y, w, hh] = inst.bbox;
    overlay.append(svg('rect', { class: 'instance-box', x, y, width: w, height: hh, 'data-instance': inst.id }));
  }
  if (label.bbox) {
    const [x, y, w, hh] = label.bbox;
    overlay.append(svg('rect', { class: 'bbox', x, y, width: w, height: hh, 'data-bbox': label.bbox.join(',') }));
  }
  const a = label.attributes;
  const params = {
    camera: label.camera.plan,
    lights: label.lights,
    sensor: label.sensor,
    background: label.background,
    pose: label.pose,
    ...(label.condition ? { condition: label.condition } : {}),
  };
  return [
    h(
      'div',
      { class: 'sample-frame' },
      h('img', { src, width, height, alt: `Frame ${i} of ${v.name}: ${label.class}, ${a.color}, ${a.side} side` }),
      overlay,
    ),
    h(
      'figcaption',
      {},
      h('strong', {}, `#${i} ${label.class}`),
      ` (class ${label.class_index}, split ${label.split})`,
      h('br'),
      `model ${a.model}, colour ${a.color}, ${a.side} side`,
      h('br'),
      label.bbox ? `box [${label.bbox.join(', ')}], ${(label.visible_fraction * 100).toFixed(0)}% visible` : 'not visible',
      label.instances && label.instances.length > 1 ? `; ${label.instances.length} instances in frame` : '',
      h('details', {}, h('summary', {}, 'Parameters'), h('pre', { tabindex: 0 }, JSON.stringify(params, null, 2))),
    ),
  ];
}

async function workersPage(): Promise<void> {
  const signal = page.signal;
  const draw = async () => {
    const list = await getJson<WorkerList>('/v1/workers', { signal });
    const body = h('tbody');
    for (const w of list.items) {
      body.append(
        h(
          'tr',
          { 'data-worker': w.id },
          h('td', {}, w.id, h('br'), h('span', { class: 'muted' }, `${w.host} pid ${w.pid}`)),
          h(
            'td',
            {},
            statusBadge(w.status),
            h('br'),
            h('span', { class: 'muted' }, `heartbeat ${w.seconds_since_heartbeat.toFixed(0)} s ago`),
          ),
          h(
            'td',
            {},
            h(
              'ul',
              {},
              ...w.slots.map((s) =>
                h(
                  'li',
                  {},
                  `slot ${s.index} ${s.device || '(device not reported)'}: ${s.state}`,
                  s.batch ? ` — job ${s.batch.job} batch ${s.batch.batch}, ${s.batch.frames_done}/${s.batch.frames_total} frames` : '',
                ),
              ),
            ),
          ),
          h('td', {}, w.device_kinds.join(', ') || '—', w.cpu_fallback ? ' (CPU fallback)' : ''),
          h('td', { class: 'num' }, w.frames_per_s.toFixed(2)),
          h('td', { class: 'num' }, `${w.frames_rendered} / ${w.frames_failed}`),
          h('td', {}, w.blender_version ?? '—'),
        ),
      );
    }
    main.replaceChildren(
      h('h1', {}, 'Workers'),
      h('p', { class: 'muted' }, `${list.live} live, ${list.lost} lost; refreshed every 3 s`),
      list.items.length === 0
        ? h('p', {}, 'No worker is running. Start one with "synthline worker" (or "npm run up").')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Worker', 'Status', 'Slots and current batches', 'Devices', 'Frames/s', 'Rendered / failed', 'Blender'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            body,
          ),
    );
  };
  await draw();
  const timer = setInterval(() => void draw().catch(() => undefined), 3000);
  signal.addEventListener('abort', () => clearInterval(timer));
}

interface AssetsView {
  library: string;
  products: {
    asset: string;
    id: string;
    ok: boolean;
    usable: boolean;
    reason: string | null;
    name: string | null;
    class: string | null;
    format: string;
    dimensions_m: number[] | null;
    colors: { name: string }[] | string[];
    errors: string[];
    warnings: string[];
    scanned_at: string;
    thumbnail: string | null;
  }[];
  backgrounds: string[];
  hdris: string[];
}

async function assetsPage(): Promise<void> {
  const a = await getJson<AssetsView>('/v1/assets', { signal: page.signal });
  main.replaceChildren(
    h('h1', {}, 'Assets'),
    h(
      'p',
      {},
      `Library ${a.library}: ${a.products.length} product${a.products.length === 1 ? '' : 's'}, ${a.backgrounds.length} background photo${a.backgrounds.length === 1 ? '' : 's'}, ${a.hdris.length} HDRI${a.hdris.length === 1 ? '' : 's'}.`,
    ),
    h(
      'p',
      { class: 'muted' },
      'Each usable product\'s thumbnail is rendered by "synthline assets scan", as it will lie on the belt. Built-in products (builtin:…) are always usable.',
    ),
    a.products.length === 0
      ? h('p', {}, 'The library has no products. Add a folder with a model file and product.json, then run "synthline assets scan".')
      : h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Thumbnail', 'Asset', 'Name / class', 'Scan', 'Usable', 'Size (m)', 'Problems'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            ...a.products.map((p) =>
              h(
                'tr',
                {},
                h('td', { class: 'thumb', 'data-asset': p.asset }, p.thumbnail ? '…' : h('span', { class: 'muted' }, 'none')),
                h('td', {}, h('code', {}, p.asset), h('br'), h('span', { class: 'muted' }, p.format)),
                h('td', {}, p.name ?? '—', h('br'), h('span', { class: 'muted' }, p.class ?? '')),
                h('td', {}, p.scanned_at ? `${p.ok ? 'passed' : 'failed'} ${when(p.scanned_at)}` : 'not scanned'),
                h('td', {}, p.usable ? statusBadge('live') : h('span', { class: 'error' }, p.reason ?? 'no')),
                h('td', {}, p.dimensions_m ? p.dimensions_m.map((d) => d.toFixed(3)).join(' × ') : '—'),
                h('td', {}, [...p.errors, ...p.warnings].join('; ') || '—'),
              ),
            ),
          ),
        ),
  );
  for (const p of a.products) {
    if (!p.thumbnail) continue;
    const cell = main.querySelector(`td.thumb[data-asset="${p.asset}"]`);
    blobUrl(p.thumbnail, page.signal)
      .then((src) => cell?.replaceChildren(h('img', { src, width: 80, height: 60, alt: `${p.name ?? p.asset} as rendered on the belt` })))
      .catch(() => cell?.replaceChildren(h('span', { class: 'muted' }, 'unavailable')));
  }
}

const STARTER = {
  name: 'console-job',
  seed: 1,
  count: 4,
  products: [{ asset: 'builtin:iphone-13' }, { asset: 'builtin:iphone-14-pro' }],
  render: { resolution: [64, 48], samples: 4 },
  output: { shard_size: 4 },
};

async function newJobPage(): Promise<void> {
  const editor = h('textarea', { id: 'spec-editor', spellcheck: false, 'aria-describedby': 'spec-help' });
  editor.value = sessionStorage.getItem('synthline.draft') ?? JSON.stringify(STARTER, null, 2);
  editor.addEventListener('input', () => sessionStorage.setItem('synthline.draft', editor.value));
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit-job' }, 'Submit job');
  const check = h('button', { type: 'button', id: 'check-spec' }, 'Check and show class balance');
  const preview = h('button', { type: 'button', id: 'preview-spec' }, 'Preview');
  const result = h('div', { id: 'spec-result', 'aria-live': 'polite' });
  const previewed = h('section', { id: 'preview', 'aria-live': 'polite' });
  /** The editor's JSON, or undefined after saying why it is not JSON. */
  const parsed = (): { body: unknown } | undefined => {
    try {
      return { body: JSON.parse(editor.value) };
    } catch (err) {
      result.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Not JSON: ${(err as Error).message}`));
      return undefined;
    }
  };
  const form = h(
    'form',
    { id: 'new-job' },
    h('label', { for: 'spec-editor' }, h('strong', {}, 'Spec (JSON)')),
    h(
      'p',
      { id: 'spec-help', class: 'muted' },
      'A job spec as for "synthline render" or POST /v1/jobs. The server checks it; problems show next to the line they name.',
    ),
    editor,
    h('div', { class: 'toolbar' }, submit, check, preview),
    result,
    previewed,
  );
  check.addEventListener('click', () => {
    void (async () => {
      const body = parsed()?.body;
      if (body === undefined) return;
      check.disabled = true;
      try {
        const c = await getJson<SpecCheck>('/v1/specs/check', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        result.replaceChildren(
          h('h2', {}, 'Class balance'),
          h(
            'p',
            { class: 'muted' },
            c.exact ? `The planner's classes for all ${c.count} frames.` : `Scaled from the first ${c.planned} of ${c.count} frames.`,
          ),
          h(
            'table',
            { id: 'class-balance', class: 'balance' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Class'),
                h('th', { scope: 'col', class: 'num' }, 'Frames'),
                h('th', { scope: 'col', class: 'num' }, 'Share'),
              ),
            ),
            h(
              'tbody',
              {},
              ...c.classes.map((k) =>
                h(
                  'tr',
                  { 'data-class': k.name },
                  h('td', {}, k.name),
                  h('td', { class: 'num' }, String(k.expected)),
                  h('td', { class: 'num' }, `${(k.share * 100).toFixed(1)}%`),
                ),
              ),
            ),
          ),
        );
      } catch (err) {
        if (err instanceof Problem) result.replaceChildren(...problemView(editor.value, err));
        else showError(err);
      } finally {
        check.disabled = false;
      }
    })();
  });
  preview.addEventListener('click', () => {
    void (async () => {
      const body = parsed()?.body;
      if (body === undefined) return;
      preview.disabled = true;
      try {
        const p = await getJson<{ id: string; preview: { frames: number; resolution: number[]; samples: number } }>('/v1/previews', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        result.replaceChildren();
        const status = h('p', { id: 'preview-status', class: 'muted' }, 'Preview queued ahead of the waiting batches…');
        const gallery = h('div', { id: 'preview-gallery' });
        const { frames, resolution, samples } = p.preview;
        previewed.replaceChildren(
          h('h2', {}, 'Preview'),
          h('p', { class: 'muted' }, `The spec's first ${frames} frames at ${resolution.join('×')} px, ${samples} samples.`),
          status,
          gallery,
        );
        const signal = page.signal;
        await follow(p.id, signal, (event, v) => {
          status.textContent =
            v.status === 'completed'
              ? 'Preview rendered.'
              : v.status === 'failed'
                ? `Preview failed: ${v.error?.message ?? 'unknown error'}`
                : `Preview ${v.status}: ${v.progress.frames_done} of ${v.progress.frames_total} frames`;
          if (event === 'end' || event === 'progress') void galleryOf(v, gallery, 0, signal, true);
        });
      } catch (err) {
        if (err instanceof Problem) result.replaceChildren(...problemView(editor.value, err));
        else if (!(err instanceof DOMException && err.name === 'AbortError')) showError(err);
      } finally {
        preview.disabled = false;
      }
    })();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const body = parsed()?.body;
      if (body === undefined) return;
      submit.disabled = true;
      try {
        const job = await getJson<{ id: string }>('/v1/jobs', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        sessionStorage.removeItem('synthline.draft');
        location.hash = `#/jobs/${job.id}`;
      } catch (err) {
        if (err instanceof Problem) result.replaceChildren(...problemView(editor.value, err));
        else showError(err);
      } finally {
        submit.disabled = false;
      }
    })();
  });
  main.replaceChildren(h('h1', {}, 'New job'), form);
}

/** The spec's lines with each problem written beside the line of the field it names. */
function problemView(text: string, p: Problem): Node[] {
  const lines = jsonPathLines(text);
  const byLine = new Map<number, { path: string; message: string }[]>();
  for (const e of p.errors) {
    const n = lineOfPath(lines, e.path);
    byLine.set(n, [...(byLine.get(n) ?? []), e]);
  }
  const list = h('ol', { class: 'spec-lines', tabindex: 0, 'aria-label': 'The spec with its problems' });
  text.split('\n').forEach((line, i) => {
    const errs = byLine.get(i + 1) ?? [];
    list.append(
      h(
        'li',
        { class: errs.length ? 'has-error' : '', 'data-line': i + 1 },
        line,
        ...errs.map((e) => h('span', { class: 'field-error', 'data-path': e.path }, `⟵ ${e.path}: ${e.message}`)),
      ),
    );
  });
  return [h('p', { class: 'error', role: 'alert' }, `Refused (${p.status}): ${p.detail}`), list];
}

// ---------------------------------------------------------------- evaluations

/** report.json (format synthline.evaluation/1), as packages/evaluate writes it. */
type EvalReport = EvaluationReport;

/**
 * Follows an event stream whose events each carry a view as JSON (the evaluations' like the
 * jobs'; see {@link follow}), read with fetch() so the key is sent. Ends at the stream's end or
 * when `signal` aborts.
 */
async function followEvents<T>(path: string, signal: AbortSignal, onView: (event: string, view: T) => void): Promise<void> {
  const res = await request(path, { signal, headers: { accept: 'text/event-stream' } });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const parsed = parseSse(buffer + decoder.decode(value, { stream: true }));
      buffer = parsed.rest;
      for (const e of parsed.events) onView(e.event, JSON.parse(e.data) as T);
    }
  } finally {
    reader.releaseLock();
  }
}

/** A set of an evaluation, linked to its job's page when it is a job. */
function setLink(ref: EvaluationView['request']['train']): Node {
  return 'job' in ref ? h('a', { href: `#/jobs/${ref.job}` }, setName(ref)) : h('span', {}, setName(ref));
}

/** Training progress: epochs finished of those asked for. */
function epochBar(v: EvaluationView): HTMLElement {
  const total = v.progress.epoch?.epochs ?? v.request.epochs;
  const done = v.status === 'completed' ? total : (v.progress.epoch?.epoch ?? 0);
  return h(
    'span',
    { class: 'epochs' },
    h('progress', { max: Math.max(1, total), value: done, 'aria-label': `Evaluation ${v.id}: epoch ${done} of ${total}` }),
    ` epoch ${done}/${total}`,
  );
}

async function evaluationsPage(params: URLSearchParams): Promise<void> {
  const cursor = params.get('cursor') ?? '';
  const signal = page.signal;
  const q = new URLSearchParams({ limit: '10', ...(cursor ? { cursor } : {}) });
  const data = await getJson<EvaluationPage>(`/v1/evaluations?${q}`, { signal });
  const row = (v: EvaluationView): HTMLTableRowElement =>
    h(
      'tr',
      { 'data-evaluation': v.id, 'data-status': v.status },
      h('td', {}, h('a', { href: `#/evaluations/${v.id}` }, v.id), h('br'), h('span', { class: 'muted' }, when(v.created_at))),
      h(
        'td',
        {},
        statusBadge(v.status),
        v.waiting ? h('span', { class: 'warning' }, ' waiting: no worker has the evaluation runner') : null,
        v.error ? h('span', { class: 'error' }, ` ${v.error.code}`) : null,
      ),
      h('td', {}, v.request.target),
      h('td', {}, setLink(v.request.train)),
      h('td', {}, setLink(v.request.test)),
      h('td', {}, epochBar(v), v.status === 'running' && v.progress.stage ? h('span', { class: 'muted' }, ` ${v.progress.stage}`) : null),
      h('td', { class: 'num', 'data-accuracy': v.accuracy ?? '' }, percent(v.accuracy)),
    );
  const { body, update } = tableRows(data.items, row);
  main.replaceChildren(
    h('h1', {}, 'Evaluations'),
    h(
      'p',
      { class: 'muted' },
      "A probe classifier trained on one set and tested on another: how well a dataset teaches what it labels. Start one from a completed job's page.",
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('span', { class: 'muted' }, `${data.total} evaluation${data.total === 1 ? '' : 's'}`),
      cursor ? h('a', { href: '#/evaluations' }, '← First page') : null,
      data.next_cursor ? h('a', { href: `#/evaluations?${new URLSearchParams({ cursor: data.next_cursor })}` }, 'Next page →') : null,
    ),
    data.items.length === 0
      ? h('p', {}, 'No evaluations yet. ', h('a', { href: '#/jobs?status=completed' }, 'Pick a completed job to evaluate.'))
      : h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Evaluation', 'Status', 'Target', 'Train set', 'Test set', 'Training', 'Accuracy'].map((t, i) =>
                h('th', { scope: 'col', class: i === 6 ? 'num' : '' }, t),
              ),
            ),
          ),
          body,
        ),
  );
  keepLive(data.items, (v) => v.links.events, `/v1/evaluations?${q}`, signal, update);
}

async function evaluationPage(id: string): Promise<void> {
  const signal = page.signal;
  const first = await getJson<EvaluationView>(`/v1/evaluations/${id}`, { signal });
  const head = h('div');
  const facts = h('dl', { class: 'facts' });
  const problems = h('div', { 'aria-live': 'polite' });
  const report = h('section', { 'aria-labelledby': 'report-h', id: 'report' });
  let reported = false;
  const render = (v: EvaluationView) => {
    const e = v.progress.epoch;
    head.replaceChildren(
      h('h1', {}, `Evaluation ${v.id} `, statusBadge(v.status)),
      h(
        'div',
        { class: 'toolbar' },
        epochBar(v),
        h(
          'span',
          { id: 'eval-progress' },
          [
            v.status === 'running' || v.status === 'queued' ? `stage: ${v.progress.stage ?? 'waiting for a worker'}` : '',
            e ? `last epoch: loss ${e.loss.toFixed(3)}, train ${percent(e.train_accuracy)}, test ${percent(e.test_accuracy)}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        ),
      ),
    );
    const fact = (k: string, val: Node | string) => [h('dt', {}, k), h('dd', {}, val)];
    facts.replaceChildren(
      ...fact('Target', v.request.target),
      ...fact('Train set', setLink(v.request.train)),
      ...fact('Test set', setLink(v.request.test)),
      ...fact('Image size', `${v.request.size} × ${v.request.size} px`),
      ...fact('Epochs', String(v.request.epochs)),
      ...fact('Seed', String(v.request.seed)),
      ...fact('Created', when(v.created_at)),
      ...fact('Started', when(v.started_at)),
      ...fact('Finished', when(v.finished_at)),
      ...fact('Accuracy', percent(v.accuracy)),
    );
    problems.replaceChildren(
      ...(v.waiting
        ? [h('h2', {}, 'Waiting'), h('p', { class: 'warning', id: 'eval-waiting' }, `${v.waiting.code}: ${v.waiting.message}`)]
        : []),
      ...(v.error ? [h('h2', {}, 'Error'), h('p', { class: 'error', role: 'alert' }, `${v.error.code}: ${v.error.message}`)] : []),
    );
    if (v.status === 'completed' && !reported) {
      reported = true;
      report.replaceChildren(h('h2', { id: 'report-h' }, 'Report'), h('p', { class: 'muted' }, 'Loading the report…'));
      getJson<EvalReport>(v.links.report_json, { signal })
        .then((r) => report.replaceChildren(...reportView(v, r)))
        .catch((err: unknown) => {
          if (err instanceof DOMException && err.name === 'AbortError') return;
          report.replaceChildren(
            h('h2', { id: 'report-h' }, 'Report'),
            h('p', { class: 'error', role: 'alert' }, `The report could not be read: ${err instanceof Error ? err.message : String(err)}`),
          );
        });
    }
  };
  render(first);
  main.replaceChildren(head, facts, problems, report);
  if (FINAL.has(first.status)) return;
  // The stream ends at the evaluation's end; if it breaks before, follow it again after a pause.
  void (async () => {
    let last = first;
    while (!signal.aborted && !FINAL.has(last.status)) {
      try {
        await followEvents<EvaluationView>(first.links.events, signal, (_e, v) => {
          last = v;
          render(v);
        });
      } catch (err) {
        if (err instanceof NeedKey) return showError(err);
      }
      if (!FINAL.has(last.status) && !signal.aborted) await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}

/** A completed evaluation's report.json as the page shows it: accuracy, per class, confusion matrix, worst bins, files. */
function reportView(v: EvaluationView, r: EvalReport): Node[] {
  const file = (path: string, name: string, label: string, save: boolean) => {
    const b = h('button', { type: 'button', 'data-file': name }, label);
    b.addEventListener('click', () => void openFile(path, `evaluation-${v.id}-${name}`, save).catch(showError));
    return b;
  };
  const a = r.accuracy;
  const interval = (ci: [number, number]) => `${percent(ci[0])}–${percent(ci[1])}`;
  const th = (t: string, num = false) => h('th', { scope: 'col', class: num ? 'num' : '' }, t);
  return [
    h('h2', { id: 'report-h' }, 'Report'),
    h(
      'p',
      { id: 'eval-accuracy', 'data-accuracy': a.accuracy ?? '' },
      h('strong', {}, `Accuracy ${percent(a.accuracy)}`),
      ` (${a.correct} of ${a.n} test samples), 95% interval ${interval(a.ci95)}; chance ${percent(r.chance)}. `,
      `Trained on ${r.inputs.train.samples} samples of ${r.inputs.train.path}, tested on ${r.inputs.test.samples} of ${r.inputs.test.path}.`,
    ),
    h(
      'div',
      { class: 'toolbar' },
      file(v.links.report_json, 'report.json', 'Open report.json', false),
      file(v.links.report_html, 'report.html', 'Open report.html', false),
      file(v.links.report_html, 'report.html', 'Save report.html', true),
    ),
    // Checked in Chromium: a blob: page takes its creator's policy, so style-src 'self' drops report.html's inline style.
    h(
      'p',
      { class: 'muted' },
      "Opened from here, report.html shows without its styles (the console's security policy carries over); saved, it shows as made.",
    ),
    h('h2', {}, `Accuracy per ${r.target}`),
    h(
      'table',
      { id: 'per-class' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          th(r.target),
          th('Train samples', true),
          th('Test samples', true),
          th('Correct', true),
          th('Accuracy', true),
          th('95% interval'),
        ),
      ),
      h(
        'tbody',
        {},
        ...r.per_class.map((c) =>
          h(
            'tr',
            { 'data-class': c.class },
            h('th', { scope: 'row' }, c.class),
            h('td', { class: 'num' }, String(c.train_samples)),
            h('td', { class: 'num' }, String(c.n)),
            h('td', { class: 'num' }, String(c.correct)),
            h('td', { class: 'num' }, percent(c.accuracy)),
            h('td', {}, c.n ? interval(c.ci95) : '—'),
          ),
        ),
      ),
    ),
    h('h2', {}, 'Confusion matrix'),
    h(
      'table',
      { id: 'confusion', class: 'confusion' },
      h('caption', {}, `Test samples by true ${r.target} (rows) and predicted ${r.target} (columns); the diagonal is correct.`),
      h('thead', {}, h('tr', {}, h('td', {}), ...r.classes.map((c) => h('th', { scope: 'col', class: 'num' }, `predicted ${c}`)))),
      h(
        'tbody',
        {},
        ...r.confusion.map((counts, i) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, `true ${r.classes[i] ?? i}`),
            ...counts.map((n, j) => h('td', { class: i === j ? 'num diag' : 'num', 'data-true': i, 'data-pred': j }, String(n))),
          ),
        ),
      ),
    ),
    h('h2', {}, 'Where it fails most'),
    r.worst_bins.length === 0
      ? h('p', { id: 'worst-bins' }, 'No rendered parameter has a bin with enough samples below the overall accuracy.')
      : h(
          'table',
          { id: 'worst-bins' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              th('Parameter'),
              th('Bin'),
              th('Test samples', true),
              th('Misclassified', true),
              th('Accuracy', true),
              th('95% interval'),
            ),
          ),
          h(
            'tbody',
            {},
            ...r.worst_bins.map((b) =>
              h(
                'tr',
                {},
                h('td', {}, b.param, h('br'), h('span', { class: 'muted' }, b.what)),
                h('td', {}, b.label),
                h('td', { class: 'num' }, String(b.n)),
                h('td', { class: 'num' }, String(b.misclassified)),
                h('td', { class: 'num' }, percent(b.accuracy)),
                h('td', {}, interval(b.ci95)),
              ),
            ),
          ),
        ),
  ];
}

/** What a completed job's page offers: evaluate its dataset (train) against another completed job's (test). */
function evaluateForm(v: JobView, into: HTMLElement): void {
  if (v.status !== 'completed' || !v.output) {
    into.replaceChildren();
    return;
  }
  if (into.childElementCount > 0) return;
  const field = (name: string, label: string, control: HTMLInputElement | HTMLSelectElement, help: string) => {
    control.id = `eval-${name}`;
    control.setAttribute('aria-describedby', `eval-${name}-help eval-${name}-error`);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: control.id }, label),
      control,
      h('span', { id: `eval-${name}-help`, class: 'muted' }, help),
      h('span', { id: `eval-${name}-error`, class: 'field-error', 'data-path': '' }),
    );
  };
  const test = h('input', { type: 'text', required: true, list: 'eval-jobs', pattern: '[A-Za-z0-9]{12}', autocomplete: 'off' });
  const jobs = h('datalist', { id: 'eval-jobs' });
  const target = h('select', {}, ...['class', 'model', 'color', 'side'].map((t) => h('option', { value: t, selected: t === 'model' }, t)));
  const epochs = h('input', { type: 'number', min: 1, max: 10000, value: 3, required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'evaluate-submit' }, 'Evaluate');
  const result = h('div', { id: 'evaluate-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { id: 'evaluate-form', class: 'evaluate-form', novalidate: true },
    h(
      'p',
      { class: 'muted' },
      `Train a probe classifier on this job's ${v.progress.frames_done} samples and test it on another completed job's: how well this dataset teaches what it labels.`,
    ),
    field('test', 'Test set (job id)', test, "a completed job's id; this job's own id tests on the samples it trained on"),
    jobs,
    field('target', 'Target', target, 'what the probe predicts'),
    field('epochs', 'Epochs', epochs, 'training passes over this set'),
    h('div', { class: 'toolbar' }, submit),
    result,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      submit.disabled = true;
      for (const el of form.querySelectorAll<HTMLElement>('.field-error')) el.textContent = '';
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      result.replaceChildren();
      try {
        const created = await getJson<EvaluationView>('/v1/evaluations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            train: { job: v.id },
            test: { job: test.value.trim() },
            target: target.value,
            epochs: Number(epochs.value),
          }),
        });
        location.hash = `#/evaluations/${created.id}`;
      } catch (err) {
        if (!(err instanceof Problem)) return showError(err);
        // Each problem beside the field it names (test.job -> the test set); the rest in the summary.
        const rest: string[] = [];
        for (const p of err.errors) {
          const name = p.path.startsWith('test') ? 'test' : p.path === 'target' || p.path === 'epochs' ? p.path : null;
          const slot = name ? form.querySelector<HTMLElement>(`#eval-${name}-error`) : null;
          if (!slot) {
            rest.push(`${p.path}: ${p.message}`);
            continue;
          }
          slot.textContent = `${p.path}: ${p.message}`;
          slot.dataset.path = p.path;
          form.querySelector(`#eval-${name}`)?.setAttribute('aria-invalid', 'true');
        }
        result.replaceChildren(
          h('p', { class: 'error', role: 'alert' }, `Refused (${err.status}): ${err.detail}`),
          ...rest.map((t) => h('p', { class: 'error' }, t)),
        );
      } finally {
        submit.disabled = false;
      }
    })();
  });
  into.replaceChildren(h('h2', { id: 'evaluate-h' }, 'Evaluate this dataset'), form);
  // Suggestions for the test set: the newest completed jobs.
  getJson<JobPage>('/v1/jobs?status=completed&limit=20', { signal: page.signal })
    .then((p) => jobs.replaceChildren(...p.items.map((j) => h('option', { value: j.id }, `${j.name} (${j.progress.frames_done} frames)`))))
    .catch(() => undefined);
}

// ---------------------------------------------------------------- routing

async function route(): Promise<void> {
  page.abort();
  page = new AbortController();
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean);
  const section = parts[0] ?? 'jobs';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (section === 'jobs' && parts[1]) await jobPage(parts[1], params);
    else if (section === 'evaluations' && parts[1]) await evaluationPage(parts[1]);
    else if (section === 'evaluations') await evaluationsPage(params);
    else if (section === 'workers') await workersPage();
    else if (section === 'assets') await assetsPage();
    else if (section === 'new') await newJobPage();
    else await jobsPage(params);
    document.title = `${(main.querySelector('h1')?.textContent ?? 'console').trim()} · synthline`;
  } catch (err) {
    showError(err);
  }
}

window.addEventListener('hashchange', () => void route());
renderKeyState();
void route();
