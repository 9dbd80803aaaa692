import { destination, pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The logger of every command that runs the service (`serve`, `worker`, `up`, `demo`): logs go to
 * stderr, so stdout holds only what the command prints for people (or scripts); on a terminal
 * they are pretty one-liners with a clock time, otherwise JSON lines for a log collector.
 */
export function cliLogger(level: string, name?: string): Logger {
  const opts = { level, ...(name ? { name } : {}) };
  if (process.stderr.isTTY) {
    return pino(opts, pretty({ destination: 2, sync: true, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }));
  }
  return pino(opts, destination({ dest: 2, sync: true }));
}
