import type { FrameOutputs, FramePlan, ProbeResult, ProductSource, RenderDeviceKind, RenderResult } from '@synthline/spec';
import { coerceError } from '@synthline/base';
import { BlenderError } from './errors.ts';
import { RenderServer, type RenderServerOptions } from './render-server.ts';

export interface RenderSlotOptions extends RenderServerOptions {
  /** Recycle the process after this many frames (data-blocks pile up in a long-lived Blender). */
  maxFramesPerProcess?: number;
  /** Recycle the process once its resident memory exceeds this many bytes. */
  maxRssBytes?: number;
  /** A frame that takes longer is killed with its process. */
  frameTimeoutMs?: number;
  /**
   * How often a frame is tried on a fresh process after a crash or timeout. A frame that fails
   * with MEMORY_LIMIT is not tried again; its process is replaced for the next frame.
   */
  attempts?: number;
  /** Told when a process starts, is recycled or crashed (a frame's MEMORY_LIMIT counts as a crash). */
  onEvent?: (e: SlotEvent) => void;
}

export type SlotEvent =
  | { type: 'started'; pid: number | undefined; blenderVersion: string; device?: string; deviceKind?: RenderDeviceKind | '' }
  | { type: 'recycled'; reason: 'frames' | 'memory'; frames: number; rssBytes: number }
  | { type: 'crashed'; error: BlenderError; index: number; attempt: number };

/**
 * One worker slot: one warm Blender render server, started on first use, recycled after N
 * frames or above a memory ceiling, restarted after a crash or a hung frame.
 */
export class RenderSlot {
  private server: RenderServer | undefined;
  private starting: Promise<RenderServer> | undefined;
  private framesOnProcess = 0;
  private closed = false;
  private lastDevice = '';
  private lastKind: RenderDeviceKind | '' = '';
  /** A start failure no fresh process can fix (the GPU asked for is absent): kept and rethrown. */
  private fatal: BlenderError | undefined;
  /** Processes started so far (1 + restarts + recycles). */
  starts = 0;

  constructor(private readonly opts: RenderSlotOptions = {}) {}

  /** Blender's version, once a process has started. */
  get blenderVersion(): string {
    return this.server?.blenderVersion ?? '';
  }

  /**
   * The device this slot renders on (`cpu`, `cuda:0 NVIDIA A10`, ...), as the render server
   * reported it; '' before the first process started.
   */
  get device(): string {
    return this.server?.device || this.lastDevice;
  }

  /** The kind of device this slot renders on (`cpu`, `cuda`, ...); '' before the first process started. */
  get deviceKind(): RenderDeviceKind | '' {
    return this.server?.deviceKind || this.lastKind;
  }

  /** The current Blender process id, if one is running. */
  get pid(): number | undefined {
    return this.server?.pid;
  }

  /** Starts the process now rather than on the first frame. */
  async warm(): Promise<void> {
    await this.ensure();
  }

  /**
   * Renders a frame, retrying on a fresh process after a crash or a timeout. A frame Blender
   * itself reports as failed (a bad plan) is not retried. Several calls may be in flight: the
   * server handles them in order, so Blender renders the next frame while Node finishes this one.
   */
  async render(plan: FramePlan, outputs: FrameOutputs): Promise<RenderResult> {
    const attempts = this.opts.attempts ?? 3;
    let last: BlenderError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.closed) throw new BlenderError('SERVER_CLOSED', 'render slot is closed');
      const server = await this.ensure();
      try {
        const result = await server.render(plan, outputs, this.opts.frameTimeoutMs ?? 120_000);
        this.framesOnProcess++;
        await this.maybeRecycle(server, result.rss_bytes);
        return result;
      } catch (err) {
        const e = err instanceof BlenderError ? err : new BlenderError('FRAME_FAILED', coerceError(err).message);
        if (e.code === 'MEMORY_LIMIT') {
          // Not retried (the same frame would exhaust a fresh process too), but this process is
          // done: whatever the failed allocation left half-built stays out of the next frame.
          this.opts.onEvent?.({ type: 'crashed', error: e, index: plan.index, attempt });
          this.retire(server);
        }
        if (!e.retryable) throw e;
        last = e;
        this.opts.onEvent?.({ type: 'crashed', error: e, index: plan.index, attempt });
        if (this.server === server) {
          this.server = undefined;
          await server.kill();
        }
      }
    }
    throw last ?? new BlenderError('FRAME_FAILED', 'render failed');
  }

  /**
   * Probes a model file. A crash or hang is not retried (a bad file would crash again): the
   * process is dropped and the next call starts a fresh one.
   */
  async probe(source: ProductSource, timeoutMs = 120_000): Promise<ProbeResult> {
    const server = await this.ensure();
    try {
      return await server.probe(source, timeoutMs);
    } catch (err) {
      if (err instanceof BlenderError && err.code === 'MEMORY_LIMIT') this.retire(server);
      else if (err instanceof BlenderError && err.retryable && this.server === server) {
        this.server = undefined;
        await server.kill();
      }
      throw err;
    }
  }

  /** Closes the process; safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const server = this.server ?? (await this.starting?.catch(() => undefined));
    this.server = undefined;
    await server?.close();
  }

  private async ensure(): Promise<RenderServer> {
    if (this.server?.alive) return this.server;
    if (this.fatal) throw this.fatal;
    this.starting ??= (async () => {
      const server = new RenderServer(this.opts);
      try {
        await server.start();
      } catch (err) {
        if (err instanceof BlenderError && err.code === 'DEVICE_UNAVAILABLE') this.fatal = err;
        throw err;
      }
      this.starts++;
      this.framesOnProcess = 0;
      this.server = server;
      this.lastDevice = server.device;
      this.lastKind = server.deviceKind;
      this.opts.onEvent?.({
        type: 'started',
        pid: server.pid,
        blenderVersion: server.blenderVersion,
        device: server.device,
        deviceKind: server.deviceKind,
      });
      return server;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Starts the next request on a fresh process; frames already sent to this one still finish. */
  private retire(server: RenderServer): void {
    if (this.server !== server) return;
    this.server = undefined;
    void server.close(60_000);
  }

  private async maybeRecycle(server: RenderServer, rssBytes: number): Promise<void> {
    const maxFrames = this.opts.maxFramesPerProcess ?? 2000;
    const maxRss = this.opts.maxRssBytes ?? 4 * 1024 ** 3;
    const reason = this.framesOnProcess >= maxFrames ? 'frames' : rssBytes > maxRss ? 'memory' : undefined;
    if (!reason || this.server !== server) return;
    this.opts.onEvent?.({ type: 'recycled', reason, frames: this.framesOnProcess, rssBytes });
    this.server = undefined;
    // Frames already sent to this process still finish: close() lets it drain its queue first.
    void server.close(60_000);
  }
}
