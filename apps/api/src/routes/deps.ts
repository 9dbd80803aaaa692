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
}

/** Largest frame count, width or height, and sample count one job may ask for. */
export interface JobCaps {
  count: number;
  resolution: number;
  samples: number;
}
