// Pure helpers of the console (no DOM): parsing server-sent events and locating a spec field in
// its JSON text. Unit-tested in ../src/util.test.ts.

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits the text received so far into complete events and the unfinished rest. Comment lines
 * (keep-alives) and fields other than `event` and `data` are skipped.
 */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * The 1-based line of each value of a JSON text, by its path as the API's problems write it
 * (`render.resolution[0]`, `products[1].asset`; the root is ``). Lines of keys are those of their
 * values' starts. Empty when the text is not JSON.
 */
export function jsonPathLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i] as string)) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, keyLine: number): void => {
    ws();
    lines.set(path, keyLine);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const at = line;
        const key = str();
        ws();
        if (text[i] !== ':') throw new Error('expected :');
        i++;
        value(path ? `${path}.${key}` : key, at);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw new Error('expected , or }');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        ws();
        value(`${path}[${n}]`, line);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw new Error('expected , or ]');
      }
    } else if (c === '"') {
      str();
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new Error('unexpected token');
      i += m[0].length;
    }
  };
  try {
    value('', 1);
  } catch {
    return new Map();
  }
  return lines;
}

/** The line a problem's path names: its own, else its nearest ancestor's (a missing field shows at its parent), else 1. */
export function lineOfPath(lines: Map<string, number>, path: string): number {
  let p = path;
  for (;;) {
    const n = lines.get(p);
    if (n !== undefined) return n;
    if (p === '') return 1;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut < 0 ? '' : p.slice(0, cut);
  }
}

/** Seconds as `1h 02m`, `3m 05s` or `12s`. */
export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/** A share as `83.3%`; `—` for none (an empty group's accuracy). */
export function percent(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)}%`;
}

/** An evaluation's set reference as the API writes it in messages: `job:abc`, `mix:xyz`, `real:photos`. */
export function setName(ref: { job: string } | { mix: string } | { real: string }): string {
  return 'job' in ref ? `job:${ref.job}` : 'mix' in ref ? `mix:${ref.mix}` : `real:${ref.real}`;
}
