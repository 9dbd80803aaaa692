import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { access, link, mkdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { partialName } from '@synthline/base';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StorageError, StorageUrlError, checkJobId, checkRel, type Storage } from './storage.ts';

/**
 * Datasets on a local or shared disk: `file://` URLs or plain paths name a folder the API and
 * workers share; each job gets `<root>/<jobId>/`. Files are written in place (each under a
 * temporary name, then renamed), so `publish` and `fetch` have nothing to move.
 */
export class FileStorage implements Storage {
  readonly kind = 'file' as const;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Parses `file:///abs/path`, `file:relative` or a plain path. */
  static fromUrl(url: string): FileStorage {
    if (url.startsWith('file://')) return new FileStorage(fileURLToPath(url));
    if (url.startsWith('file:')) return new FileStorage(url.slice('file:'.length));
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new StorageUrlError(`storage URL "${url}": not a file:// URL`);
    return new FileStorage(isAbsolute(url) ? url : resolve(url));
  }

  get root(): string {
    return pathToFileURL(this.dir).href;
  }

  async check(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A folder this process cannot write to (a read-only mount, another owner's folder) fails
    // here, by name: Node's recursive mkdir reports a read-only file system as ENOENT later.
    try {
      await access(this.dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new StorageError(`${this.dir} is not writable (${code === 'EROFS' ? 'EROFS: a read-only file system' : code})`);
    }
  }

  url(jobId: string, rel = ''): string {
    return pathToFileURL(this.localPath(jobId, rel)).href;
  }

  localPath(jobId: string, rel: string): string {
    return join(this.dir, checkJobId(jobId), checkRel(rel));
  }

  async prepare(jobId: string, rel: string): Promise<string> {
    const p = this.localPath(jobId, rel);
    await mkdir(dirname(p), { recursive: true });
    return p;
  }

  async publish(jobId: string, rel: string, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    // Already in place; a file only ever appears whole (temporary name, then rename).
    void opts;
    await stat(this.localPath(jobId, rel));
    return true;
  }

  async fetch(jobId: string, rel: string): Promise<string | null> {
    const p = this.localPath(jobId, rel);
    return (await this.exists(jobId, rel)) ? p : null;
  }

  async exists(jobId: string, rel: string): Promise<boolean> {
    try {
      await stat(this.localPath(jobId, rel));
      return true;
    } catch {
      return false;
    }
  }

  async withFile<T>(jobId: string, rel: string, fn: (path: string) => Promise<T>): Promise<T | undefined> {
    const p = this.localPath(jobId, rel);
    try {
      return await fn(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** A hard link never replaces an existing name: the first writer wins, atomically. */
  async commitBytes(jobId: string, rel: string, data: string | Buffer): Promise<boolean> {
    const p = await this.prepare(jobId, rel);
    const tmp = partialName(p);
    await writeFile(tmp, data);
    try {
      await link(tmp, p);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    // The local files are the stored files.
  }

  /**
   * Renamed aside first, then deleted: a reader sees the folder whole or not at all, never a
   * tree that empties under it while it lists it.
   */
  async remove(jobId: string, relPrefix = ''): Promise<void> {
    const p = this.localPath(jobId, relPrefix).replace(/\/+$/, '');
    const aside = join(dirname(p), `.${basename(p)}.removing-${randomBytes(4).toString('hex')}`);
    try {
      await rename(p, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
  }
}
