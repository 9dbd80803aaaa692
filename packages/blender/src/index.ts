export { RenderServer, RENDER_SERVER_SCRIPT, type RenderServerOptions } from './render-server.ts';
export { RenderSlot, type RenderSlotOptions, type SlotEvent } from './render-slot.ts';
export { findBlender } from './find-blender.ts';
export { BlenderError, BlenderNotFoundError, coerceError, type BlenderErrorCode } from './errors.ts';
