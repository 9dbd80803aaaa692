/**
 * Plots as standalone SVG text: inlined in report.html and rasterised to PNG by sharp (librsvg).
 * Deterministic: the same numbers give the same bytes.
 */

const FONT = 'font-family="\'DejaVu Sans\',sans-serif"';
const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
const f = (x: number) => Number(x.toFixed(1));
const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

function svg(w: number, h: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="#fff"/>${body}</svg>`;
}

/** One bar with its 95 % interval. */
export interface IntervalBar {
  label: string;
  value: number | null;
  ci95: [number, number];
  n: number;
}

/**
 * Horizontal bars from 0 to 1 with whiskers for the 95 % interval; `reference` draws a dashed
 * line (chance, or the overall accuracy).
 */
export function barChart(title: string, bars: IntervalBar[], reference?: { value: number; label: string }): string {
  const labelW = Math.min(260, Math.max(80, ...bars.map((b) => b.label.length * 7 + 10)));
  const plotW = 360;
  const row = 20;
  const top = 30;
  const w = labelW + plotW + 120;
  const h = top + bars.length * row + 30;
  const x = (v: number) => labelW + v * plotW;
  let body = `<text x="8" y="18" font-size="13" font-weight="bold" ${FONT}>${esc(title)}</text>`;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    body += `<line x1="${f(x(t))}" y1="${top - 4}" x2="${f(x(t))}" y2="${top + bars.length * row}" stroke="#ddd"/>`;
    body += `<text x="${f(x(t))}" y="${top + bars.length * row + 14}" font-size="10" text-anchor="middle" ${FONT}>${t}</text>`;
  }
  bars.forEach((b, i) => {
    const y = top + i * row;
    body += `<text x="${labelW - 6}" y="${y + 14}" font-size="11" text-anchor="end" ${FONT}>${esc(b.label)}</text>`;
    if (b.value !== null) {
      body += `<rect x="${labelW}" y="${y + 4}" width="${f(b.value * plotW)}" height="${row - 8}" fill="#4c78a8"/>`;
      body += `<line x1="${f(x(b.ci95[0]))}" y1="${y + row / 2}" x2="${f(x(b.ci95[1]))}" y2="${y + row / 2}" stroke="#222" stroke-width="1.5"/>`;
      for (const e of b.ci95) body += `<line x1="${f(x(e))}" y1="${y + 6}" x2="${f(x(e))}" y2="${y + row - 6}" stroke="#222"/>`;
    }
    body += `<text x="${labelW + plotW + 8}" y="${y + 14}" font-size="11" ${FONT}>${pct(b.value)} (n=${b.n})</text>`;
  });
  if (reference) {
    const rx = f(x(reference.value));
    body += `<line x1="${rx}" y1="${top - 4}" x2="${rx}" y2="${top + bars.length * row}" stroke="#d62728" stroke-dasharray="4 3"/>`;
    body += `<text x="${rx + 3}" y="${top - 6}" font-size="10" fill="#d62728" ${FONT}>${esc(reference.label)}</text>`;
  }
  return svg(w, h, body);
}

/** The confusion matrix: rows true, columns predicted; each cell shaded by its share of the row. */
export function confusionMatrix(names: string[], matrix: number[][]): string {
  const n = names.length;
  const cell = Math.max(14, Math.min(40, Math.floor(520 / Math.max(1, n))));
  const labelW = Math.min(240, Math.max(60, ...names.map((s) => s.length * 7 + 10)));
  const top = 40 + labelW;
  const w = Math.max(labelW + n * cell + 20, 440);
  const h = top + n * cell + 20;
  let body = `<text x="8" y="18" font-size="13" font-weight="bold" ${FONT}>Confusion matrix (rows: true, columns: predicted)</text>`;
  names.forEach((name, j) => {
    const cx = labelW + j * cell + cell / 2 + 4;
    body += `<text transform="translate(${f(cx)},${top - 6}) rotate(-60)" font-size="10" ${FONT}>${esc(name)}</text>`;
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    body += `<text x="${labelW - 6}" y="${f(top + i * cell + cell / 2 + 4)}" font-size="10" text-anchor="end" ${FONT}>${esc(names[i] ?? '')}</text>`;
    row.forEach((v, j) => {
      const share = total ? v / total : 0;
      const shade = Math.round(255 - share * 200);
      const colour = i === j ? `rgb(${shade},${Math.round(255 - share * 120)},${shade})` : `rgb(255,${shade},${shade})`;
      body += `<rect x="${labelW + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${colour}" stroke="#ccc"/>`;
      if (v > 0 && cell >= 18)
        body += `<text x="${f(labelW + j * cell + cell / 2)}" y="${f(top + i * cell + cell / 2 + 4)}" font-size="10" text-anchor="middle" ${FONT}>${v}</text>`;
    });
  });
  return svg(w, h, body);
}

/** Lines over x = 1..N (epochs, ratios), y from 0 to `yMax`. */
export function lineChart(
  title: string,
  xLabels: string[],
  series: { name: string; colour: string; values: (number | null)[] }[],
  yMax = 1,
): string {
  const left = 50;
  const plotW = 460;
  const plotH = 220;
  const top = 30;
  const w = left + plotW + 150;
  const h = top + plotH + 40;
  const n = xLabels.length;
  const x = (i: number) => left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  let body = `<text x="8" y="18" font-size="13" font-weight="bold" ${FONT}>${esc(title)}</text>`;
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    body += `<line x1="${left}" y1="${f(y(v))}" x2="${left + plotW}" y2="${f(y(v))}" stroke="#ddd"/>`;
    body += `<text x="${left - 6}" y="${f(y(v) + 4)}" font-size="10" text-anchor="end" ${FONT}>${Number(v.toPrecision(3))}</text>`;
  }
  xLabels.forEach((l, i) => {
    body += `<text x="${f(x(i))}" y="${top + plotH + 16}" font-size="10" text-anchor="middle" ${FONT}>${esc(l)}</text>`;
  });
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === null ? null : `${f(x(i))},${f(y(v))}`)).filter((p): p is string => p !== null);
    if (pts.length > 1) body += `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2"/>`;
    for (const p of pts) {
      const [px, py] = p.split(',');
      body += `<circle cx="${px}" cy="${py}" r="3" fill="${s.colour}"/>`;
    }
    body += `<rect x="${left + plotW + 12}" y="${top + k * 18}" width="12" height="3" fill="${s.colour}"/>`;
    body += `<text x="${left + plotW + 28}" y="${top + k * 18 + 5}" font-size="11" ${FONT}>${esc(s.name)}</text>`;
  });
  return svg(w, h, body);
}
