/** One bad variable: its name and why. */
export interface EnvProblem {
  variable: string;
  message: string;
}

/** The environment is unusable; the message names every bad variable, not only the first. */
export class EnvError extends Error {
  override name = 'EnvError';
  readonly code = 'ENV_INVALID';
  constructor(readonly problems: EnvProblem[]) {
    super(`invalid environment:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
  }
}
