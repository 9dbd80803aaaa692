import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EvaluateError } from './errors.ts';

/** The runner's entry point: a fixed file; no user text ever becomes Python source. */
export const RUNNER_SCRIPT = fileURLToPath(new URL('../../../evaluate-scripts/eval_runner.py', import.meta.url));
/** The protocol version both sides speak (evaluate-scripts/synthline_eval/protocol.py). */
export const PROTOCOL = 1;
/** The interpreter when SYNTHLINE_PYTHON is unset: Debian's, which python3-torch installs into. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** What the runner says first: its versions. */
export interface RunnerHello {
  python: string;
  executable: string;
  torch: string;
  torchvision: string;
  cuda: boolean;
  cuda_devices: number;
}

/** One epoch of training, as the runner reports it. */
export interface EpochReport {
  epoch: number;
  epochs: number;
  steps: number;
  images: number;
  loss: number;
  train_accuracy: number;
  test_accuracy: number;
  train_seconds: number;
  images_per_s: number | null;
}

export interface RunnerResult {
  predictions: number[];
  confidence: number[];
  test_accuracy: number;
  steps: number;
  epochs: number;
  batch_size: number;
  device: string;
  parameters: number;
  seconds: number;
}

/** The settings of a training run (the runner's start request). */
export interface RunSettings {
  num_classes: number;
  size: number;
  train: number;
  test: number;
  epochs: number;
  steps: number;
  batch_size: number;
  lr: number;
  seed: number;
  threads: number;
  device: 'cpu' | 'cuda';
  backbone: 'small-cnn' | 'resnet18';
  weights: string;
  augment: boolean;
}

/** An image for the runner: RGB pixels, `size` x `size`, and its class index. */
export interface WireImage {
  split: 'train' | 'test';
  target: number;
  pixels: Buffer;
}

const CODES = new Set(['NO_TORCH', 'NO_CUDA', 'BAD_WEIGHTS']);

/** A request frame: 4-byte big-endian length, the JSON header, then the payload. */
export function frame(header: Record<string, unknown>, payload?: Buffer): Buffer {
  const body = Buffer.from(JSON.stringify(payload ? { ...header, bytes: payload.length } : header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return payload ? Buffer.concat([len, body, payload]) : Buffer.concat([len, body]);
}

/**
 * One run of the Python runner: starts `python eval_runner.py`, checks its hello (PyTorch
 * present), sends the start request and every image from `images` (backpressure respected), then
 * collects epochs and the result. A missing interpreter, a missing torch, a runner error or a crash
 * is an {@link EvaluateError} naming the cause and the fix.
 */
export async function runProbe(
  python: string,
  settings: RunSettings,
  images: AsyncIterable<WireImage>,
  hooks: { onHello?: (h: RunnerHello) => void; onEpoch?: (e: EpochReport) => void } = {},
): Promise<{ hello: RunnerHello; epochs: EpochReport[]; result: RunnerResult }> {
  const child = spawn(python, [RUNNER_SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      OMP_NUM_THREADS: String(settings.threads),
      // Deterministic cuBLAS (torch.use_deterministic_algorithms asks for it on CUDA).
      CUBLAS_WORKSPACE_CONFIG: ':4096:8',
    },
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 40) stderr.shift();
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  child.stdin.on('error', () => undefined); // a runner that quits early closes the pipe; its reply says why

  const tail = () => (stderr.length ? `\n  runner's last lines:\n    ${stderr.slice(-12).join('\n    ')}` : '');
  const died = async (what: string) => {
    const code = await exited;
    return new EvaluateError(
      'RUNNER',
      `the evaluation runner (${python} ${RUNNER_SCRIPT}) ${what} (exit code ${code})${tail()}\n` +
        `  SYNTHLINE_PYTHON must be a Python 3 with torch and torchvision (default ${DEFAULT_PYTHON})`,
    );
  };
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    const r = await Promise.race([lines.next(), spawnError.then((e) => e)]);
    if (r instanceof Error) {
      const enoent = (r as NodeJS.ErrnoException).code === 'ENOENT';
      throw new EvaluateError(
        'NO_PYTHON',
        `cannot start the evaluation runner's Python "${python}": ${enoent ? 'no such program' : r.message}. ` +
          `Set SYNTHLINE_PYTHON to a Python 3 with PyTorch (default ${DEFAULT_PYTHON}; Debian/Ubuntu: apt-get install python3-torch python3-torchvision)`,
      );
    }
    if (r.done) return undefined;
    try {
      return JSON.parse(r.value) as Record<string, unknown>;
    } catch {
      stderr.push(r.value);
      return next();
    }
  };
  const fail = (m: Record<string, unknown>) => {
    const code = String(m.code);
    return new EvaluateError(CODES.has(code) ? (code as 'NO_TORCH') : 'RUNNER', `${String(m.message)}${code === 'INTERNAL' ? tail() : ''}`);
  };
  try {
    const first = await next();
    if (!first) throw await died('stopped before saying hello');
    if (first.type === 'error') throw fail(first);
    if (first.type !== 'hello' || first.protocol !== PROTOCOL)
      throw await died(`answered ${JSON.stringify(first).slice(0, 200)} instead of a protocol ${PROTOCOL} hello`);
    const hello = first as unknown as RunnerHello;
    hooks.onHello?.(hello);

    // Replies are read while images are sent: a runner error stops the sending.
    let early: Record<string, unknown> | undefined;
    const send = (async () => {
      const write = (b: Buffer) =>
        new Promise<void>((resolve) => {
          if (child.stdin.write(b)) resolve();
          else child.stdin.once('drain', resolve);
        });
      await write(frame({ type: 'start', protocol: PROTOCOL, ...settings }));
      for await (const img of images) {
        if (early || child.stdin.destroyed) return;
        await write(frame({ type: 'image', split: img.split, target: img.target }, img.pixels));
      }
      await write(frame({ type: 'run' }));
    })();
    const epochs: EpochReport[] = [];
    let sendError: unknown;
    send.catch((err) => {
      sendError = err;
      child.kill('SIGKILL');
    });
    for (;;) {
      const m = await next();
      if (!m) {
        await send.catch(() => undefined);
        if (sendError) throw sendError;
        throw await died('stopped without a result');
      }
      if (m.type === 'epoch') {
        epochs.push(m as unknown as EpochReport);
        hooks.onEpoch?.(m as unknown as EpochReport);
      } else if (m.type === 'error') {
        early = m;
        throw fail(m);
      } else if (m.type === 'result') {
        await send;
        return { hello, epochs, result: m as unknown as RunnerResult };
      }
    }
  } finally {
    child.stdin.end();
    if (child.exitCode === null) {
      // Give the runner a moment to exit on its own after its last reply, then stop it.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }
}

/** The runner's hello alone (`eval_runner.py --probe`): whether this machine can evaluate. */
export async function probeRunner(python: string = DEFAULT_PYTHON): Promise<RunnerHello> {
  const child = spawn(python, [RUNNER_SCRIPT, '--probe'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  const r = await new Promise<number | Error>((resolve) => {
    child.once('error', resolve);
    child.once('close', (code) => resolve(code ?? -1));
  });
  if (r instanceof Error) throw new EvaluateError('NO_PYTHON', `cannot start "${python}": ${r.message}`);
  const line = out.split('\n')[0] ?? '';
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new EvaluateError('RUNNER', `"${python}" did not run the evaluation runner (exit code ${r})`);
  }
  if (m.type === 'error') throw new EvaluateError(m.code === 'NO_TORCH' ? 'NO_TORCH' : 'RUNNER', String(m.message));
  return m as unknown as RunnerHello;
}
