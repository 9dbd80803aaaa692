import type { RenderDevice } from '@synthline/spec';
import { BlenderError } from './errors.ts';

/**
 * A Cycles device kind: the spec's `render.device` (auto, cpu, cuda, optix, hip, metal) plus
 * `oneapi`, which `auto` may pick (blender-scripts/synthline_bpy/devices.py decides the same way).
 */
export type DeviceKind = RenderDevice | 'oneapi';

/** GPU kinds, best first: what `auto` takes when several are present. */
export const GPU_KINDS = ['optix', 'cuda', 'hip', 'metal', 'oneapi'] as const;
export type GpuKind = (typeof GPU_KINDS)[number];

/** One entry of the device list Blender reports. */
export interface BlenderDevice {
  /** CPU | CUDA | OPTIX | HIP | METAL | ONEAPI */
  type: string;
  name: string;
  id: string;
}

/** What one render slot is started with, and what it will render on. */
export interface SlotDevice {
  /** The kind the slot's Blender is asked for (never `auto`: resolved from the device list). */
  device: 'cpu' | GpuKind;
  /** Which GPU of that kind (Blender's order); absent on the CPU. */
  deviceIndex?: number;
  /** What the slot will report as its device: `cpu`, `cuda:0 NVIDIA A10`, ... */
  label: string;
  /** A GPU was asked for, none was there, and CPU fallback was allowed. */
  fallback: boolean;
}

/** `CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" (...)`, the same wording as the Blender side. */
export function describeDevices(devices: readonly BlenderDevice[]): string {
  if (devices.length === 0) return 'no devices';
  return devices.map((d) => `${d.type} "${d.name}" (${d.id})`).join(', ');
}

/** The devices of one kind, in Blender's order. */
export function devicesOfKind(devices: readonly BlenderDevice[], kind: string): BlenderDevice[] {
  const t = kind.toUpperCase();
  return devices.filter((d) => d.type === t);
}

/** The best GPU kind present, or undefined on a machine without one. */
export function bestGpuKind(devices: readonly BlenderDevice[]): GpuKind | undefined {
  return GPU_KINDS.find((k) => devicesOfKind(devices, k).length > 0);
}

/**
 * One entry per render slot: which device each slot's Blender is started on.
 *
 * `kind` is resolved against `devices` (what Blender found; see {@link listDevices}): `auto` takes
 * the best GPU kind present, else the CPU. On a GPU kind each slot is bound to one GPU (slot i to
 * GPU i mod the number of GPUs), so `slotsRequested: 'auto'` gives one slot per GPU; on the CPU
 * `'auto'` gives one slot. A GPU kind that is absent throws `BlenderError('DEVICE_UNAVAILABLE')`
 * naming every device found, unless `allowCpuFallback`, which gives CPU slots instead.
 */
export function slotDevices(
  kind: DeviceKind,
  devices: readonly BlenderDevice[],
  slotsRequested: number | 'auto',
  allowCpuFallback = false,
): SlotDevice[] {
  if (slotsRequested !== 'auto' && !(Number.isInteger(slotsRequested) && slotsRequested >= 1)) {
    throw new RangeError(`slots must be a whole number >= 1 or "auto", got ${String(slotsRequested)}`);
  }
  const cpu = (fallback: boolean): SlotDevice[] =>
    Array.from({ length: slotsRequested === 'auto' ? 1 : slotsRequested }, () => ({ device: 'cpu' as const, label: 'cpu', fallback }));
  if (kind === 'cpu') return cpu(false);
  const resolved = kind === 'auto' ? bestGpuKind(devices) : kind;
  if (resolved === undefined) return cpu(false);
  const gpus = devicesOfKind(devices, resolved);
  if (gpus.length === 0) {
    if (allowCpuFallback) return cpu(true);
    throw new BlenderError('DEVICE_UNAVAILABLE', `requested ${kind}, but Blender found: ${describeDevices(devices)}`);
  }
  const n = slotsRequested === 'auto' ? gpus.length : slotsRequested;
  return Array.from({ length: n }, (_, i) => {
    const index = i % gpus.length;
    return { device: resolved, deviceIndex: index, label: `${resolved}:${index} ${gpus[index]?.name ?? ''}`, fallback: false };
  });
}

/** The kind a device label names: `cuda:0 NVIDIA A10` -> `cuda`, `cpu` -> `cpu`, '' -> ''. */
export function deviceKindOf(label: string): string {
  return /^[a-z]+/.exec(label)?.[0] ?? '';
}
