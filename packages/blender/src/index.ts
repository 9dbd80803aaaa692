export { RenderServer, RENDER_SERVER_SCRIPT, listDevices, type RenderServerOptions } from './render-server.ts';
export { blenderEnv, defaultMemoryLimit, looksOutOfMemory, memoryLimitMessage, type MemoryFacts } from './sandbox.ts';
export {
  GPU_KINDS,
  bestGpuKind,
  describeDevices,
  deviceKindOf,
  devicesOfKind,
  slotDevices,
  type BlenderDevice,
  type DeviceKind,
  type GpuKind,
  type SlotDevice,
} from './devices.ts';
export { RenderSlot, type RenderSlotOptions, type SlotEvent } from './render-slot.ts';
export { findBlender } from './find-blender.ts';
export { BlenderError, BlenderNotFoundError, coerceError, type BlenderErrorCode } from './errors.ts';
