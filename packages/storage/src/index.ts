import type { EnvSource } from '@synthline/config';
import { FileStorage } from './file-storage.ts';
import { S3Storage } from './s3-storage.ts';
import type { Storage } from './storage.ts';

export * from './storage.ts';
export { FileStorage } from './file-storage.ts';
export {
  S3Storage,
  S3Objects,
  mirrorS3,
  putS3File,
  s3CacheDir,
  parseS3Url,
  s3SettingsFromEnv,
  makeS3Client,
  type S3Settings,
  type S3Location,
} from './s3-storage.ts';

/** Opens the storage a URL names: `s3://bucket/prefix`, `file://…`, or a plain folder path. */
export function openStorage(url: string, env: EnvSource = process.env): Storage {
  return url.startsWith('s3://') ? S3Storage.fromUrl(url, env) : FileStorage.fromUrl(url);
}
export { FragmentInfo, commitFragmentInfo, readFragmentInfo, fragmentTarRel } from './fragment.ts';
