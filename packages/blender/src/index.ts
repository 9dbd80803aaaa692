export {
  RenderServer,
  RENDER_SERVER_SCRIPT,
  listDevices,
  probeBlender,
  type BlenderReport,
  type RenderServerOptions,
} from './render-server.ts';
export { blenderEnv, defaultMemoryLimit, looksOutOfMemory, memoryLimitMessage, type MemoryFacts } from './sandbox.ts';
export {
  bestGpuKind,
  chooseDevice,
  describeDevices,
  devicesOfKind,
  slotDevices,
  useDeviceRequest,
  type DeviceChoice,
  type DeviceKind,
  type SlotDevice,
} from './devices.ts';
export { RenderSlot, type RenderSlotOptions, type SlotEvent } from './render-slot.ts';
export { findBlender } from './find-blender.ts';
export { BlenderError, BlenderNotFoundError, type BlenderErrorCode, type DriverErrorCode } from './errors.ts';
