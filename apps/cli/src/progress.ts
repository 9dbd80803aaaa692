import type { Progress } from '@synthline/pipeline';

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '--';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
};

/** One line of progress text: frames done of total, frames/s, ETA. */
export function progressText(p: Progress, width = 30): { bar: string; line: string } {
  const finished = p.done + p.failed;
  const rate = p.elapsedS > 0 ? finished / p.elapsedS : 0;
  const eta = rate > 0 ? (p.total - finished) / rate : Number.POSITIVE_INFINITY;
  const filled = Math.round((finished / Math.max(1, p.total)) * width);
  const failed = p.failed ? `, ${p.failed} failed` : '';
  const line = `${finished}/${p.total} frames${failed}  ${rate.toFixed(2)} frames/s  ETA ${fmtTime(eta)}`;
  return { bar: `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}`, line };
}

/**
 * Progress on a stream: a bar redrawn in place on a terminal, otherwise a plain line at most
 * every `everyS` seconds and at the end.
 */
export function progressReporter(stream: NodeJS.WriteStream, everyS = 5) {
  let last = -Infinity;
  let lastFinished = -1;
  return {
    update(p: Progress) {
      const finished = p.done + p.failed;
      const t = progressText(p);
      if (stream.isTTY) stream.write(`\r${t.bar}\x1b[K`);
      // A line every everyS seconds, and the last one once (not again for each update after it).
      else if ((p.elapsedS - last >= everyS && finished !== lastFinished) || (finished === p.total && finished !== lastFinished)) {
        last = p.elapsedS;
        lastFinished = finished;
        stream.write(`progress ${t.line}\n`);
      }
    },
    end() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
