"""Everything that differs between Blender versions (3.4 Debian build vs official 4.x).

No other module may test bpy.app.version; they call these helpers instead. docs/blender-versions.md
lists each difference. The decisions that need no Blender (socket names, engine ids, importer
order) are pure functions of a version tuple, so blender-scripts/tests/test_compat.py runs them
for 3.4 and 4.x with a stub `bpy` module.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import bpy

from .core import devices as _devices

VERSION = tuple(bpy.app.version)

CLAMP_DIRECT = 8.0
CLAMP_INDIRECT = 2.0

# Principled BSDF sockets renamed in 4.0.
_PRINCIPLED_RENAMES: Dict[str, str] = {
    "Specular": "Specular IOR Level",
    "Emission": "Emission Color",
    "Clearcoat": "Coat Weight",
    "Clearcoat Roughness": "Coat Roughness",
    "Sheen": "Sheen Weight",
    "Subsurface": "Subsurface Weight",
    "Transmission": "Transmission Weight",
    "Clearcoat Normal": "Coat Normal",
}


def version_string() -> str:
    return bpy.app.version_string.split(" ")[0]


def restore_numpy_bool() -> None:
    """Blender 3.4's glTF importer uses numpy.bool, removed in numpy 1.24."""
    try:
        import numpy
    except ImportError:
        return
    if "bool" not in numpy.__dict__:
        numpy.bool = bool  # type: ignore[attr-defined]


def principled_names(name: str, version: Optional[Sequence[int]] = None) -> Tuple[str, ...]:
    """Socket names to try for a Principled BSDF input given by its 3.x name, this version's first.

    4.0 renamed Specular -> Specular IOR Level, Emission -> Emission Color, Subsurface ->
    Subsurface Weight, ... (_PRINCIPLED_RENAMES); unchanged names (Base Color, Roughness,
    Metallic, Alpha, Emission Strength) are the same everywhere.
    """
    v = tuple(VERSION if version is None else version)
    new = _PRINCIPLED_RENAMES.get(name)
    if new is None:
        return (name,)
    return (new, name) if v >= (4, 0, 0) else (name, new)


def principled_input(node: Any, name: str) -> Any:
    """A Principled BSDF input by its 3.x name, on any version."""
    for n in principled_names(name):
        sock = node.inputs.get(n)
        if sock is not None:
            return sock
    raise KeyError(
        f"Principled BSDF has no input {name!r} "
        f"(tried {', '.join(principled_names(name))}; Blender {version_string()})"
    )


def set_principled(node: Any, **values: Any) -> None:
    """set_principled(node, Base_Color=(r,g,b,1), Roughness=0.3): underscores become spaces."""
    for k, v in values.items():
        principled_input(node, k.replace("_", " ")).default_value = v


def engine_identifier(engine: str, version: Sequence[int]) -> str:
    """Plan engine name ('cycles' | 'eevee') -> scene.render.engine identifier on `version`."""
    if engine == "cycles":
        return "CYCLES"
    if engine == "eevee":
        # 4.2-4.5 call the new EEVEE BLENDER_EEVEE_NEXT; 3.x, 4.0-4.1 and 5.x BLENDER_EEVEE.
        if (4, 2, 0) <= tuple(version) < (5, 0, 0):
            return "BLENDER_EEVEE_NEXT"
        return "BLENDER_EEVEE"
    raise ValueError(f"unknown engine {engine!r}")


def _enum_ids(rna_type: Any, prop: str) -> List[str]:
    """Identifiers of an RNA enum property ([] where Blender fills them only in a UI context)."""
    try:
        return [i.identifier for i in rna_type.bl_rna.properties[prop].enum_items]
    except Exception:
        return []


def engine_id(engine: str) -> str:
    """Plan engine name ('cycles' | 'eevee') -> scene.render.engine identifier on this Blender."""
    ident = engine_identifier(engine, VERSION)
    if ident != "CYCLES":
        # A build whose EEVEE id differs from its version's (a 4.x alpha/beta): trust its enum.
        known = _enum_ids(getattr(bpy.types, "RenderSettings", None), "engine")
        other = {"BLENDER_EEVEE": "BLENDER_EEVEE_NEXT", "BLENDER_EEVEE_NEXT": "BLENDER_EEVEE"}[
            ident
        ]
        if known and ident not in known and other in known:
            return other
    return ident


