import { join } from 'node:path';
import type { ShardEntry } from '@synthline/spec';
import { TarWriter, type Sample } from './tar.ts';

/** `<name>-000000.tar`: the shard file names of a dataset. */
export function shardName(name: string, n: number): string {
  return `${name}-${String(n).padStart(6, '0')}.tar`;
}

/** Writes samples into shards of `shardSize` samples each, rolling over to a new file. */
export class ShardWriter {
  private current: TarWriter | undefined;
  private readonly done: ShardEntry[] = [];
  private next = 0;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly shardSize: number,
  ) {}

  async add(sample: Sample): Promise<void> {
    this.current ??= new TarWriter(join(this.dir, shardName(this.name, this.next++)));
    await this.current.add(sample);
    if (this.current.sampleCount >= this.shardSize) await this.roll();
  }

  /** Finishes the last shard and returns every shard written. */
  async close(): Promise<ShardEntry[]> {
    await this.roll();
    return [...this.done];
  }

  /** Drops the shard being written. */
  async abort(): Promise<void> {
    await this.current?.abort();
    this.current = undefined;
  }

  private async roll(): Promise<void> {
    const w = this.current;
    this.current = undefined;
    if (!w) return;
    const info = await w.finish();
    this.done.push({
      name: info.path.slice(this.dir.length + 1),
      samples: info.samples,
      bytes: info.bytes,
      sha256: info.sha256,
      first_key: info.firstKey,
      last_key: info.lastKey,
    });
  }
}
