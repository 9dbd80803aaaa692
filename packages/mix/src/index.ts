export { mixDatasets, mixKey, type MixOptions, type MixReport, type MixProgress } from './mix.ts';
export {
  exportDataset,
  exportImageFolder,
  EXPORT_FILE,
  EXPORT_FORMAT,
  EXPORT_FORMATS,
  type ExportFormatName,
  type ExportOptions,
  type ExportReport,
} from './export.ts';
export { encodeRle, decodeRle, rleArea, type CocoRle } from './coco-rle.ts';
export { verifyMix, datasetFormat } from './verify-mix.ts';
export {
  MIX_FORMAT,
  MixManifest,
  MixClass,
  MixAllocation,
  RealLabel,
  SyntheticLabelExtra,
} from './manifest.ts';
export {
  allocate,
  parseRatio,
  formatRatio,
  ratioValue,
  type Ratio,
  type RatioValue,
  type ClassSupply,
  type Allocation,
  type Allocations,
  type Adjustment,
  type ExcludedClass,
} from './ratio.ts';
export { shuffled, MAX_SEED } from './shuffle.ts';
export { scanReal, type RealSet, type RealItem } from './real-source.ts';
export { openSynthetic, type SyntheticSet, type SyntheticItem } from './synthetic-source.ts';
export { indexTar, MemberReader, type IndexedMember, type IndexedSample } from './tar-index.ts';
export { MixError, UnknownClassesError, ShortfallError, type MixErrorCode, type Shortfall } from './errors.ts';
