import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BUILTIN_HDRIS } from './catalog.ts';
import { ENGINES, FrameOutputs, FramePlan, LIGHT_TYPES, MAX_INSTANCES, MAX_LIGHTS, RenderResult } from './frame-plan.ts';
import { MODEL_FORMATS, ProbeResult, ProductSource } from './products.ts';

/*
 * The render protocol between packages/blender (the driver) and blender-scripts/render_server.py:
 * JSON lines, requests on fd 3 and replies on fd 4 (docs/render-protocol.md tells the lifecycle).
 * The zod schemas here and in frame-plan.ts are its one source of truth: `npm run gen:protocol`
 * writes them as JSON Schema to {@link PROTOCOL_SCHEMA_PATH}, the render server checks what it
 * reads against that file, and protocol.test.ts fails while the file differs from these schemas.
 */

/** The generated JSON Schema of the protocol, read by the Python side. */
export const PROTOCOL_SCHEMA_PATH = fileURLToPath(
  new URL('../../../blender-scripts/synthline_bpy/core/protocol.schema.json', import.meta.url),
);

/** Cycles' GPU kinds, best first: what `auto` takes when several are present. */
export const GPU_KINDS = ['optix', 'cuda', 'hip', 'metal', 'oneapi'] as const;
export type GpuKind = (typeof GPU_KINDS)[number];

/** What a render server renders on: the CPU or one GPU kind. */
export const RENDER_DEVICE_KINDS = ['cpu', ...GPU_KINDS] as const;
export type RenderDeviceKind = (typeof RENDER_DEVICE_KINDS)[number];

/** Cycles' `compute_device_type` preference for a device kind (the CPU: NONE). */
export function computeDeviceType(kind: RenderDeviceKind): string {
  return kind === 'cpu' ? 'NONE' : kind.toUpperCase();
}

/**
 * Why the render server refused a request or could not start; the `code` of its error lines, and
 * a {@link BlenderErrorCode} once in TypeScript. None of them is retried: the same request on a
 * fresh process would fail the same way.
 */
export const SERVER_ERROR_CODES = [
  /** An unparseable line, an unknown op, a malformed probe `source` or `use_device` request. */
  'BAD_REQUEST',
  /** A plan field missing, of the wrong kind or out of range, or an unknown model or HDRI. */
  'BAD_PLAN',
  /** Anything raised while rendering. */
  'RENDER_FAILED',
  /** Blender reported success but the image file is not there. */
  'OUTPUT_MISSING',
  /** A library model file (or background photo) that is missing, unsupported, corrupt or empty. */
  'BAD_ASSET',
  /** Blender refused the device it was told to use (a start error line, before `ready`). */
  'START_FAILED',
] as const;
export const ServerErrorCode = z.enum(SERVER_ERROR_CODES);
export type ServerErrorCode = z.infer<typeof ServerErrorCode>;

/** Whether `code` is one the render server sends. */
export function isServerErrorCode(code: unknown): code is ServerErrorCode {
  return typeof code === 'string' && (SERVER_ERROR_CODES as readonly string[]).includes(code);
}

const RequestId = z.number().int();

/** A {@link FramePlan} as the render request carries it: with the files to write. */
export const WirePlan = FramePlan.extend({ outputs: FrameOutputs });
export type WirePlan = z.infer<typeof WirePlan>;

/** Renders one frame; answered by a {@link RenderResult}. */
export const RenderRequest = z.object({ id: RequestId, op: z.literal('render'), plan: WirePlan });
/** Imports a model file, describes it and forgets it (the library scan); answered by a {@link ProbeReplyResult}. */
export const ProbeRequest = z.object({ id: RequestId, op: z.literal('probe'), source: ProductSource });
/** Answered by {@link PingResult}. */
export const PingRequest = z.object({ id: RequestId, op: z.literal('ping') });
/** Answered by {@link PingResult}, then the server exits. */
export const ShutdownRequest = z.object({ id: RequestId, op: z.literal('shutdown') });
/** Answered by {@link DeviceInfo}. */
export const DevicesRequest = z.object({ id: RequestId, op: z.literal('devices') });

/**
 * The driver's answer to the server's {@link DevicesLine}, the only request before `ready`: what
 * to render on, decided in TypeScript (packages/blender/src/devices.ts). The server switches
 * Cycles to it, builds its scene and writes {@link ReadyLine}.
 */
export const UseDeviceRequest = z.object({
  op: z.literal('use_device'),
  kind: z.enum(RENDER_DEVICE_KINDS),
  /** The one GPU of the kind this process is bound to (Blender's order); null: all of them, or the CPU. */
  index: z.number().int().min(0).nullable(),
  /** Cycles' preference: NONE (the CPU) or the kind in capitals. */
  compute_device_type: z.enum(['NONE', ...GPU_KINDS.map((k) => k.toUpperCase())] as [string, ...string[]]),
  /** Ids of the devices to switch on (every other one, the CPU included, is switched off); [] on the CPU. */
  enable: z.array(z.string().min(1)),
  /** What rendered each frame, as results and labels record it: `cpu`, `cuda:0 NVIDIA A10`, ... */
  label: z.string().min(1),
});
export type UseDeviceRequest = z.infer<typeof UseDeviceRequest>;

/** Any request line the driver writes. */
export const RenderServerRequest = z.discriminatedUnion('op', [
  RenderRequest,
  ProbeRequest,
  PingRequest,
  ShutdownRequest,
  DevicesRequest,
  UseDeviceRequest,
]);
export type RenderServerRequest = z.infer<typeof RenderServerRequest>;

