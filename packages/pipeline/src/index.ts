export { renderFrames, type RenderedFrame, type FailedFrame, type FrameOutcome, type RenderFramesOptions } from './render-frames.ts';
export {
  renderDataset,
  OutputExistsError,
  type Progress,
  type RenderDatasetOptions,
  type RenderDatasetResult,
} from './render-dataset.ts';
export {
  contactSheet,
  layoutCaptions,
  textWidth,
  spread,
  CONTACT_SHEET_TILES,
  MIN_CAPTION_WIDTH,
  type CaptionLayout,
  type Tile,
} from './contact-sheet.ts';
export { buildLabel } from './label.ts';
export { DatasetAssembler, CONTACT_SHEET_FILE, TIMINGS_FILE, CREATED_BY, type FrameFailure } from './dataset-assembler.ts';
export { renderThumbnails, thumbnailSpec, THUMBNAIL } from './thumbnails.ts';