def studio_hdri_dir() -> str:
    return bpy.utils.system_resource("DATAFILES", path="studiolights/world") or ""


def studio_hdris() -> Dict[str, str]:
    """{stem: absolute path} of Blender's bundled world HDRIs."""
    d = studio_hdri_dir()
    out: Dict[str, str] = {}
    if d and os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            stem, ext = os.path.splitext(f)
            if ext.lower() in (".exr", ".hdr"):
                out[stem] = os.path.join(d, f)
    return out


def set_world_importance_map(world: Any, resolution: int) -> None:
    """A small manual importance map: the automatic one costs ~0.6 s per render here."""
    cy = getattr(world, "cycles", None)
    if cy is None:
        return
    if hasattr(cy, "sampling_method"):
        cy.sampling_method = "MANUAL"
        cy.sample_map_resolution = resolution
    elif hasattr(world, "light_settings"):  # 4.x moved some world settings; keep a fallback
        ls = world.light_settings
        if hasattr(ls, "sampling_method"):
            ls.sampling_method = "MANUAL"


def configure_cycles_fast(scene: Any) -> None:
    """Cycles settings that cut per-render fixed costs without changing the picture much."""
    cy = scene.cycles
    cy.device = _SCENE_DEVICE  # "CPU" unless apply_cycles_device chose a GPU
    if hasattr(cy, "use_auto_tile"):
        cy.use_auto_tile = False
    if hasattr(cy, "use_light_tree"):  # 3.5+; building it is a per-render cost
        cy.use_light_tree = False
    if hasattr(cy, "use_guiding"):
        cy.use_guiding = False
    cy.use_adaptive_sampling = False
    cy.use_animated_seed = False
    cy.use_denoising = False
    cy.use_preview_denoising = False
    cy.max_bounces = 4
    cy.diffuse_bounces = 2
    cy.glossy_bounces = 2
    cy.transmission_bounces = 2
    cy.transparent_max_bounces = 4
    cy.volume_bounces = 0
    cy.caustics_reflective = False
    cy.caustics_refractive = False
    # Fireflies: the studio HDRIs hold tiny sources up to 3e4 (interior, city, sunrise) that
    # speckle 16-sample frames; clamping per-sample radiance keeps the look, drops the specks.
    cy.sample_clamp_direct = CLAMP_DIRECT
    cy.sample_clamp_indirect = CLAMP_INDIRECT
    if hasattr(cy, "texture_limit_render"):
        cy.texture_limit_render = "OFF"


def denoiser_available() -> bool:
    try:
        items = bpy.types.CyclesRenderSettings.bl_rna.properties["denoiser"].enum_items
        return any(i.identifier == "OPENIMAGEDENOISE" for i in items) and bool(
            getattr(bpy.app.build_options, "openimagedenoise", True)
        )
    except Exception:
        return False


def set_denoise(scene: Any, enabled: bool) -> bool:
    """Turn Cycles denoising on/off; returns whether it is on (False if no denoiser built in)."""
    cy = scene.cycles
    if not enabled or not denoiser_available():
        cy.use_denoising = False
        return False
    cy.use_denoising = True
    try:
        cy.denoiser = "OPENIMAGEDENOISE"
    except TypeError:
        cy.use_denoising = False
        return False
    return True


def disable_stamps(render: Any) -> None:
    """No date / render time / anything in the PNG metadata or burnt into pixels."""
    for prop in render.bl_rna.properties:
        if prop.identifier.startswith("use_stamp") and not prop.is_readonly:
            setattr(render, prop.identifier, False)
    render.use_stamp = False


def not_a_light(material: Any) -> None:
    """An emissive material Cycles does not sample as a light (a lit screen, a crack's glint):
    it glows where seen, and the light sampling of the rest of the picture stays as it was.
    3.x: `cycles.sample_as_light`; 3.5+ and 4.x: `cycles.emission_sampling`."""
    cyc = material.cycles
    if hasattr(cyc, "emission_sampling"):
        cyc.emission_sampling = "NONE"
    else:
        cyc.sample_as_light = False


