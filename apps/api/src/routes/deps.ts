import type { Quota } from '@synthline/jobs';
import type { JobQueue } from '@synthline/queue';
import type { Storage } from '@synthline/storage';

/** What the routes work with; passed in, so the app never opens a connection itself. */
export interface RouteDeps {
  queue: JobQueue;
  storage: Storage;
  /** The asset library folder (`library:` products, background photos); read per request. */
  libraryRoot: string;
  /** The folder of real photo sets (`POST /v1/mixes` names one by its folder name). */
  realRoot: string;
  /** Operator caps on what one job may ask for. */
  caps: JobCaps;
  /** Shows the server's folders by name, never as absolute paths, in what the API answers. */
  redact: (text: string) => string;
  /** Quotas per owner (API key name): the defaults, and overrides by key name. */
  quotas: { defaults: Quota; perKey: Record<string, Partial<Quota>> };
}

/** Largest frame count, width or height, and sample count one job may ask for. */
export interface JobCaps {
  count: number;
  resolution: number;
  samples: number;
}
