import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { loadS3Env, type EnvSource } from '@synthline/config';
import { Upload } from '@aws-sdk/lib-storage';
import { StorageError, StorageUrlError, checkJobId, checkRel, type Storage } from './storage.ts';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
}

/** Parses `s3://bucket/prefix`; throws naming what is wrong. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new StorageUrlError(`"${url}" is not an s3://bucket/prefix URL`);
  const bucket = m[1] as string;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new StorageUrlError(`"${url}": "${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix && prefix.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new StorageUrlError(`"${url}": the prefix "${prefix}" has an empty, "." or ".." part`);
  }
  return { bucket, prefix };
}

export interface S3Settings {
  /** An S3-compatible endpoint (MinIO, Ceph, R2...); AWS when unset. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most non-AWS stores need. */
  forcePathStyle: boolean;
  /** Files at least this big go up as multipart uploads of parts this big (>= 5 MiB). */
  partSize: number;
  /** Local folder for staging copies. */
  staging: string;
}

/**
 * Settings from the environment, by the rules of @synthline/config's S3Env: AWS_ENDPOINT_URL_S3
 * (or AWS_ENDPOINT_URL), AWS_REGION (or AWS_DEFAULT_REGION), SYNTHLINE_S3_PATH_STYLE (default 1
 * with a custom endpoint), SYNTHLINE_S3_PART_MB (default 16), SYNTHLINE_STAGING (default
 * <tmp>/synthline-staging); credentials through the SDK's default chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, profiles, instance roles). Throws EnvError naming each bad variable.
 */
export function s3SettingsFromEnv(env: EnvSource = process.env): S3Settings {
  const s = loadS3Env(env);
  return {
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    region: s.region,
    forcePathStyle: s.pathStyle,
    partSize: s.partMb * 1024 * 1024,
    staging: s.staging,
  };
}

/**
 * A client that works with S3-compatible stores, not AWS alone: checksums only where the API
 * requires them (recent SDK releases add CRC32 checksums and aws-chunked bodies to every upload
 * by default, which MinIO releases, Ceph and other stores reject or ignore).
 */
