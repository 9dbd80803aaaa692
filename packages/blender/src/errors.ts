/** Why a frame could not be rendered; stored on jobs as data. */
export type BlenderErrorCode =
  | 'BLENDER_NOT_FOUND'
  | 'BLENDER_START_FAILED'
  | 'BLENDER_CRASHED'
  | 'FRAME_TIMEOUT'
  | 'FRAME_FAILED'
  | 'OUTPUT_UNREADABLE'
  | 'SERVER_CLOSED'
  /** The GPU asked for is not there (the message names every device Blender found). */
  | 'DEVICE_UNAVAILABLE'
  /** Blender ran out of memory under its cap (a hostile or oversized model); the message names the cap. */
  | 'MEMORY_LIMIT';

/** Base of every error this package throws: a stable `code` and Blender's last log lines. */
export class BlenderError extends Error {
  override name = 'BlenderError';
  constructor(
    readonly code: BlenderErrorCode,
    message: string,
    readonly logTail: string[] = [],
  ) {
    super(message);
  }

  /** A crash or timeout may pass on a fresh process; a bad plan or a missing GPU will not. */
  get retryable(): boolean {
    return this.code !== 'BLENDER_NOT_FOUND' && this.code !== 'FRAME_FAILED' && this.code !== 'DEVICE_UNAVAILABLE' && this.code !== 'MEMORY_LIMIT';
  }
}

/** Blender is not installed or not where BLENDER points. */
export class BlenderNotFoundError extends BlenderError {
  override name = 'BlenderNotFoundError';
  constructor(tried: string) {
    super(
      'BLENDER_NOT_FOUND',
      `Blender was not found (looked for "${tried}"). Install it with ` +
        '"sudo apt-get update && sudo apt-get install -y blender python3-numpy" on Debian/Ubuntu, ' +
        'or set BLENDER=/path/to/blender.',
    );
  }
}

/** Anything that is not an Error becomes one, so callers never handle a bare value. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}
