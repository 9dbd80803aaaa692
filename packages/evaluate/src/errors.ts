/**
 * Why an evaluation was refused or failed. `BAD_OPTION` and `NOT_FOUND` are a bad command line
 * (the CLI exits 2); every other code is a problem with the data, the machine or the run (exit 1).
 */
export type EvaluateErrorCode =
  | 'BAD_OPTION'
  | 'NOT_FOUND'
  | 'INPUT'
  | 'EMPTY'
  | 'TARGET'
  | 'UNKNOWN_CLASSES'
  | 'OUTPUT_EXISTS'
  | 'NO_PYTHON'
  | 'NO_TORCH'
  | 'NO_CUDA'
  | 'BAD_WEIGHTS'
  | 'RUNNER'
  | 'SUGGEST';

/** An evaluation that cannot be done, with a stable `code` and a message that names the fix. */
export class EvaluateError extends Error {
  override name = 'EvaluateError';
  constructor(
    readonly code: EvaluateErrorCode,
    message: string,
  ) {
    super(message);
  }
}
