import {
  GPU_KINDS,
  computeDeviceType,
  type BlenderDevice,
  type GpuKind,
  type RenderDevice,
  type RenderDeviceKind,
  type UseDeviceRequest,
} from '@synthline/spec';
import { BlenderError } from './errors.ts';

/**
 * The one place the Cycles device is chosen. Blender only lists its devices (the render server's
 * first line, or blender-scripts/list_devices.py) and applies the choice it is sent.
 *
 * A device kind: the spec's `render.device` (auto, cpu, cuda, optix, hip, metal) plus `oneapi`,
 * which `auto` may pick.
 */
export type DeviceKind = RenderDevice | 'oneapi';

/** What one render slot is started with, and what it will render on. */
export interface SlotDevice {
  /** The kind the slot's Blender is asked for (never `auto`: resolved from the device list). */
  device: RenderDeviceKind;
  /** Which GPU of that kind (Blender's order); absent on the CPU. */
  deviceIndex?: number;
  /** What the slot will report as its device: `cpu`, `cuda:0 NVIDIA A10`, ... */
  label: string;
  /** A GPU was asked for, none was there, and CPU fallback was allowed. */
  fallback: boolean;
}

/** What a render server renders on, decided from the devices its Blender found. */
export interface DeviceChoice {
  /** `cpu` or the GPU kind taken (`auto` resolved). */
  kind: RenderDeviceKind;
  /** The one GPU of the kind this choice binds (Blender's order); undefined: all of them, or the CPU. */
  index: number | undefined;
  /** The devices to switch on (none on the CPU). */
  enable: BlenderDevice[];
  /** What results and labels record: `cpu`, `cuda:0 NVIDIA A10`, `cuda:0 A, cuda:1 B`. */
  label: string;
  /** A GPU was asked for, none (or not that one) was there, and CPU fallback was allowed. */
  fallback: boolean;
  /** On a fallback, what was missing. */
  note: string;
}

/** `CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" (...)`: every device, for messages. */
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

const onCpu = (fallback: boolean, note = ''): DeviceChoice => ({ kind: 'cpu', index: undefined, enable: [], label: 'cpu', fallback, note });

/**
 * Decides what one render server renders on. `auto` takes the best GPU kind present (optix >
 * cuda > hip > metal > oneapi), else the CPU. `index` counts the devices of the chosen kind in
 * Blender's order and binds the process to that one GPU; without it every device of the kind is
 * switched on; on the CPU it is ignored. A GPU that is not there throws
 * `BlenderError('DEVICE_UNAVAILABLE')` naming the request and every device found, e.g.
 * `requested cuda, but Blender found: CPU "AMD EPYC" (CPU)`, unless `allowCpuFallback`.
 */
export function chooseDevice(
  devices: readonly BlenderDevice[],
  kind: DeviceKind = 'auto',
  index?: number,
  allowCpuFallback = false,
): DeviceChoice {
  if (index !== undefined && !(Number.isInteger(index) && index >= 0)) {
    throw new RangeError(`deviceIndex must be a whole number >= 0, got ${index}`);
  }
  if (kind === 'cpu') return onCpu(false);
  const resolved = kind === 'auto' ? bestGpuKind(devices) : kind;
  if (resolved === undefined) return onCpu(false); // auto on a machine without GPU: the CPU, not a fallback
  const gpus = devicesOfKind(devices, resolved);
  if (gpus.length === 0 || (index !== undefined && index >= gpus.length)) {
    const req = `${kind === resolved ? kind : `${kind} (${resolved})`}${index !== undefined ? `:${index}` : ''}`;
    const message = `requested ${req}, but Blender found: ${describeDevices(devices)}`;
    if (allowCpuFallback) return onCpu(true, message);
    throw new BlenderError('DEVICE_UNAVAILABLE', message);
  }
  const picked = index !== undefined ? [index] : gpus.map((_, i) => i);
  return {
    kind: resolved,
    index,
    enable: picked.map((i) => gpus[i]).filter((d): d is BlenderDevice => d !== undefined),
    label: picked.map((i) => `${resolved}:${i} ${gpus[i]?.name ?? ''}`).join(', '),
    fallback: false,
    note: '',
  };
}

/** The render server's `use_device` request for a choice. */
export function useDeviceRequest(choice: DeviceChoice): UseDeviceRequest {
  return {
    op: 'use_device',
    kind: choice.kind,
    index: choice.index ?? null,
    compute_device_type: computeDeviceType(choice.kind),
    enable: choice.enable.map((d) => d.id),
    label: choice.label,
  };
}

/**
 * One entry per render slot: which device each slot's Blender is started on.
 *
 * `kind` is resolved against `devices` (what Blender found; see {@link listDevices}) by
 * {@link chooseDevice}. On a GPU kind each slot is bound to one GPU (slot i to GPU i mod the
 * number of GPUs), so `slotsRequested: 'auto'` gives one slot per GPU; on the CPU `'auto'` gives
 * one slot. A GPU kind that is absent throws `BlenderError('DEVICE_UNAVAILABLE')` naming every
 * device found, unless `allowCpuFallback`, which gives CPU slots instead.
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
  const all = chooseDevice(devices, kind, undefined, allowCpuFallback);
  if (all.kind === 'cpu') {
    return Array.from({ length: slotsRequested === 'auto' ? 1 : slotsRequested }, () => ({
      device: 'cpu' as const,
      label: 'cpu',
      fallback: all.fallback,
    }));
  }
  const gpus = all.enable.length;
  const n = slotsRequested === 'auto' ? gpus : slotsRequested;
  return Array.from({ length: n }, (_, i) => {
    const one = chooseDevice(devices, all.kind, i % gpus);
    return { device: one.kind, deviceIndex: i % gpus, label: one.label, fallback: false };
  });
}
