import type { WorkerList } from '@synthline/jobs';

/** Seconds as a short age: `4s`, `3m05s`, `2h01m`. */
export function age(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The worker registry as a table: one line per worker, then one indented line per slot with its
 * device and what it renders.
 */
export function formatWorkers(list: WorkerList): string {
  if (list.items.length === 0) return 'no workers: none sent a heartbeat recently (start one with "synthline worker")';
  const lines: string[] = [];
  const header = [
    'WORKER',
    'STATUS',
    'HOST',
    'PID',
    'SLOTS',
    'BUSY',
    'FRAMES/S',
    'FRAMES',
    'FAILED',
    'BATCHES',
    'LAST BEAT',
    'UP',
    'BLENDER',
  ];
  const rows = list.items.map((w) => [
    w.id,
    w.status,
    w.host || '-',
    String(w.pid || '-'),
    String(w.slots.length),
    String(w.slots.filter((s) => s.state === 'busy').length),
    w.frames_per_s.toFixed(2),
    String(w.frames_rendered),
    String(w.frames_failed),
    String(w.batches_rendered),
    `${age(w.seconds_since_heartbeat)} ago`,
    w.started_at ? age((Date.parse(w.last_heartbeat_at) - Date.parse(w.started_at)) / 1000 + w.seconds_since_heartbeat) : '-',
    w.blender_version ?? '-',
  ]);
  const formatted = table([header, ...rows]);
  lines.push(formatted[0] as string);
  list.items.forEach((w, i) => {
    lines.push(formatted[i + 1] as string);
    for (const s of w.slots) {
      const what = s.batch
        ? `busy: job ${s.batch.job} batch ${s.batch.batch} (${s.batch.frames_done}/${s.batch.frames_total} frames)`
        : 'idle';
      lines.push(`  slot ${s.index}  ${s.device || 'device ?'}  ${what}`);
    }
  });
  lines.push(`${list.live} live, ${list.lost} lost`);
  return lines.join('\n');
}
