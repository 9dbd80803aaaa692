import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError, type FinishJob, type Finished } from './finish.ts';

const BOOT = new URL('./thread-boot.mjs', import.meta.url);

interface Task {
  id: number;
  job: FinishJob;
  resolve: (f: Finished) => void;
  reject: (e: Error) => void;
}

type Reply =
  | { ready: true }
  | { id: number; ok: true; image: Uint8Array; width: number; height: number }
  | { id: number; ok: false; decode: boolean; message: string };

interface Thread {
  worker: Worker;
  task: Task | undefined;
  ready: boolean;
}

/**
 * Worker threads that finish images (decode, sensor effects, encode: finish.ts), one per core by
 * default, so a worker's main thread only plans, talks to Blender and writes shards: it never
 * blocks on pixels, and the pixel work of every slot runs in parallel. Each image is a pure
 * function of its file and plan, so the bytes do not depend on the thread or the thread count.
 *
 * Threads start on first use and are unref'd while idle: an idle pool never keeps a process alive.
 * A thread that dies fails its image and is replaced on the next one.
 */
export class SensorPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size = availableParallelism()) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`a SensorPool needs at least one thread, got ${size}`);
  }

  /** Decodes, applies the sensor effects and encodes on a pool thread. */
  finish(job: FinishJob): Promise<Finished> {
    if (this.closed) return Promise.reject(new Error('the sensor pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.pump();
    });
  }

  /** Stops every thread; images in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('the sensor pool closed'));
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const t = this.threads.find((x) => x.ready && !x.task);
      if (!t) {
        // Every thread starts at once (a few hundred ms each, in parallel); each pumps when ready.
        while (this.threads.length < this.size) this.spawn();
        return;
      }
      const task = this.queue.shift() as Task;
      t.task = task;
      t.worker.ref();
      t.worker.postMessage({ id: task.id, job: task.job });
    }
  }

  private spawn(): void {
    // No `execArgv` of the parent (its --import tsx, test flags): the boot file registers tsx itself.
    const worker = new Worker(BOOT, { execArgv: [] });
    const thread: Thread = { worker, task: undefined, ready: false };
    this.threads.push(thread);
    worker.on('message', (r: Reply) => {
      if ('ready' in r) {
        thread.ready = true;
        worker.unref();
        this.pump();
        return;
      }
      const task = thread.task;
      thread.task = undefined;
      worker.unref();
      if (task && task.id === r.id) {
        if (r.ok)
          task.resolve({ image: Buffer.from(r.image.buffer, r.image.byteOffset, r.image.byteLength), width: r.width, height: r.height });
        else task.reject(r.decode ? new ImageDecodeError(r.message) : new Error(r.message));
      }
      this.pump();
    });
    const gone = (err: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      thread.task?.reject(new Error(`a sensor thread died: ${err.message}`));
      thread.task = undefined;
      if (!this.closed) this.pump();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => {
      if (this.threads.includes(thread)) gone(new Error(`exit code ${code}`));
    });
  }
}

let shared: SensorPool | undefined;

/** The process's pool, made on first use. */
export function sensorPool(): SensorPool {
  shared ??= new SensorPool();
  return shared;
}