def set_light_type(obj: Any, light_type: str) -> Any:
    """Change a pooled light's type in place; returns the (re-fetched) light data."""
    data = obj.data
    t = light_type.upper()
    if data.type != t:
        data.type = t
    return obj.data  # RNA subclass changes with the type: re-fetch


def set_light_shadow_radius(light: Any, radius: float) -> None:
    if hasattr(light, "shadow_soft_size"):
        light.shadow_soft_size = radius
    if hasattr(light, "use_soft_falloff"):  # 4.0+: keep 3.x point/spot falloff
        light.use_soft_falloff = False


def enable_object_index_pass(view_layer: Any) -> None:
    view_layer.use_pass_object_index = True


def compositor_tree(scene: Any) -> Any:
    """The scene's compositing node tree (5.0 made it a separate data-block)."""
    if hasattr(scene, "compositing_node_group"):
        tree = scene.compositing_node_group
        if tree is None:
            tree = bpy.data.node_groups.new("synthline_compositor", "CompositorNodeTree")
            scene.compositing_node_group = tree
        return tree
    scene.use_nodes = True
    return scene.node_tree


def index_pass_socket_name() -> str:
    return "IndexOB"


def render_layers_output(node: Any, name: str) -> Any:
    out = node.outputs.get(name)
    if out is None and name == "IndexOB":
        out = node.outputs.get("Object Index")
    if out is None:
        raise KeyError(
            f"Render Layers node has no output {name!r}; " f"has {[o.name for o in node.outputs]}"
        )
    return out


def purge_orphans() -> int:
    """Remove data-blocks with no users; returns how many were removed."""
    removed = 0
    if hasattr(bpy.data, "orphans_purge"):
        removed = bpy.data.orphans_purge(do_local_ids=True, do_linked_ids=True, do_recursive=True)
        return int(removed or 0)
    for coll in (
        bpy.data.meshes,
        bpy.data.materials,
        bpy.data.images,
        bpy.data.lights,
        bpy.data.node_groups,
        bpy.data.textures,
    ):
        for block in list(coll):
            if block.users == 0:
                coll.remove(block)
                removed += 1
    return removed


def set_thread_count(scene: Any, threads: Optional[int]) -> None:
    if threads:
        scene.render.threads_mode = "FIXED"
        scene.render.threads = threads
    else:
        scene.render.threads_mode = "AUTO"


def png_settings(image_settings: Any) -> None:
    image_settings.file_format = "PNG"
    image_settings.color_mode = "RGB"
    image_settings.color_depth = "8"
    image_settings.compression = 0
    if hasattr(image_settings, "color_management"):
        image_settings.color_management = "FOLLOW_SCENE"


def linear_colorspace() -> str:
    """Name of scene-linear Rec.709 ("Linear" in 3.x, "Linear Rec.709" in 4.x)."""
    items = bpy.types.ColorManagedInputColorspaceSettings.bl_rna.properties["name"].enum_items
    names = [i.identifier for i in items]
    for n in ("Linear Rec.709", "Linear"):
        if n in names:
            return n
    return names[0]


def set_view_transform(scene: Any, exposure_ev: float = 0.0) -> None:
    """'Standard' view transform: plain sRGB, so product colours come out as specified.

    Filmic (3.x default) and AgX (4.x default) desaturate bright colours.
    """
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = exposure_ev
    scene.view_settings.gamma = 1.0
    scene.display_settings.display_device = "sRGB"
    scene.sequencer_colorspace_settings.name = "sRGB"


# ---------------------------------------------------------------------- library products


def _has_op(module: str, name: str) -> bool:
    try:
        getattr(getattr(bpy.ops, module), name).get_rna_type()
        return True
    except (AttributeError, KeyError):
        return False


