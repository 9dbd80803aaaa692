import type { EvaluationReport } from './evaluate.ts';

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' })[c] ?? c);
export const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
export const ci = (c: [number, number]) => `${(c[0] * 100).toFixed(1)} to ${(c[1] * 100).toFixed(1)}%`;

export const STYLE =
  'body{font-family:"DejaVu Sans",sans-serif;margin:24px;max-width:1100px;color:#222}table{border-collapse:collapse;margin:8px 0}' +
  'td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}th{background:#f3f3f3}.plots svg{margin:6px 12px 6px 0;vertical-align:top}' +
  'img{max-width:100%}';

/** report.html: one self-contained page (plots inline as SVG, the contact sheet as a data URL). */
export function reportHtml(
  r: EvaluationReport,
  svgs: { perClass: string; confusion: string; curve: string; bins: string[] },
  sheet?: Buffer,
): string {
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('');
  const src = (s: Record<string, number>) =>
    Object.entries(s)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  const worst = r.worst_bins.length
    ? `<table><tr><th>parameter</th><th>bin</th><th>test samples</th><th>accuracy</th><th>95% interval</th><th>misclassified</th></tr>${rows(
        r.worst_bins.map((w) => [w.what, w.label, String(w.n), pct(w.accuracy), ci(w.ci95), String(w.misclassified)]),
      )}</table>`
    : '<p>No bin falls below the overall accuracy with enough samples to tell.</p>';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>synthline evaluation: ${esc(r.target)}</title><style>${STYLE}</style></head><body>
<h1>Does the data help? Probe accuracy on ${esc(r.target)}</h1>
<p><b>${pct(r.accuracy.accuracy)}</b> of ${r.accuracy.n} test images (95% interval ${ci(r.accuracy.ci95)}); chance is ${pct(r.chance)} over ${r.classes.length} classes.</p>
<table>
<tr><th>training set</th><td>${esc(r.inputs.train.path)} (${esc(r.inputs.train.kind)}: ${r.inputs.train.samples} images, ${esc(src(r.inputs.train.per_source))})</td></tr>
<tr><th>test set</th><td>${esc(r.inputs.test.path)} (${esc(r.inputs.test.kind)}: ${r.inputs.test.samples} images, ${esc(src(r.inputs.test.per_source))})</td></tr>
<tr><th>probe</th><td>${esc(r.settings.backbone)}, ${r.runner.parameters} parameters, ${r.settings.size} px, ${r.runner.epochs} epochs (${r.runner.steps} steps of ${r.settings.batch_size}), seed ${r.settings.seed}, lr ${r.settings.lr}</td></tr>
<tr><th>runner</th><td>${esc(r.runner.device)}, ${r.settings.threads} thread(s); Python ${esc(r.runner.python)}, torch ${esc(r.runner.torch)}, torchvision ${esc(r.runner.torchvision)}; ${r.runner.seconds.toFixed(1)} s</td></tr>
</table>
<h2>Per class</h2><div class="plots">${svgs.perClass}</div>
<h2>Confusion</h2><div class="plots">${svgs.confusion}</div>
<h2>Training</h2><div class="plots">${svgs.curve}</div>
<h2>Where it fails</h2>${worst}
${sheet ? `<p>Misclassified samples of these bins (bin, then true -&gt; predicted):</p><img alt="misclassified samples" src="data:image/jpeg;base64,${sheet.toString('base64')}">` : ''}
${suggestionHtml(r)}
<h2>Accuracy by rendered parameter</h2>
<p>Each parameter's bins add up to the ${r.accuracy.n} test images; "missing" holds those whose label lacks it (photos). The dashed line is the overall accuracy.</p>
<div class="plots">${svgs.bins.join('\n')}</div>
</body></html>
`;
}

const weight = (x: number) => String(x);

/** The section on `--suggest`: each product's weight, old and new, and the classes that moved it. */
function suggestionHtml(r: EvaluationReport): string {
  const s = r.suggestion;
  if (!s) return '';
  const byClass = new Map(s.classes.map((c) => [c.class, c]));
  const why = (p: (typeof s.products)[number]) =>
    p.classes
      .map(({ class: name, share }) => {
        const c = byClass.get(name);
        const part = p.classes.length > 1 ? ` (${pct(share)} of its frames)` : '';
        if (!c || c.n === 0) return `${name}${part}: not in the test set`;
        const confused = c.most_confused_with ? `, most often taken for ${c.most_confused_with} (${c.confused} of ${c.n})` : '';
        return `${name}${part}: ${pct(c.accuracy)} of ${c.n}${confused}`;
      })
      .join('; ');
  const rows = s.products
    .map(
      (p) =>
        `<tr><td>${esc(p.asset)}</td><td>${weight(p.old_weight)} &rarr; <b>${weight(p.new_weight)}</b></td><td>${
          p.error === null ? `untested (overall ${pct(s.overall_error)} stands in)` : pct(p.error)
        }</td><td>${esc(why(p))}</td></tr>`,
    )
    .join('');
  return `<h2>Suggested spec</h2>
<p>Wrote <code>${esc(s.spec)}</code>: the spec of <code>${esc(s.from)}</code> with its product weights moved toward the products the probe gets wrong most${
    s.changed ? '' : ' (none moved: their errors are alike)'
  }; every other field, the seed included, is as it was.</p>
<table><tr><th>product</th><th>weight, old &rarr; new</th><th>test error</th><th>why: its ${esc(s.target)} classes, their test accuracy, the class each is most confused with</th></tr>${rows}</table>
<p>Rule: ${esc(s.rule)}</p>`;
}
