import S3rver from 's3rver';
import { freePort } from '@synthline/cli/private-redis';
import { tempDir } from './helpers.ts';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The variables a worker, the API or the CLI need to reach it. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver: S3's REST API over HTTP, objects on disk, SigV4 checked)
 * on a free loopback port, with one bucket. Its default credentials are S3RVER / S3RVER.
 */
export async function startTestS3(bucket = 'synthline'): Promise<TestS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: await freePort(),
    silent: true,
    directory: await tempDir('synthline-s3rver-'),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      SYNTHLINE_S3_PATH_STYLE: '1',
    },
    close: () => server.close(),
  };
}
