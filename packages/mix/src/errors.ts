/**
 * Why a mix or an export was refused. `BAD_OPTION` is a bad command line or request (the CLI
 * exits 2, the API answers 400); every other code is a problem with the data or the output
 * folder (the CLI exits 1).
 */
export type MixErrorCode =
  | 'BAD_OPTION'
  | 'REAL_INPUT'
  | 'SYNTHETIC_INPUT'
  | 'EXPORT_INPUT'
  | 'UNKNOWN_CLASSES'
  | 'SHORTFALL'
  | 'NOTHING_TO_MIX'
  | 'OUTPUT_EXISTS';

/** A mix or export that cannot be done, with a stable `code` and a message for people. */
export class MixError extends Error {
  override name = 'MixError';
  constructor(
    readonly code: MixErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Real classes that the synthetic dataset does not have; `known` lists the ones it has. */
export class UnknownClassesError extends MixError {
  override name = 'UnknownClassesError';
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(
      'UNKNOWN_CLASSES',
      `real classes not in the synthetic dataset (classes are matched by name): ${unknown.join(', ')}\n` +
        `  synthetic classes: ${known.join(', ')}`,
    );
  }
}

/** One class without enough synthetic samples for its real images at the requested ratio. */
export interface Shortfall {
  class: string;
  real: number;
  synthetic_needed: number;
  synthetic_available: number;
  /** The most real images this class could keep with its synthetic samples (`--best-effort`). */
  real_possible: number;
}

/** Classes short of synthetic samples; refused unless `bestEffort` is set. */
export class ShortfallError extends MixError {
  override name = 'ShortfallError';
  constructor(
    readonly shortfalls: Shortfall[],
    ratio: string,
  ) {
    super(
      'SHORTFALL',
      `not enough synthetic samples for ${ratio} in ${shortfalls.length} class(es):\n` +
        shortfalls
          .map(
            (s) =>
              `  ${s.class}: ${s.real} real need ${s.synthetic_needed} synthetic, have ${s.synthetic_available}` +
              ` (${s.real_possible} real would fit)`,
          )
          .join('\n') +
        `\nrender more frames of these classes, or use --best-effort to keep fewer real images of them so the ratio holds`,
    );
  }
}