export function makeS3Client(s: S3Settings): S3Client {
  // The SDK release pinned in package.json supports Node 20, which these machines run; its notice
  // that later releases will not would otherwise print on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const PARTIAL = '.partial';
const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
// A missing bucket is an error to report, not a missing object.
const isNotFound = (err: unknown) =>
  (err as Error).name !== 'NoSuchBucket' && (status(err) === 404 || ['NotFound', 'NoSuchKey'].includes((err as Error).name));

/** Whether a process of this id runs on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` over `items`, `n` at a time. */
async function eachLimit<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Objects under a prefix: S3 over its REST API, any S3-compatible store. */
export class S3Objects {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    private readonly partSize: number,
  ) {}

  private fail(op: string, key: string, err: unknown): StorageError {
    const e = err as Error;
    const where = `s3://${this.bucket}/${key}`;
    if (e.name === 'NoSuchBucket' || (status(err) === 404 && op === 'check')) {
      return new StorageError(`${op} ${where}: the bucket "${this.bucket}" does not exist (create it first)`);
    }
    return new StorageError(`${op} ${where} failed: ${e.name}: ${e.message}${status(err) ? ` (HTTP ${status(err)})` : ''}`);
  }

  async check(prefix: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw this.fail('check', prefix, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.fail('head', key, err);
    }
  }

  /**
   * Uploads a file as one object. Big files go up in parts (multipart upload): the object appears
   * only when the upload completes, and a failed upload is aborted, its parts dropped. With
   * `ifAbsent` an existing object is kept: the store refuses the write (If-None-Match: *), and
   * a store that ignores that header is asked first.
   */
  async putFile(key: string, path: string, ifAbsent = false): Promise<boolean> {
    try {
      if (ifAbsent && (await this.exists(key))) return false;
      const { size } = await stat(path);
      if (size < this.partSize) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: await readFile(path),
            ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
          }),
        );
      } else {
        await new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: createReadStream(path) },
          partSize: this.partSize,
          queueSize: 2,
          leavePartsOnError: false,
        }).done();
      }
      return true;
    } catch (err) {
      if (ifAbsent && status(err) === 412) return false;
      if (err instanceof StorageError) throw err;
      throw this.fail('upload', key, err);
    }
  }

  /**
   * Downloads an object to `path` (through a temporary name of its own, so concurrent downloads
   * of one object do not collide); false when there is none. With `mtime` (the object's
   * LastModified from a listing) the file keeps that time, the same on every machine.
   */
  async getFile(key: string, path: string, mtime?: Date): Promise<boolean> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(4).toString('hex')}${PARTIAL}`;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      await pipeline(r.Body as Readable, createWriteStream(tmp));
      if (mtime) await utimes(tmp, mtime, mtime);
      await rename(tmp, path);
      return true;
    } catch (err) {
      await rm(tmp, { force: true });
      if (isNotFound(err)) return false;
      throw this.fail('download', key, err);
    }
  }

  /** Every object under a prefix, with its size. */
  async list(prefix: string): Promise<{ key: string; size: number; modified: Date | undefined }[]> {
    const out: { key: string; size: number; modified: Date | undefined }[] = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.fail('list', prefix, err);
    }
    return out;
  }

  /**
   * Deletes every object under a prefix, one DeleteObject at a time (DeleteObjects needs a
   * checksum header that stores disagree on).
   */
  async removePrefix(prefix: string): Promise<void> {
    const all = await this.list(prefix);
    // A manifest goes first: a dataset being removed must stop looking complete before its shards go.
    const objects = all.filter((o) => !o.key.endsWith('/dataset.json'));
    for (const o of all.filter((x) => x.key.endsWith('/dataset.json'))) {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: o.key }));
      } catch (err) {
        if (!isNotFound(err)) throw this.fail('delete', o.key, err);
      }
    }
    await eachLimit(objects, 8, async (o) => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: o.key }));
      } catch (err) {
        if (!isNotFound(err)) throw this.fail('delete', o.key, err);
      }
    });
  }
}

/**
 * Datasets in an object store: `s3://bucket/prefix`, each job under `prefix/<jobId>/`. Files are
 * written to a local staging folder, then published as whole objects; readers fetch them back.
 */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly objects: S3Objects;
  /** This process's staging folder: processes sharing a machine never share staging files. */
  private readonly staging: string;
  private readonly stagingParent: string;

  constructor(
    readonly location: S3Location,
    settings: S3Settings,
    client: S3Client = makeS3Client(settings),
  ) {
    this.objects = new S3Objects(client, location.bucket, settings.partSize);
    this.stagingParent = join(settings.staging, location.bucket, location.prefix || '_');
    this.staging = join(this.stagingParent, `p${process.pid}`);
  }

  static fromUrl(url: string, env: EnvSource = process.env): S3Storage {
    return new S3Storage(parseS3Url(url), s3SettingsFromEnv(env));
  }

  get root(): string {
    return `s3://${this.location.bucket}${this.location.prefix ? `/${this.location.prefix}` : ''}`;
  }

  key(jobId: string, rel = ''): string {
    return `${this.location.prefix ? `${this.location.prefix}/` : ''}${checkJobId(jobId)}/${checkRel(rel)}`;
  }

  url(jobId: string, rel = ''): string {
    return `s3://${this.location.bucket}/${this.key(jobId, rel)}`.replace(/\/$/, '');
  }

  localPath(jobId: string, rel: string): string {
    return join(this.staging, checkJobId(jobId), checkRel(rel));
  }

  async prepare(jobId: string, rel: string): Promise<string> {
    const p = this.localPath(jobId, rel);
    await mkdir(dirname(p), { recursive: true });
    return p;
  }

  /**
   * Fails early, naming the bucket, when the store cannot be reached or the bucket is missing;
   * removes the staging folders of processes that are gone (killed mid-batch).
   */
  async check(): Promise<void> {
    await this.objects.check(this.location.prefix);
    let entries: string[] = [];
    try {
      entries = await readdir(this.stagingParent);
    } catch {
      return;
    }
    for (const e of entries) {
      const pid = /^p(\d+)$/.exec(e)?.[1];
      if (pid && Number(pid) !== process.pid && !alive(Number(pid)))
        await rm(join(this.stagingParent, e), { recursive: true, force: true });
    }
  }

  async publish(jobId: string, rel: string, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    return this.objects.putFile(this.key(jobId, rel), this.localPath(jobId, rel), opts.ifAbsent ?? false);
  }

  async fetch(jobId: string, rel: string): Promise<string | null> {
    const p = this.localPath(jobId, rel);
    return (await this.objects.getFile(this.key(jobId, rel), p)) ? p : null;
  }

  async exists(jobId: string, rel: string): Promise<boolean> {
    return this.objects.exists(this.key(jobId, rel));
  }

  async withFile<T>(jobId: string, rel: string, fn: (path: string) => Promise<T>): Promise<T | undefined> {
    const tmp = join(this.staging, '.reads', `${randomBytes(6).toString('hex')}-${rel.replace(/\//g, '_')}`);
    try {
      if (!(await this.objects.getFile(this.key(jobId, rel), tmp))) return undefined;
      return await fn(tmp);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async commitBytes(jobId: string, rel: string, data: string | Buffer): Promise<boolean> {
    const tmp = join(this.staging, '.writes', `${randomBytes(6).toString('hex')}-${rel.replace(/\//g, '_')}`);
    await mkdir(dirname(tmp), { recursive: true });
    await writeFile(tmp, data);
    try {
      return await this.objects.putFile(this.key(jobId, rel), tmp, true);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async release(jobId: string, rel = ''): Promise<void> {
    await rm(this.localPath(jobId, rel), { recursive: true, force: true });
  }

  async remove(jobId: string, relPrefix = ''): Promise<void> {
    await this.objects.removePrefix(this.key(jobId, relPrefix));
    await this.release(jobId, relPrefix);
  }
}

/** Every file under a folder, as paths relative to it. */
async function localFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

/**
 * Copies every object under an `s3://bucket/prefix` URL into a local folder, keeping their
 * relative paths and their LastModified as mtime; objects already there with the same size and
 * time are skipped. With `prune`, local files the bucket no longer holds are removed (files being
 * downloaded by a concurrent call are left alone). Returns the number of objects found.
 */
export async function mirrorS3(url: string, dir: string, opts: { env?: EnvSource; prune?: boolean } = {}): Promise<number> {
  const loc = parseS3Url(url);
  const settings = s3SettingsFromEnv(opts.env);
  const objects = new S3Objects(makeS3Client(settings), loc.bucket, settings.partSize);
  try {
    const base = loc.prefix ? `${loc.prefix}/` : '';
    const all = (await objects.list(base)).filter((o) => !o.key.endsWith('/'));
    const wanted = new Set<string>();
    await eachLimit(all, 4, async (o) => {
      const rel = o.key.slice(base.length);
      if (rel.split('/').some((p) => p === '..' || p === '.' || p === ''))
        throw new StorageError(`refusing object key "${o.key}": it would leave ${dir}`);
      const to = join(dir, rel);
      wanted.add(relative(dir, to));
      try {
        const s = await stat(to);
        if (s.size === o.size && o.modified && Math.floor(s.mtimeMs) === o.modified.getTime()) return;
      } catch {
        // not there yet
      }
      await objects.getFile(o.key, to, o.modified);
    });
    if (opts.prune) {
      for (const f of await localFiles(dir)) {
        if (wanted.has(f) || f.endsWith(PARTIAL)) continue;
        await rm(join(dir, f), { force: true });
        // A folder left empty (a product removed from the bucket) goes too.
        for (let d = dirname(join(dir, f)); d.startsWith(dir) && d !== dir; d = dirname(d)) {
          if (
            !(await rmdir(d).then(
              () => true,
              () => false,
            ))
          )
            break;
        }
      }
    }
    return all.length;
  } finally {
    objects.client.destroy();
  }
}

/** Uploads one local file to an `s3://bucket/key` URL. */
export async function putS3File(url: string, path: string, env: EnvSource = process.env): Promise<void> {
  const loc = parseS3Url(url);
  const settings = s3SettingsFromEnv(env);
  const objects = new S3Objects(makeS3Client(settings), loc.bucket, settings.partSize);
  try {
    await objects.putFile(loc.prefix, path);
  } finally {
    objects.client.destroy();
  }
}

/** The local copy of an `s3://` folder (an asset library) under the staging folder. */
export function s3CacheDir(url: string, env: EnvSource = process.env): string {
  const loc = parseS3Url(url);
  return join(s3SettingsFromEnv(env).staging, 'mirror', loc.bucket, loc.prefix || '_');
}
