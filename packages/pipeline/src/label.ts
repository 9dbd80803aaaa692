import type { ClassEntry, FramePlan, RenderResult, SampleLabel } from '@synthline/spec';

type Instance = NonNullable<SampleLabel['instances']>[number];

/**
 * Each instance of a multi-product frame (or of any frame that asked for instances): the plan's
 * product (id 1) and its `others`, with Blender's measurements and the class of each.
 */
function instancesOf(plan: FramePlan, result: RenderResult, classOf: (p: FramePlan['product']) => ClassEntry): Instance[] | undefined {
  if (!result.instances) return undefined;
  const byId = new Map<number, FramePlan['product']>([[1, plan.product], ...(plan.others ?? []).map((o) => [o.id, o] as const)]);
  return result.instances.map((m) => {
    const p = byId.get(m.id);
    if (!p) throw new Error(`Blender measured instance ${m.id}, which the plan does not have`);
    const c = classOf(p);
    return {
      id: m.id,
      class: c.name,
      class_index: c.index,
      attributes: { model: p.model, color: p.color.name, side: p.side_up },
      asset: p.asset,
      color: p.color,
      ...(p.condition ? { condition: conditionOf(p.condition, m.id === 1 ? result.wear : m.wear) } : {}),
      pose: {
        side_up: p.side_up,
        yaw_deg: p.yaw_deg,
        offset_m: p.offset_m,
        location_m: m.location_m,
        rotation_euler_deg: m.rotation_euler_deg,
        matrix_world: m.matrix_world,
        dimensions_m: m.dimensions_m,
      },
      bbox: m.bbox,
      visible_pixels: m.visible_pixels,
      visible_fraction: m.visible_fraction,
      occluded_by: m.occluded_by,
    };
  });
}

/**
 * A frame's label: what the plan decided plus what Blender measured. `classOf` gives the class
 * of each further product (the same scheme as `cls`, the plan's product's).
 */
export function buildLabel(
  plan: FramePlan,
  result: RenderResult,
  cls: ClassEntry,
  image: SampleLabel['image'],
  extra: { split: string; annotations: SampleLabel['annotations'] },
  timing?: SampleLabel['timing'],
  classOf?: (p: FramePlan['product']) => ClassEntry,
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
    ...(plan.product.condition ? { condition: conditionOf(plan.product.condition, result.wear) } : {}),
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
  if (plan.belt) label.belt = plan.belt;
  if (plan.pile) label.pile = plan.pile;
  if (plan.distractors)
    label.distractors = plan.distractors.map((d) => {
      if (!d.product) return d;
      const { source: _source, ...product } = d.product;
      return { ...d, product };
    });
  const instances = instancesOf(plan, result, classOf ?? (() => cls));
  if (instances) label.instances = instances;
  if (timing) label.timing = timing;
  return label;
}

/** The plan's condition with the image boxes Blender measured for its crack and sticker. */
function conditionOf(c: NonNullable<FramePlan['product']['condition']>, wear: RenderResult['wear']): NonNullable<SampleLabel['condition']> {
  const { crack, sticker, ...rest } = c;
  return {
    ...rest,
    ...(crack ? { crack: { ...crack, bbox: wear?.crack ?? null } } : {}),
    ...(sticker ? { sticker: { ...sticker, bbox: wear?.sticker ?? null } } : {}),
  };
}