/** One entry of the device list Blender reports. */
export const BlenderDevice = z.object({
  /** CPU | CUDA | OPTIX | HIP | METAL | ONEAPI */
  type: z.string(),
  name: z.string(),
  id: z.string(),
});
export type BlenderDevice = z.infer<typeof BlenderDevice>;

/**
 * The server's first line, once Blender has listed its Cycles devices (the CPU included), and the
 * one line of blender-scripts/list_devices.py.
 */
export const DevicesLine = z.object({
  type: z.literal('devices'),
  blender_version: z.string(),
  devices: z.array(BlenderDevice),
  /** Only from list_devices.py --report (`synthline doctor`): what this Blender can do. */
  report: z
    .object({
      python: z.string(),
      /** numpy's version; null when it does not import (then `numpy_error` says why). */
      numpy: z.string().nullable(),
      numpy_error: z.string().nullable(),
      /** The importer operator each model format would use; null: none registered. */
      importers: z.array(z.object({ format: z.string(), operator: z.string().nullable() })),
      /** Each plan engine's identifier on this Blender. */
      engines: z.array(z.object({ engine: z.string(), id: z.string() })),
    })
    .optional(),
});
export type DevicesLine = z.infer<typeof DevicesLine>;

/** The server applied the device and built its scene: requests may follow. */
export const ReadyLine = z.object({
  type: z.literal('ready'),
  blender_version: z.string(),
  pid: z.number().int(),
  python: z.string(),
  /** The `label` of the device it was told to use. */
  device: z.string(),
  device_kind: z.enum(RENDER_DEVICE_KINDS),
});
export type ReadyLine = z.infer<typeof ReadyLine>;

/** What a server's error line says. */
export const ServerError = z.object({ code: ServerErrorCode, message: z.string(), traceback: z.string() });
export type ServerError = z.infer<typeof ServerError>;

/** Instead of `ready`: the server could not start (it waits for the driver to close its pipe). */
export const StartErrorLine = z.object({ type: z.literal('error'), error: ServerError });
export type StartErrorLine = z.infer<typeof StartErrorLine>;

/** A request failed; the server lives on. `id` is null when the line could not be parsed. */
export const ErrorReply = z.object({ id: RequestId.nullable(), ok: z.literal(false), error: ServerError });
export type ErrorReply = z.infer<typeof ErrorReply>;

/** The result of `ping` and `shutdown`. */
export const PingResult = z.object({ rss_bytes: z.number() });
/** The result of `devices`: what the server renders on and every device Blender found. */
export const DeviceInfo = z.object({ device: z.string(), device_kind: z.enum(RENDER_DEVICE_KINDS), devices: z.array(BlenderDevice) });
export type DeviceInfo = z.infer<typeof DeviceInfo>;
/** The result of `probe`: {@link ProbeResult} and the time it took. */
export const ProbeReplyResult = ProbeResult.extend({ seconds: z.number() });

/** A request succeeded; `result` is the op's result schema. */
export const OkReply = z.object({
  id: RequestId,
  ok: z.literal(true),
  result: z.union([RenderResult, PingResult, DeviceInfo, ProbeReplyResult]),
});

/** The constants both sides share, written beside the schemas (`constants` in the generated file). */
export const PROTOCOL_CONSTANTS = {
  builtin_hdris: BUILTIN_HDRIS,
  light_types: LIGHT_TYPES,
  max_lights: MAX_LIGHTS,
  max_instances: MAX_INSTANCES,
  engines: ENGINES,
  model_formats: MODEL_FORMATS,
  gpu_kinds: GPU_KINDS,
  render_device_kinds: RENDER_DEVICE_KINDS,
  server_error_codes: SERVER_ERROR_CODES,
} as const;

/** What the driver writes: each schema exactly as TypeScript builds it (zod's output). */
const DRIVER_WRITES = {
  FramePlan: WirePlan,
  ProductSource,
  RenderRequest,
  ProbeRequest,
  PingRequest,
  ShutdownRequest,
  DevicesRequest,
  UseDeviceRequest,
};

/** What the render server writes: each schema as TypeScript accepts it (zod's input: defaults optional). */
const SERVER_WRITES = {
  DevicesLine,
  ReadyLine,
  StartErrorLine,
  ErrorReply,
  OkReply,
  RenderResult,
  PingResult,
  DeviceInfo,
  ProbeReplyResult,
  ServerError,
  BlenderDevice,
};

type Json = Record<string, unknown>;

function defsOf(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/$defs/${id}`,
    // Closed objects both ways: a field one side sends and the other does not declare fails a test.
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === 'object' && jsonSchema.additionalProperties === undefined) jsonSchema.additionalProperties = false;
    },
  });
  const defs: Record<string, Json> = {};
  for (const [id, s] of Object.entries(out)) {
    const { $schema: _schema, $id: _id, ...rest } = s as Json;
    defs[id] = rest;
  }
  return defs;
}

/**
 * The protocol as one JSON Schema document (draft 2020-12): every message under `$defs`, the
 * shared constants under `constants`. What `npm run gen:protocol` writes.
 */
export function protocolJsonSchema(): Json {
  const driver = defsOf(DRIVER_WRITES, 'output');
  const server = defsOf(SERVER_WRITES, 'input');
  for (const id of Object.keys(server)) {
    if (id in driver) throw new Error(`protocol schema ${id} is defined for both directions`);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $comment: 'Generated from packages/spec/src/protocol.ts by `npm run gen:protocol`; do not edit.',
    constants: PROTOCOL_CONSTANTS,
    $defs: { ...driver, ...server },
  };
}

/** The file's exact text. */
export function protocolSchemaText(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}
