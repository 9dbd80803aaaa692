import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DEVICE_KINDS,
  FramePlan,
  PROTOCOL_SCHEMA_PATH,
  WirePlan,
  RENDER_DEVICE_KINDS,
  SERVER_ERROR_CODES,
  computeDeviceType,
  isServerErrorCode,
  protocolJsonSchema,
  protocolSchemaText,
} from './index.ts';

test('the committed protocol schema is what the zod schemas generate (else: run npm run gen:protocol)', () => {
  const committed = readFileSync(PROTOCOL_SCHEMA_PATH, 'utf8');
  assert.ok(committed === protocolSchemaText(), `${PROTOCOL_SCHEMA_PATH} is stale: run npm run gen:protocol and commit it`);
});

test('every message is in $defs, with closed objects and the shared constants beside them', () => {
  const doc = protocolJsonSchema() as {
    $defs: Record<string, { type?: string; additionalProperties?: unknown }>;
    constants: Record<string, unknown>;
  };
  for (const id of [
    'FramePlan',
    'ProductSource',
    'RenderRequest',
    'UseDeviceRequest',
    'DevicesLine',
    'ReadyLine',
    'StartErrorLine',
    'ErrorReply',
    'RenderResult',
  ]) {
    assert.equal(doc.$defs[id]?.type, 'object', id);
    assert.equal(doc.$defs[id]?.additionalProperties, false, id);
  }
  assert.deepEqual(doc.constants.server_error_codes, [...SERVER_ERROR_CODES]);
  assert.deepEqual(doc.constants.render_device_kinds, [...RENDER_DEVICE_KINDS]);
});

test('the spec offers only device kinds the protocol knows', () => {
  for (const k of DEVICE_KINDS) assert.ok(k === 'auto' || (RENDER_DEVICE_KINDS as readonly string[]).includes(k), k);
  assert.equal(computeDeviceType('cpu'), 'NONE');
  assert.equal(computeDeviceType('oneapi'), 'ONEAPI');
});

test("the Python tests' example plan is a plan zod accepts too", () => {
  const example = JSON.parse(
    readFileSync(new URL('../../../blender-scripts/tests/fixtures/plan.json', import.meta.url), 'utf8'),
  ) as unknown;
  assert.deepEqual(WirePlan.parse(example), example);
});

test('server error codes', () => {
  assert.ok(isServerErrorCode('BAD_ASSET'));
  assert.ok(!isServerErrorCode('FRAME_FAILED'));
  assert.ok(!isServerErrorCode(undefined));
});

test('plan limits: what Blender cannot render fails naming the field', () => {
  const shape = FramePlan.shape;
  assert.ok(
    !shape.camera.safeParse({
      distance_m: 0,
      elevation_deg: 0,
      azimuth_deg: 0,
      roll_deg: 0,
      focal_length_mm: 35,
      sensor_width_mm: 36,
      look_at_m: [0, 0, 0],
    }).success,
  );
  assert.ok(!shape.world.safeParse({ hdri: 'moon', strength: 1, rotation_deg: 0 }).success);
  assert.ok(shape.world.safeParse({ hdri: 'studio', strength: 1, rotation_deg: 0 }).success);
  const light = {
    type: 'point',
    energy_w: 1,
    color_temperature_k: 5000,
    rgb: [1, 1, 1],
    distance_m: 1,
    elevation_deg: 45,
    azimuth_deg: 0,
    size_m: 0.1,
    spot_angle_deg: 45,
  };
  assert.ok(shape.lights.safeParse([light, light, light, light]).success);
  assert.ok(!shape.lights.safeParse([light, light, light, light, light]).success);
});