def importer_order(fmt: str, version: Sequence[int]) -> List[Tuple[str, str]]:
    """Importer operators for a model format on `version`, preferred first: [(module, name)].

    glb/gltf: import_scene.gltf everywhere (3.4 needs numpy.bool restored first).
    fbx: import_scene.fbx everywhere.
    obj: wm.obj_import (C++, 3.3+; the only one in 4.x) when present, else import_scene.obj.
    stl/ply: the Python add-ons import_mesh.stl/ply on 3.x (3.4 registers an unfinished
    wm.stl_import and no wm.ply_import); the C++ wm.stl_import/wm.ply_import on 4.x, where the
    add-ons are gone (4.2+) or deprecated.
    """
    if fmt in ("glb", "gltf"):
        return [("import_scene", "gltf")]
    if fmt == "fbx":
        return [("import_scene", "fbx")]
    if fmt == "obj":
        return [("wm", "obj_import"), ("import_scene", "obj")]
    if fmt in ("stl", "ply"):
        addon, native = ("import_mesh", fmt), ("wm", f"{fmt}_import")
        return [native, addon] if tuple(version) >= (4, 0, 0) else [addon, native]
    raise ValueError(f"no importer for format {fmt!r}")


def model_importer(fmt: str) -> str:
    """The operator ("module.name") that imports a model format on this Blender (importer_order,
    first one registered)."""
    order = importer_order(fmt, VERSION)
    for mod, name in order:
        if _has_op(mod, name):
            return f"{mod}.{name}"
    raise ValueError(f"this Blender ({version_string()}) has no importer for {fmt!r}")


def import_model(path: str, fmt: str) -> None:
    """Run the importer for `fmt`; raises RuntimeError when it fails or is cancelled."""
    if fmt in ("glb", "gltf"):
        restore_numpy_bool()
    mod, name = model_importer(fmt).split(".")
    op = getattr(getattr(bpy.ops, mod), name)
    result = op(filepath=path)
    if "FINISHED" not in result:
        raise RuntimeError(f"{mod}.{name} returned {sorted(result)}")


def separate_colour_node(tree: Any) -> Any:
    """A node splitting a colour into channels: Separate Color (3.3+), else Separate RGB."""
    if hasattr(bpy.types, "ShaderNodeSeparateColor"):
        return tree.nodes.new("ShaderNodeSeparateColor")
    return tree.nodes.new("ShaderNodeSeparateRGB")


def multiply_colour_node(tree: Any) -> Any:
    """A node computing A * B for colours, factor 1: (node, input A, input B, output).

    3.x: the legacy MixRGB node; 4.x: the Mix node (MixRGB is hidden there).
    """
    if VERSION >= (4, 0, 0) and hasattr(bpy.types, "ShaderNodeMix"):
        node = tree.nodes.new("ShaderNodeMix")
        node.data_type = "RGBA"
        node.blend_type = "MULTIPLY"
        node.clamp_factor = True
        by_id = {s.identifier: s for s in node.inputs}
        by_id["Factor_Float"].default_value = 1.0
        out = {s.identifier: s for s in node.outputs}["Result_Color"]
        return node, by_id["A_Color"], by_id["B_Color"], out
    node = tree.nodes.new("ShaderNodeMixRGB")
    node.blend_type = "MULTIPLY"
    node.inputs["Fac"].default_value = 1.0
    return node, node.inputs["Color1"], node.inputs["Color2"], node.outputs["Color"]


def image_extension_mirror() -> str:
    """Image texture extension for belt photos: MIRROR (3.5+), else REPEAT (3.4)."""
    items = bpy.types.ShaderNodeTexImage.bl_rna.properties["extension"].enum_items
    return "MIRROR" if "MIRROR" in [i.identifier for i in items] else "REPEAT"


def srgb_colorspace() -> str:
    items = bpy.types.ColorManagedInputColorspaceSettings.bl_rna.properties["name"].enum_items
    names = [i.identifier for i in items]
    for n in ("sRGB",):
        if n in names:
            return n
    return names[0]


def enable_z_pass(view_layer: Any, enabled: bool) -> None:
    if view_layer.use_pass_z != enabled:
        view_layer.use_pass_z = enabled


def depth_socket_name() -> str:
    return "Depth"


