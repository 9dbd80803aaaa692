import { parentPort } from 'node:worker_threads';
import { ImageDecodeError, finishImage, type FinishJob } from './finish.ts';

/** A SensorPool thread: finishes the images it is sent, one at a time, and answers each. */
const port = parentPort;
if (!port) throw new Error('thread.ts runs as a worker thread of SensorPool');
port.on('message', async (msg: { id: number; job: FinishJob }) => {
  try {
    const r = await finishImage(msg.job);
    port.postMessage({ id: msg.id, ok: true, image: r.image, width: r.width, height: r.height });
  } catch (err) {
    const e = err as Error;
    port.postMessage({ id: msg.id, ok: false, decode: err instanceof ImageDecodeError, message: e.message ?? String(err) });
  }
});
port.postMessage({ ready: true });
