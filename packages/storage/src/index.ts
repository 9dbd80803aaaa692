import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A storage URL that cannot be used. */
export class StorageUrlError extends Error {
  override name = 'StorageUrlError';
  readonly code = 'STORAGE_URL_INVALID';
}

/**
 * Where datasets live. `file://` URLs (or plain paths) name a folder on a disk the API and the
 * workers share; each job gets `<root>/<jobId>/` with its fragments under `fragments/`.
 */
export class FileStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Parses `file:///abs/path`, `file:relative` or a plain path. */
  static fromUrl(url: string): FileStorage {
    if (url.startsWith('file:')) {
      if (url.startsWith('file://')) return new FileStorage(fileURLToPath(url));
      return new FileStorage(url.slice('file:'.length));
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      throw new StorageUrlError(`storage URL "${url}": only file:// is supported by this build`);
    }
    return new FileStorage(isAbsolute(url) ? url : resolve(url));
  }

  /** The storage URL of a path inside it. */
  url(path = this.root): string {
    return pathToFileURL(path).href;
  }

  /** A job's dataset folder. */
  jobDir(jobId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(jobId)) throw new StorageUrlError(`invalid job id "${jobId}"`);
    return join(this.root, jobId);
  }

  /** A job's folder of batch fragments. */
  fragmentsDir(jobId: string): string {
    return join(this.jobDir(jobId), 'fragments');
  }

  /** The fragment of one batch: a deterministic name, so a rerun replaces, never duplicates. */
  fragmentPath(jobId: string, batch: number): string {
    return join(this.fragmentsDir(jobId), `${String(batch).padStart(6, '0')}.tar`);
  }

  async ensureDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  /** Removes everything a job wrote. */
  async removeJob(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true });
  }
}
