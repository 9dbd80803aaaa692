import type { ClassEntry, FramePlan, RenderResult, SampleLabel } from '@synthline/spec';

/** A frame's label: what the plan decided plus what Blender measured. */
export function buildLabel(
  plan: FramePlan,
  result: RenderResult,
  cls: ClassEntry,
  image: SampleLabel['image'],
  extra: { split: string; annotations: SampleLabel['annotations'] },
  timing?: SampleLabel['timing'],
): SampleLabel {
  const label: SampleLabel = {
    key: plan.key,
    index: plan.index,
    class: cls.name,
    class_index: cls.index,
    attributes: { model: plan.product.model, color: plan.product.color.name, side: plan.product.side_up },
    source: 'synthetic',
    asset: plan.product.asset,
    image,
    bbox: result.bbox,
    visible_pixels: result.visible_pixels,
    visible_fraction: result.visible_fraction,
    split: extra.split,
    annotations: extra.annotations,
    pose: {
      side_up: plan.product.side_up,
      yaw_deg: plan.product.yaw_deg,
      offset_m: plan.product.offset_m,
      location_m: result.product.location_m,
      rotation_euler_deg: result.product.rotation_euler_deg,
      matrix_world: result.product.matrix_world,
      dimensions_m: result.product.dimensions_m,
    },
    color: plan.product.color,
    ...(plan.product.condition ? { condition: plan.product.condition } : {}),
    camera: {
      K: result.camera.K,
      world_to_camera: result.camera.world_to_camera,
      convention: result.camera.convention,
      plan: plan.camera,
    },
    lights: plan.lights,
    world: plan.world,
    background: plan.background,
    sensor: plan.sensor,
    render: { ...plan.render, device: result.device },
    blender_version: result.blender_version,
  };
  if (plan.motion) label.motion = plan.motion;
  if (plan.distractors) label.distractors = plan.distractors;
  if (timing) label.timing = timing;
  return label;
}
