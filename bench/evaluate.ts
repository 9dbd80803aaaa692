/**
 * Benchmark, not a test: the probe's training speed (images/s) on this machine's CPU, at 96 and
 * 128 px. Trains `synthline evaluate`'s default small CNN on an ImageFolder of 3 x 128 jittered
 * solid-colour photos (decoding is not what is measured: the runner reports the time of its
 * training steps alone) for 3 epochs with 1 and 2 torch threads; prints a Markdown table.
 *   npm run bench:evaluate   (SYNTHLINE_PYTHON: the interpreter, default /usr/bin/python3)
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { evaluate } from '@synthline/evaluate';

const PER_CLASS = 128;
const root = await mkdtemp(join(tmpdir(), 'synthline-bench-evaluate-'));
try {
  const colours: Record<string, number[]> = { red: [200, 40, 40], green: [40, 170, 60], blue: [40, 60, 200] };
  let s = 1;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [name, c] of Object.entries(colours)) {
    await mkdir(join(root, 'photos', name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const [r, g, b] = c.map((v) => Math.round(v + (rnd() - 0.5) * 70)) as [number, number, number];
      await sharp({ create: { width: 160, height: 120, channels: 3, background: { r, g, b } } })
        .png()
        .toFile(join(root, 'photos', name, `${i}.png`));
    }
  }
  const rows: string[] = ['| size | torch threads | training images/s (epochs 2-3) | test accuracy |', '|---|---|---|---|'];
  for (const size of [96, 128]) {
    for (const threads of [1, 2]) {
      const { report } = await evaluate({
        train: join(root, 'photos'),
        test: join(root, 'photos'),
        target: 'class',
        out: join(root, `out-${size}-${threads}`),
        size,
        threads,
        epochs: 3,
        ...(process.env.SYNTHLINE_PYTHON ? { python: process.env.SYNTHLINE_PYTHON } : {}),
      });
      // Epoch 1 includes PyTorch's warm-up; the later epochs are the steady rate.
      const later = report.training_curve.slice(1);
      const rate = later.reduce((a, e) => a + e.images, 0) / later.reduce((a, e) => a + e.train_seconds, 0);
      rows.push(`| ${size} px | ${threads} | ${rate.toFixed(0)} | ${((report.accuracy.accuracy ?? 0) * 100).toFixed(1)}% |`);
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  }
  process.stdout.write(`${rows.join('\n')}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
