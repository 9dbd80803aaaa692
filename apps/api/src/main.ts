/**
 * Runs the API as its own process: `node --import tsx apps/api/src/main.ts`. The first SIGINT or
 * SIGTERM closes gracefully; a second one exits at once.
 */
import { EnvError, loadEnv } from './env.ts';
import { startApi } from './server.ts';

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`synthline-api: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const api = await startApi(env);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`synthline-api: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`synthline-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
