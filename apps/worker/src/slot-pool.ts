import { RenderSlot, type RenderSlotOptions } from '@synthline/blender';

/** A fixed set of warm render slots handed to batches one at a time. */
export class SlotPool {
  readonly slots: RenderSlot[];
  private readonly free: RenderSlot[];
  private readonly waiting: ((s: RenderSlot) => void)[] = [];

  constructor(n: number, opts: RenderSlotOptions) {
    this.slots = Array.from({ length: n }, () => new RenderSlot(opts));
    this.free = [...this.slots];
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
