import { RenderSlot, findBlender, listDevices, slotDevices, type RenderSlotOptions, type SlotDevice } from '@synthline/blender';
import type { BlenderDevice, RenderDevice, RenderDeviceKind } from '@synthline/spec';

/** Blender's device list per executable: asked once per process (it spawns Blender). */
const deviceLists = new Map<string, Promise<BlenderDevice[]>>();

function cachedDevices(blender: string, env: NodeJS.ProcessEnv | undefined): Promise<BlenderDevice[]> {
  let p = deviceLists.get(blender);
  if (!p) {
    p = listDevices(blender, { env });
    p.catch(() => deviceLists.delete(blender));
    deviceLists.set(blender, p);
  }
  return p;
}

/** A fixed set of warm render slots handed to batches one at a time. */
export class SlotPool {
  readonly slots: RenderSlot[];
  /**
   * What each slot renders on, in the order of `slots` (see {@link SlotPool.create}); empty
   * entries' kinds are learnt from the slots once they have started.
   */
  readonly devices: (SlotDevice | undefined)[];
  private readonly free: RenderSlot[];
  private readonly waiting: ((s: RenderSlot) => void)[] = [];

  /** `n` slots; with `devices` (one per slot, from slotDevices) each slot is started on its own. */
  constructor(n: number, opts: RenderSlotOptions, devices?: SlotDevice[]) {
    if (devices && devices.length !== n) throw new RangeError(`${n} slots but ${devices.length} devices`);
    this.devices =
      devices ??
      Array.from({ length: n }, () => (opts.device === 'cpu' ? { device: 'cpu' as const, label: 'cpu', fallback: false } : undefined));
    this.slots = this.devices.map((d) => new RenderSlot(d ? { ...opts, device: d.device, deviceIndex: d.deviceIndex } : opts));
    this.free = [...this.slots];
  }

  /**
   * Slots for `opts.device` (default auto) on this machine: `slots` a number, or `auto` = one per
   * GPU of the chosen kind (each bound to its GPU), 1 on the CPU. Lists Blender's devices once
   * (except for `cpu`); a GPU kind that is absent throws BlenderError('DEVICE_UNAVAILABLE')
   * naming what Blender found, unless `opts.allowCpuFallback`.
   */
  static async create(
    slots: number | 'auto',
    opts: RenderSlotOptions,
    list: (blender: string) => Promise<BlenderDevice[]> = (b) => cachedDevices(b, opts.env),
  ): Promise<SlotPool> {
    const kind = opts.device ?? 'auto';
    const found = kind === 'cpu' ? [] : await list(opts.blender ?? findBlender(opts.env));
    const devices = slotDevices(kind, found, slots, opts.allowCpuFallback ?? false);
    return new SlotPool(devices.length, opts, devices);
  }

  /** The device labels the slots render on (`cpu`, `cuda:0 NVIDIA A10`, ...); '' where not known yet. */
  get deviceLabels(): string[] {
    return this.slots.map((s, i) => s.device || this.devices[i]?.label || '');
  }

  /** The device kinds the slots render on (`cpu`, `cuda`, ...); '' where not known yet. */
  get deviceKinds(): (RenderDeviceKind | '')[] {
    return this.slots.map((s, i) => s.deviceKind || this.devices[i]?.device || '');
  }

  /**
   * Why this worker must not render a job whose spec asks for `render.device` = `want`, or
   * undefined if it may: `auto` goes anywhere; a kind needs slots of that kind, or CPU slots when
   * the spec allows CPU fallback. Unknown kinds (slots not started yet) do not refuse.
   */
  refusal(want: RenderDevice, allowCpuFallback: boolean): string | undefined {
    if (want === 'auto') return undefined;
    const labels = this.deviceLabels;
    const kinds = new Set(this.deviceKinds.filter(Boolean));
    if (kinds.size === 0 || kinds.has(want) || (allowCpuFallback && kinds.has('cpu'))) return undefined;
    const on = [...new Set(labels.filter(Boolean))].join(', ');
    return `this job's spec asks for render.device "${want}"${allowCpuFallback ? ' (or the CPU)' : ''}, but this worker renders on ${on}`;
  }

  async acquire(): Promise<RenderSlot> {
    const s = this.free.pop();
    if (s) return s;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(s: RenderSlot): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.free.push(s);
  }

  /** Closes every slot's Blender; safe to call twice. */
  async close(): Promise<void> {
    await Promise.allSettled(this.slots.map((s) => s.close()));
  }
}
