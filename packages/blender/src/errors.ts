import { isServerErrorCode, type DriverErrorCode, type ServerErrorCode } from '@synthline/spec';

export type { DriverErrorCode };

/**
 * Why a frame could not be rendered; stored on jobs and in `dataset.json` as data: a driver code,
 * or the code of the render server's error reply (`BAD_PLAN`, `BAD_ASSET`, ...; the protocol's enum).
 */
export type BlenderErrorCode = DriverErrorCode | ServerErrorCode;

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

  /**
   * A crash or timeout may pass on a fresh process; a bad plan, a bad asset (any error the render
   * server replied with) or a missing GPU will not.
   */
  get retryable(): boolean {
    if (isServerErrorCode(this.code)) return false;
    return (
      this.code !== 'BLENDER_NOT_FOUND' &&
      this.code !== 'FRAME_FAILED' &&
      this.code !== 'DEVICE_UNAVAILABLE' &&
      this.code !== 'MEMORY_LIMIT'
    );
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
