export { TarWriter, readTar, hashFile, checkKey, type Sample, type Member, type TarInfo } from './tar.ts';
export { ShardWriter, shardName } from './shard-writer.ts';
export { writeManifest, readManifest, MANIFEST_FILE } from './manifest-file.ts';
export { verifyDataset, walkShards, type VerifyReport } from './verify.ts';