# ---------------------------------------------------------------------- Cycles devices
# The preferences live on the Cycles add-on in 3.x and 4.x alike:
#   bpy.context.preferences.addons["cycles"].preferences
#     .refresh_devices()        3.0+ (fills .devices; get_devices() is its deprecated alias,
#                               and in 2.9x the only one, returning per-type lists)
#     .devices                  every device found: .type CPU|CUDA|OPTIX|HIP|METAL|ONEAPI,
#                               .name, .id, .use
#     .compute_device_type      NONE|CUDA|OPTIX|HIP|METAL|ONEAPI (items only for built-in backends)
#   scene.cycles.device         CPU|GPU
# METAL came with 3.1, ONEAPI with 3.3; 4.x adds no new kind on Linux.

_SCENE_DEVICE = "CPU"  # what configure_cycles_fast sets; apply_cycles_device changes it


def cycles_preferences() -> Any:
    return bpy.context.preferences.addons["cycles"].preferences


def cycles_devices() -> List[_devices.Device]:
    """Every device Cycles finds (the CPU included), in Blender's order."""
    prefs = cycles_preferences()
    if hasattr(prefs, "refresh_devices"):
        prefs.refresh_devices()
    else:
        prefs.get_devices()
    return _devices.as_devices({"type": d.type, "name": d.name, "id": d.id} for d in prefs.devices)


def apply_cycles_device(scene: Any, use: _devices.UseDevice) -> None:
    """Switches Cycles to what the driver decided (`use`): the compute type, exactly its GPUs on
    (the CPU off, so a GPU choice never renders partly on the CPU), and scene.cycles.device.

    Raises devices.DeviceNotFound, changing nothing, when a device id it is told to enable is not
    one Blender found (the render server's START_FAILED start error)."""
    global _SCENE_DEVICE
    prefs = cycles_preferences()
    if use.kind == "cpu":
        try:
            prefs.compute_device_type = "NONE"
        except (TypeError, AttributeError):  # a build without any GPU backend
            pass
    else:
        found = [_devices.Device(d.type, d.name, d.id) for d in prefs.devices]
        use.check_found(found)
        prefs.compute_device_type = use.compute_device_type
        for d, dev in zip(prefs.devices, found):
            d.use = use.uses(dev)
    _SCENE_DEVICE = use.scene_device
    if scene is not None:
        scene.cycles.device = _SCENE_DEVICE


def set_motion_blur(scene: Any, on: bool) -> None:
    """Motion blur on (the shutter open for one whole frame, from its start) or off.

    The shutter's position moved: scene.cycles.motion_blur_position on 3.x, scene.render's on 4.x.
    """
    if scene.render.use_motion_blur != on:
        scene.render.use_motion_blur = on
    if not on:
        return
    scene.render.motion_blur_shutter = 1.0
    owner = scene.render if hasattr(scene.render, "motion_blur_position") else scene.cycles
    owner.motion_blur_position = "START"


def _override(**kw: Any) -> Any:
    """A context override for an operator: Context.temp_override (3.2+, the only way on 4.x;
    4.0 dropped the dict argument to operators)."""
    return bpy.context.temp_override(**kw)


def rigidbody_world_add(scene: Any) -> None:
    """Give the scene a rigid-body world (none must be there)."""
    with _override(scene=scene):
        bpy.ops.rigidbody.world_add()


def rigidbody_world_remove(scene: Any) -> None:
    """Remove the scene's rigid-body world, if any (its collection stays in bpy.data)."""
    if scene.rigidbody_world is not None:
        with _override(scene=scene):
            bpy.ops.rigidbody.world_remove()


def rigidbody_object_add(scene: Any, obj: Any, kind: str) -> None:
    """Make obj a rigid body ('ACTIVE' or 'PASSIVE') of the scene's world."""
    with _override(scene=scene, object=obj, active_object=obj, selected_objects=[obj]):
        bpy.ops.rigidbody.object_add(type=kind)


def rigidbody_substeps(world: Any, substeps: int) -> None:
    """Simulation substeps per frame: `substeps_per_frame` since 2.91, `steps_per_second` before."""
    if hasattr(world, "substeps_per_frame"):
        world.substeps_per_frame = substeps
    else:
        world.steps_per_second = substeps * 24
