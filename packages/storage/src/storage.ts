/** A storage URL that cannot be used. */
export class StorageUrlError extends Error {
  override name = 'StorageUrlError';
  readonly code = 'STORAGE_URL_INVALID';
}

/** A job's files, addressed by job id and a path relative to the job's folder (`fragments/000001.tar`). */
export interface Storage {
  readonly kind: 'file' | 's3';
  /** The storage's root URL (`file:///…` or `s3://bucket/prefix`). */
  readonly root: string;
  /** Fails early, naming the problem, when the storage cannot be used (missing bucket, no access). */
  check(): Promise<void>;
  /** The URL of a job's folder, or of a file inside it. */
  url(jobId: string, rel?: string): string;
  /**
   * Where a job's file is written before `publish` and found after `fetch`. For a local disk this
   * is the file's final place; for an object store, a local staging copy.
   */
  localPath(jobId: string, rel: string): string;
  /** `localPath`, with its folder made. */
  prepare(jobId: string, rel: string): Promise<string>;
  /**
   * Makes a file written at `localPath` visible as one whole object. With `ifAbsent`, an object
   * already committed under that name is never replaced (the call returns false).
   */
  publish(jobId: string, rel: string, opts?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Brings a job's file to `localPath` and returns that path, or null when there is none. */
  fetch(jobId: string, rel: string): Promise<string | null>;
  exists(jobId: string, rel: string): Promise<boolean>;
  /**
   * Runs `fn` on a local copy of a job's file that no one else uses (an object store's is
   * downloaded for it and removed after); undefined when there is no such file.
   */
  withFile<T>(jobId: string, rel: string, fn: (path: string) => Promise<T>): Promise<T | undefined>;
  /** Writes a small file only if none is there yet (a commit marker); false when one was. */
  commitBytes(jobId: string, rel: string, data: string | Buffer): Promise<boolean>;
  /** Drops local staging copies of a job (or of one of its files); the stored files stay. */
  release(jobId: string, rel?: string): Promise<void>;
  /** Removes a job's files under `relPrefix` (`fragments/`), or all of them. */
  remove(jobId: string, relPrefix?: string): Promise<void>;
}

export const JOB_ID = /^[A-Za-z0-9_-]+$/;

export function checkJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new StorageUrlError(`invalid job id "${jobId}"`);
  return jobId;
}

/** A relative path inside a job folder: no `..`, no leading slash, plain characters. */
export function checkRel(rel: string): string {
  if (rel === '') return rel;
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/.test(rel) || rel.split('/').some((p) => p === '..' || p === '.')) {
    throw new StorageUrlError(`invalid path "${rel}" inside a job folder`);
  }
  return rel;
}

/** The info file of one batch, relative to its job: a name fixed by the batch number. */
export const fragmentRel = (batch: number, ext: 'json') => `fragments/${String(batch).padStart(6, '0')}.${ext}`;
export const FRAGMENTS = 'fragments/';

/** A storage call that failed, naming the operation and the object (or the folder that cannot be written). */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly code = 'STORAGE_FAILED';
}
