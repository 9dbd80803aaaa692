export {
  evaluate,
  checkOptions,
  pixelsOf,
  REPORT_FORMAT,
  REPORT_FILES,
  type EvaluateOptions,
  type EvaluateResult,
  type EvaluationReport,
  type ClassScore,
} from './evaluate.ts';
export { sweep, parseSweepRatio, SWEEP_FORMAT, type SweepOptions, type SweepReport, type SweepRow } from './sweep.ts';
export { openSet, type EvalSet, type EvalSample, type SetKind } from './inputs.ts';
export { mapTargets, targetOf, labelPath, NAMED_TARGETS, type ClassMap } from './targets.ts';
export { binParameters, worstBins, wilson, score, PARAMS, MISSING, NUMERIC_BINS, type ParamBins, type Bin, type Score } from './bins.ts';
export {
  runProbe,
  probeRunner,
  frame,
  RUNNER_SCRIPT,
  DEFAULT_PYTHON,
  PROTOCOL,
  type RunnerHello,
  type EpochReport,
  type RunSettings,
} from './runner.ts';
export { EvaluateError, type EvaluateErrorCode } from './errors.ts';
export {
  suggestWeights,
  classConfusions,
  SUGGEST_ALPHA,
  MAX_WEIGHT,
  WEIGHT_DIGITS,
  type WeightSuggestion,
  type ProductSuggestion,
  type ClassConfusion,
} from './suggest-weights.ts';
export { SUGGEST_TARGETS, trainSpecOf, type SuggestionReport } from './suggest-spec.ts';
