import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import tar from 'tar-stream';
import { partialName } from '@synthline/base';

/** One member of a sample: `<key>.<ext>`. */
export interface Member {
  ext: string;
  data: Buffer;
}

/** A WebDataset sample: the members sharing a key, stored consecutively. */
export interface Sample {
  key: string;
  members: Member[];
}

/** Fixed tar header fields, so equal content gives equal bytes. */
const HEADER = { mtime: new Date(0), mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', type: 'file' as const };

/** A key must not contain a dot (WebDataset ends the key at the first one) nor a slash. */
export function checkKey(key: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`invalid sample key "${key}": letters, digits, "_" and "-" only`);
}

/** What a finished tar file holds. */
export interface TarInfo {
  path: string;
  samples: number;
  bytes: number;
  sha256: string;
  firstKey: string;
  lastKey: string;
}

/**
 * Streams samples into one tar file, written under a temporary name of its own and renamed on {@link finish},
 * so a reader never sees a half-written file under the final name.
 */
export class TarWriter {
  private readonly pack = tar.pack();
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private samples = 0;
  private firstKey = '';
  private lastKey = '';
  private readonly done: Promise<void>;
  private readonly out;
  private failure: Error | undefined;

  private readonly partial: string;

  constructor(readonly path: string) {
    this.partial = partialName(path);
    this.out = createWriteStream(this.partial);
    this.pack.on('data', (chunk) => {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('tar-stream emitted a non-buffer');
      this.hash.update(chunk);
      this.bytes += chunk.length;
    });
    this.pack.pipe(this.out);
    // A write error (a full disk) must surface on the next add, not leave it waiting for 'drain'.
    this.out.on('error', (e) => {
      this.failure ??= e;
    });
    this.done = new Promise((resolve, reject) => {
      this.out.on('finish', resolve);
      this.out.on('error', reject);
      this.pack.on('error', reject);
    });
    this.done.catch(() => undefined);
  }

  /** Appends a sample's members, consecutively. */
  async add(sample: Sample): Promise<void> {
    checkKey(sample.key);
    if (this.failure) throw this.failure;
    for (const m of sample.members) {
      await new Promise<void>((resolve, reject) => {
        this.pack.entry({ ...HEADER, name: `${sample.key}.${m.ext}`, size: m.data.length }, m.data, (err) =>
          err ? reject(err) : resolve(),
        );
      });
    }
    if (this.samples === 0) this.firstKey = sample.key;
    this.lastKey = sample.key;
    this.samples++;
    if (this.failure) throw this.failure;
    // events.once rejects if the stream errors while we wait.
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  get sampleCount(): number {
    return this.samples;
  }

  /** Ends the archive, flushes it and moves it to its final name. */
  async finish(): Promise<TarInfo> {
    this.pack.finalize();
    await this.done;
    await rename(this.partial, this.path);
    return {
      path: this.path,
      samples: this.samples,
      bytes: this.bytes,
      sha256: this.hash.digest('hex'),
      firstKey: this.firstKey,
      lastKey: this.lastKey,
    };
  }

  /** Drops the partial file. */
  async abort(): Promise<void> {
    this.pack.destroy();
    // A stream destroyed before its file opened still opens (creates) it, then closes it: wait
    // for that, or the file appears after the rm below (seen on a loaded machine).
    const closed = this.out.closed
      ? Promise.resolve()
      : once(this.out, 'close').then(
          () => undefined,
          () => undefined,
        );
    this.out.destroy();
    await closed;
    await rm(this.partial, { force: true });
  }
}

/** Reads the samples of a tar file in order, grouping consecutive members by key. */
export async function* readTar(path: string): AsyncGenerator<Sample> {
  const extract = tar.extract();
  const input = createReadStream(path);
  input.on('error', (e) => extract.destroy(e)).pipe(extract);
  try {
    let current: Sample | undefined;
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const name = entry.header.name;
      const dot = name.indexOf('.');
      if (dot <= 0) throw new Error(`${path}: member "${name}" has no "<key>.<ext>" name`);
      const key = name.slice(0, dot);
      const member = { ext: name.slice(dot + 1), data: Buffer.concat(chunks) };
      if (current && current.key === key) current.members.push(member);
      else {
        if (current) yield current;
        current = { key, members: [member] };
      }
    }
    if (current) yield current;
  } finally {
    // A reader that stops early must not leak the file.
    input.destroy();
    extract.destroy();
  }
}

/** sha256 and size of a file. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of createReadStream(path)) {
    h.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}
