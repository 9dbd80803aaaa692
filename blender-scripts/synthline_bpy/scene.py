"""The static scene (belt, camera, light pool, world, compositor) and one frame's render.

Everything is created once in Scene.__init__; a frame only changes values on existing
data-blocks (no per-frame meshes, materials, images or lights), so a long-lived process does not
grow. Phones are built on first use and then shown/hidden.
"""
from __future__ import annotations

import atexit
import collections
import math
import os
import shutil
import tempfile
import time
from typing import Dict, List, Optional, Tuple, Union

import bpy
import numpy as np
from mathutils import Matrix, Vector

from . import annotate, belt_image, camera_math, catalog, colour, compat, library, phones, pngio
from . import texture
from .library import BadAsset
from .plan import LIGHT_TYPES, MAX_LIGHTS, FramePlan, check_known, is_library, model_from_asset

# Fixed camera exposure, in stops, like an industrial camera over a belt. Calibrated so that a
# white phone under the normalised HDRI at strength 1 plus one 40 W point light at 0.75 m
# renders at about sRGB 210, and a 0.2 sRGB belt at about 45 (see dev_render_examples.py).
EXPOSURE_EV = -1.3
# Horizontal irradiance (luminance-weighted, upper hemisphere) that an HDRI at strength 1 is
# scaled to. Raw studio HDRIs differ by 13x (night 0.53 .. city 7.06).
HDRI_REFERENCE_IRRADIANCE = 1.5
BELT_SIZE_M = 8.0
BELT_TEXTURE_PX = 512
HDRI_MAX_WIDTH = 256  # importance map is 256 x 128 too: one map cell per pixel
HDRI_BLUR_PASSES = 2
BELT_TILE_M = 0.6  # one texture repeat on the belt at texture_scale 1
IMPORTANCE_MAP_RES = 256
# Cycles' Z pass on 3.4.1, measured with a straight-down camera over the belt: see
# tools/protocol_check.py ("depth").
DEPTH_IS_RAY_DISTANCE = False
BACKGROUND_CACHE = 8  # belt photos kept in memory (least recently used dropped first)

Product = Union[phones.BuiltPhone, library.LibraryProduct]


class OutputMissing(RuntimeError):
    """Blender reported success but the image file is not there."""


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _link(tree, a, b):
    tree.links.new(a, b)


class Scene:
    def __init__(self, catalog_data: Optional[dict] = None, persistent_data: bool = False):
        self.catalog = catalog_data or catalog.load()
        self.models = catalog.models_by_id(self.catalog)
        self.hdris = compat.studio_hdris()
        self.phones: Dict[str, phones.BuiltPhone] = {}
        self.current: Optional[Product] = None
        self._hdri_images: Dict[str, bpy.types.Image] = {}
        self._hdri_gain: Dict[str, float] = {}
        self._state: Dict[str, object] = {}
        self._bg_images: "collections.OrderedDict[str, Tuple[bpy.types.Image, Tuple]]" = \
            collections.OrderedDict()
        self._bg_material: Optional[bpy.types.Material] = None
        self._geometry: Dict[int, tuple] = {}  # id(product) -> (scale, verts, tris, product)
        compat.restore_numpy_bool()

        self.scene = bpy.context.scene
        self._clear_default_scene()
        self.collection = self.scene.collection
        self._setup_render(persistent_data)
        self._build_belt()
        self._build_camera()
        self._build_lights()
        self._build_world()
        self._build_compositor()
        self.library = library.Library(self.scene, self.collection)
        # The factory-startup scene leaves orphans behind (its world, ...): drop them once.
        compat.purge_orphans()

    # ------------------------------------------------------------------ static scene

    def _clear_default_scene(self) -> None:
        for obj in list(bpy.data.objects):
            bpy.data.objects.remove(obj, do_unlink=True)
        for coll in (bpy.data.meshes, bpy.data.lights, bpy.data.cameras, bpy.data.materials):
            for block in list(coll):
                coll.remove(block)

    def _setup_render(self, persistent_data: bool) -> None:
        s = self.scene
        r = s.render
        r.engine = "CYCLES"
        compat.configure_cycles_fast(s)
        r.resolution_percentage = 100
        r.pixel_aspect_x = r.pixel_aspect_y = 1.0
        r.film_transparent = False
        # Off by default: with persistent data Cycles keeps its scene between renders and the
        # noise pattern of a frame then depends on the frames before it (24 random plans in
        # three orders: 5 of 24 frames differed), which breaks "any frame re-renders
        # identically on any worker". It would save ~0.03-0.05 s per 128 px frame.
        r.use_persistent_data = persistent_data
        r.use_compositing = True
        r.use_sequencer = False
        r.dither_intensity = 0.0  # dithering adds noise that is not in the plan
        compat.disable_stamps(r)
        compat.png_settings(r.image_settings)
        compat.set_view_transform(s, EXPOSURE_EV)
        compat.enable_object_index_pass(bpy.context.view_layer)
        s.frame_set(1)

    def _build_belt(self) -> None:
        mesh = bpy.data.meshes.new("belt")
        h = BELT_SIZE_M / 2
        mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])

        tex = texture.belt_texture(BELT_TEXTURE_PX)
        # 8-bit: Cycles copies every image into each new render session, and a byte texture
        # is a quarter of a float one (one 512 px float image took 0.1 s per frame here).
        img = self._image("belt_noise", tex, float_buffer=False)

        mat = bpy.data.materials.new("belt")
        mat.use_nodes = True
        nt = mat.node_tree
        bsdf = nt.nodes["Principled BSDF"]
        texco = nt.nodes.new("ShaderNodeTexCoord")
        # One lookup of one tileable image drives colour and roughness. No bump or normal map:
        # they cost 15-20% of a frame, for grain finer than a pixel at these distances.
        mapping = nt.nodes.new("ShaderNodeMapping")
        mapping.vector_type = "POINT"
        tnode = nt.nodes.new("ShaderNodeTexImage")
        tnode.image = img
        tnode.interpolation = "Linear"
        tnode.extension = "REPEAT"
        sep = nt.nodes.new("ShaderNodeSeparateColor") \
            if hasattr(bpy.types, "ShaderNodeSeparateColor") \
            else nt.nodes.new("ShaderNodeSeparateRGB")
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].position = 0.2
        ramp.color_ramp.elements[1].position = 0.8
        rough = nt.nodes.new("ShaderNodeMath")
        rough.operation = "MULTIPLY_ADD"
        rough.inputs[1].default_value = 0.3
        _link(nt, texco.outputs["Object"], mapping.inputs["Vector"])
        _link(nt, mapping.outputs["Vector"], tnode.inputs["Vector"])
        _link(nt, tnode.outputs["Color"], sep.inputs[0])
        _link(nt, sep.outputs[0], ramp.inputs["Fac"])
        _link(nt, ramp.outputs["Color"], compat.principled_input(bsdf, "Base Color"))
        _link(nt, sep.outputs[1], rough.inputs[0])
        _link(nt, rough.outputs["Value"], compat.principled_input(bsdf, "Roughness"))
        compat.set_principled(bsdf, Specular=0.35, Metallic=0.0)
        mesh.materials.append(mat)
        self._belt_material = mat
        obj = bpy.data.objects.new("belt", mesh)
        obj.pass_index = 0
        self.collection.objects.link(obj)
        self.belt = obj
        self._belt_nodes = {"mapping": mapping, "ramp": ramp, "rough": rough}

    @staticmethod
    def _image(name: str, rgba: np.ndarray, colorspace: str = "Non-Color",
               float_buffer: bool = True) -> bpy.types.Image:
        h, w = rgba.shape[:2]
        img = bpy.data.images.new(name, w, h, alpha=True, float_buffer=float_buffer)
        img.colorspace_settings.name = colorspace
        img.pixels.foreach_set(np.ascontiguousarray(rgba, dtype=np.float32).ravel())
        img.pack()  # keep the pixels with the data-block; there is no file behind it
        return img

    def _build_camera(self) -> None:
        cam = bpy.data.cameras.new("camera")
        cam.sensor_fit = "HORIZONTAL"
        cam.clip_start = 0.005
        cam.clip_end = 100.0
        obj = bpy.data.objects.new("camera", cam)
        self.collection.objects.link(obj)
        self.scene.camera = obj
        self.camera = obj

    def _build_lights(self) -> None:
        """A fixed pool: MAX_LIGHTS lights of each type, hidden until a plan uses them.

        Pooled lights never change type, and are named so that their name order is their
        creation order (the order a fresh Cycles session lists them in). With persistent data,
        switching a light's type, setting an unused light's energy to 0, or showing lights out
        of that order changed the noise pattern of later frames: the same plan rendered to
        different bytes depending on the frames before it (measured on 3.4.1).
        """
        self.lights: Dict[str, List[bpy.types.Object]] = {}
        self._light_order: List[bpy.types.Object] = []
        for t in LIGHT_TYPES:
            self.lights[t] = []
            for i in range(MAX_LIGHTS):
                name = f"light_{len(self._light_order):02d}_{t}"
                data = bpy.data.lights.new(name, t.upper())
                obj = bpy.data.objects.new(name, data)
                obj.hide_render = True
                self._light_order.append(obj)
                self.collection.objects.link(obj)
                self.lights[t].append(obj)

    def _build_world(self) -> None:
        world = bpy.data.worlds.new("world")
        self.scene.world = world
        world.use_nodes = True
        nt = world.node_tree
        for n in list(nt.nodes):
            nt.nodes.remove(n)
        texco = nt.nodes.new("ShaderNodeTexCoord")
        mapping = nt.nodes.new("ShaderNodeMapping")
        env = nt.nodes.new("ShaderNodeTexEnvironment")
        bg = nt.nodes.new("ShaderNodeBackground")
        out = nt.nodes.new("ShaderNodeOutputWorld")
        _link(nt, texco.outputs["Generated"], mapping.inputs["Vector"])
        _link(nt, mapping.outputs["Vector"], env.inputs["Vector"])
        _link(nt, env.outputs["Color"], bg.inputs["Color"])
        _link(nt, bg.outputs["Background"], out.inputs["Surface"])
        compat.set_world_importance_map(world, IMPORTANCE_MAP_RES)
        self._world_nodes = {"mapping": mapping, "env": env, "bg": bg}

    def _build_compositor(self) -> None:
        tree = compat.compositor_tree(self.scene)
        for n in list(tree.nodes):
            tree.nodes.remove(n)
        rl = tree.nodes.new("CompositorNodeRLayers")
        comp = tree.nodes.new("CompositorNodeComposite")
        comp.use_alpha = False
        _link(tree, rl.outputs["Image"], comp.inputs["Image"])
        # Viewer nodes do not run in background mode (the compositor skips them when
        # G.background), so the object-index pass goes to a file, read back through one
        # reused image data-block.
        self._index_dir = _private_index_dir()
        atexit.register(shutil.rmtree, self._index_dir, True)
        fo = tree.nodes.new("CompositorNodeOutputFile")
        fo.base_path = self._index_dir
        fo.file_slots[0].path = "index_"
        fmt = fo.format
        fmt.file_format = "PNG"
        fmt.color_mode = "BW"
        fmt.color_depth = "8"
        fmt.compression = 0
        _link(tree, compat.render_layers_output(rl, "IndexOB"), fo.inputs[0])
        self._index_file = os.path.join(self._index_dir, "index_%04d.png" % self.scene.frame_current)
        self._index_image: Optional[bpy.types.Image] = None
        # Depth: the Z pass as 32-bit float EXR (float files are written without the view
        # transform; a 16-bit PNG would get the sRGB curve and the exposure). Linked and the
        # pass enabled only on frames that ask for depth.
        dfo = tree.nodes.new("CompositorNodeOutputFile")
        dfo.base_path = self._index_dir
        dfo.file_slots[0].path = "depth_"
        dfmt = dfo.format
        dfmt.file_format = "OPEN_EXR"
        dfmt.color_mode = "RGB"
        dfmt.color_depth = "32"
        dfmt.exr_codec = "NONE"
        dfo.mute = True
        self._tree = tree
        self._rl = rl
        self._depth_node = dfo
        self._depth_file = os.path.join(self._index_dir, "depth_%04d.exr" % self.scene.frame_current)
        self._depth_image: Optional[bpy.types.Image] = None

    # ------------------------------------------------------------------ per frame

    def hdri_image(self, stem: str) -> bpy.types.Image:
        """The HDRI as an in-memory float image, made once per process.

        Cycles decodes a file-backed EXR from disk in every render session (0.05-0.13 s per
        frame here); from a packed float image it only copies pixels Blender already holds.
        """
        img = self._hdri_images.get(stem)
        if img is None:
            src = bpy.data.images.load(self.hdris[stem], check_existing=False)
            w, h = src.size
            px = np.empty(w * h * 4, dtype=np.float32)
            src.pixels.foreach_get(px)
            bpy.data.images.remove(src)
            self._hdri_gain[stem] = HDRI_REFERENCE_IRRADIANCE / max(
                1e-6, _upper_irradiance(px, w, h))
            px = px.reshape(h, w, 4)
            # Half resolution (box filter): a quarter of the per-session copy, and still far
            # sharper than what a phone's back glass reflects at 256 px.
            while w > HDRI_MAX_WIDTH:
                px = 0.25 * (px[0::2, 0::2] + px[1::2, 0::2] + px[0::2, 1::2] + px[1::2, 1::2])
                h, w = px.shape[:2]
            # Spread point-like sources (lamps, sun; up to 3e4 in these files) over a few
            # importance-map cells: a source smaller than a map cell is found by BSDF sampling
            # only, and speckled the belt with fireflies at 16 samples.
            px = _blur_equirect(px, HDRI_BLUR_PASSES)
            img = self._image(f"hdri:{stem}", px, colorspace=compat.linear_colorspace())
            img.use_fake_user = True  # cached while no world node uses it
            self._hdri_images[stem] = img
        return img

    def phone(self, model_id: str) -> phones.BuiltPhone:
        built = self.phones.get(model_id)
        if built is None:
            built = phones.build_phone(self.models[model_id], self.collection)
            built.set_visible(False)
            self.phones[model_id] = built
        return built

    def _set(self, key: str, value, setter) -> None:
        """Call setter only when the value changed: fewer depsgraph updates per frame."""
        if self._state.get(key) != value:
            setter(value)
            self._state[key] = value

    def _set_depth(self, on: bool) -> None:
        compat.enable_z_pass(bpy.context.view_layer, on)
        node = self._depth_node
        for link in list(node.inputs[0].links):
            self._tree.links.remove(link)
        if on:
            _link(self._tree, compat.render_layers_output(self._rl, compat.depth_socket_name()),
                  node.inputs[0])
        node.mute = not on

    def apply(self, plan: FramePlan) -> Product:
        check_known(plan, list(self.models), list(self.hdris))
        s = self.scene
        r = s.render

        # Render settings.
        self._set("engine", plan.render.engine,
                  lambda v: setattr(r, "engine", compat.engine_id(v)))
        self._set("res", plan.render.resolution, self._set_resolution)
        self._set("samples", plan.render.samples, self._set_samples)
        self._set("seed", plan.render.seed, lambda v: setattr(s.cycles, "seed", v))
        self._set("denoise", plan.render.denoise, lambda v: compat.set_denoise(s, v))
        if plan.render.engine == "eevee" and hasattr(s, "eevee"):
            self._set("eevee_samples", plan.render.samples,
                      lambda v: setattr(s.eevee, "taa_render_samples", v))

        self._set("depth", plan.outputs.depth is not None, self._set_depth)

        # Product.
        if is_library(plan.product):
            src = plan.product.source
            phone: Product = self.library.product(plan.product.asset[len("library:"):], src)
            thickness, flip_axis = phone.dimensions[2], "x"
        else:
            phone = self.phone(model_from_asset(plan.product))
            thickness, flip_axis = phone.layout.thickness, "y"
        if self.current is not None and self.current is not phone:
            self.current.set_visible(False)
        phone.set_visible(True)
        self.current = phone
        phone.set_colour(plan.product.color_name, plan.product.color_srgb)
        loc, rot = camera_math.product_pose(plan.product.side_up, plan.product.yaw_deg,
                                            plan.product.offset_m, thickness, flip_axis)
        phone.root.location = loc
        phone.root.rotation_mode = "XYZ"
        phone.root.rotation_euler = tuple(math.radians(a) for a in rot)

        # Camera.
        c = plan.camera
        cam = self.camera
        cam.data.lens = c.focal_length_mm
        cam.data.sensor_width = c.sensor_width_mm
        pos = camera_math.spherical_position(c.look_at_m, c.distance_m, c.elevation_deg,
                                             c.azimuth_deg)
        cam.matrix_world = Matrix(camera_math.blender_camera_matrix(
            pos, c.elevation_deg, c.azimuth_deg, c.roll_deg))

        # Lights: the k-th plan light of a type takes the k-th pooled light of that type.
        used: Dict[str, int] = {t: 0 for t in LIGHT_TYPES}
        active = set()
        for l in plan.lights:
            obj = self.lights[l.type][used[l.type]]
            used[l.type] += 1
            active.add(obj.name)
            data = obj.data
            data.energy = l.energy_w
            data.color = colour.srgb3_to_linear(l.rgb)
            p = camera_math.spherical_position((0.0, 0.0, 0.0), l.distance_m, l.elevation_deg,
                                               l.azimuth_deg)
            direction = Vector((-p[0], -p[1], -p[2]))
            rot_q = direction.to_track_quat("-Z", "Y")
            obj.matrix_world = Matrix.Translation(p) @ rot_q.to_matrix().to_4x4()
            if l.type == "area":
                data.shape = "SQUARE"
                data.size = max(l.size_m, 1e-4)
            else:
                compat.set_light_shadow_radius(data, l.size_m / 2)
            if l.type == "spot":
                data.spot_size = math.radians(l.spot_angle_deg)
                data.spot_blend = 0.15
        for obj in self._light_order:
            hide = obj.name not in active
            if obj.hide_render != hide:
                obj.hide_render = hide

        # World.
        w = plan.world
        env = self._world_nodes["env"]
        img = self.hdri_image(w.hdri)
        if env.image is not img:
            env.image = img
        # Normalised: strength 1 gives every HDRI the same irradiance on the belt.
        self._world_nodes["bg"].inputs["Strength"].default_value = \
            w.strength * self._hdri_gain[w.hdri]
        self._world_nodes["mapping"].inputs["Rotation"].default_value = \
            (0.0, 0.0, math.radians(w.rotation_deg))

        # Belt.
        b = plan.background
        if b.kind == "image":
            self._apply_image_background(b)
            return phone
        if self.belt.data.materials[0] is not self._belt_material:
            self.belt.data.materials[0] = self._belt_material
        lin = colour.srgb3_to_linear(b.belt_srgb)
        ramp = self._belt_nodes["ramp"].color_ramp.elements
        ramp[0].color = (*colour.scale(lin, 0.6), 1.0)
        ramp[1].color = (*colour.scale(lin, 1.5), 1.0)
        mapping = self._belt_nodes["mapping"]
        mapping.inputs["Location"].default_value = (b.texture_offset[0], b.texture_offset[1], 0.0)
        mapping.inputs["Scale"].default_value = (b.texture_scale / BELT_TILE_M,) * 3
        rough = self._belt_nodes["rough"]
        rough.inputs[2].default_value = max(0.0, min(1.0, b.roughness)) - 0.15
        return phone

    # ------------------------------------------------------------------ belt photos

    def background_image(self, path: str) -> Tuple[bpy.types.Image, Tuple[int, int]]:
        """A belt photo as a packed in-memory 8-bit image (at most 2048 px a side), cached.

        Like the HDRIs: a file-backed image would be decoded again in every render session.
        Returns (image, original (w, h)): crops are fractions of the original photo.
        """
        hit = self._bg_images.get(path)
        if hit is not None:
            self._bg_images.move_to_end(path)
            return hit
        try:
            src = bpy.data.images.load(path, check_existing=False)
            w, h = src.size
            if w == 0 or h == 0:
                raise RuntimeError("decodes to an empty image")
        except Exception as e:
            try:
                bpy.data.images.remove(src)  # type: ignore[possibly-undefined]
            except Exception:
                pass
            raise BadAsset(f"cannot read background image {path}: {e}") from None
        f, w2, h2 = belt_image.reduced_size(w, h)
        if f > 1:
            src.scale(w2, h2)
        px = np.empty(w2 * h2 * 4, dtype=np.float32)
        src.pixels.foreach_get(px)
        bpy.data.images.remove(src)
        img = self._image(f"background:{os.path.basename(path)}", px.reshape(h2, w2, 4),
                          colorspace=compat.srgb_colorspace(), float_buffer=False)
        img.use_fake_user = True
        self._bg_images[path] = (img, (w, h))
        while len(self._bg_images) > BACKGROUND_CACHE:
            _, (old, _) = self._bg_images.popitem(last=False)
            if self._bg_material is not None and self._bg_nodes["tex"].image is old:
                self._bg_nodes["tex"].image = None
            bpy.data.images.remove(old)
        return img, (w, h)

    def _build_image_background(self) -> None:
        mat = bpy.data.materials.new("belt_photo")
        mat.use_nodes = True
        nt = mat.node_tree
        bsdf = nt.nodes["Principled BSDF"]
        texco = nt.nodes.new("ShaderNodeTexCoord")
        rot = nt.nodes.new("ShaderNodeMapping")
        rot.vector_type = "POINT"
        fit = nt.nodes.new("ShaderNodeMapping")
        fit.vector_type = "POINT"
        tex = nt.nodes.new("ShaderNodeTexImage")
        tex.interpolation = "Linear"
        tex.extension = compat.image_extension_mirror()
        tint, a, b, out = compat.multiply_colour_node(nt)
        _link(nt, texco.outputs["Object"], rot.inputs["Vector"])
        _link(nt, rot.outputs["Vector"], fit.inputs["Vector"])
        _link(nt, fit.outputs["Vector"], tex.inputs["Vector"])
        _link(nt, tex.outputs["Color"], a)
        _link(nt, out, compat.principled_input(bsdf, "Base Color"))
        compat.set_principled(bsdf, Specular=0.35, Metallic=0.0)
        self._bg_material = mat
        self._bg_nodes = {"rot": rot, "fit": fit, "tex": tex, "tint": b, "bsdf": bsdf}

    def _apply_image_background(self, b) -> None:
        img, (w, h) = self.background_image(b.image)
        if self._bg_material is None:
            self._build_image_background()
        n = self._bg_nodes
        if n["tex"].image is not img:
            n["tex"].image = img
        rot, (sx, sy), (lx, ly) = belt_image.crop_mapping(b.crop, w, h, b.rotation_deg)
        n["rot"].inputs["Rotation"].default_value = (0.0, 0.0, rot)
        n["fit"].inputs["Scale"].default_value = (sx, sy, 1.0)
        n["fit"].inputs["Location"].default_value = (lx, ly, 0.0)
        n["tint"].default_value = (*colour.srgb3_to_linear(b.tint_srgb), 1.0)
        compat.set_principled(n["bsdf"], Roughness=b.roughness)
        if self.belt.data.materials[0] is not self._bg_material:
            self.belt.data.materials[0] = self._bg_material

    def _set_samples(self, n: int) -> None:
        self.scene.cycles.samples = n
        # With persistent data Cycles keeps the sample count its session was created with and
        # only re-reads the view layer's override on each render (measured on 3.4.1).
        bpy.context.view_layer.samples = n

    def _set_resolution(self, res: Tuple[int, int]) -> None:
        self.scene.render.resolution_x = res[0]
        self.scene.render.resolution_y = res[1]

    # ------------------------------------------------------------------ render + measure

    def render(self, plan: FramePlan) -> dict:
        t0 = time.perf_counter()
        phone = self.apply(plan)
        out = plan.outputs.image
        os.makedirs(os.path.dirname(out), exist_ok=True)
        tmp = f"{out[:-4]}.tmp-{os.getpid()}.png"
        bpy.ops.render.render(write_still=False)
        bpy.data.images["Render Result"].save_render(tmp, scene=self.scene)
        if not os.path.isfile(tmp) or os.path.getsize(tmp) == 0:
            raise OutputMissing(f"render finished but {tmp} was not written")
        try:
            pngio.strip_metadata(tmp, out)
        finally:
            os.remove(tmp)

        W, H = plan.render.resolution
        mask = self.product_mask(W, H)
        ys, xs = np.nonzero(mask)
        visible = int(xs.size)
        bbox = None
        if visible:
            x0, x1 = int(xs.min()), int(xs.max())
            y0, y1 = int(ys.min()), int(ys.max())
            bbox = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
        if plan.outputs.mask:
            os.makedirs(os.path.dirname(plan.outputs.mask), exist_ok=True)
            pngio.write(plan.outputs.mask, W, H, 1, (mask.astype(np.uint8) * 255).tobytes())
        camera = self.measure_camera(W, H)
        if plan.outputs.depth:
            self.write_depth(plan.outputs.depth, W, H, camera["K"])

        return {
            "index": plan.index,
            "image": out,
            "mask": plan.outputs.mask,
            "bbox": bbox,
            "visible_pixels": visible,
            "visible_fraction": round(self.visible_fraction(phone, camera, W, H), 6),
            "depth": plan.outputs.depth,
            "depth_units": "mm",
            "camera": camera,
            "product": self.measure_product(phone),
            "seconds": round(time.perf_counter() - t0, 6),
            "blender_version": compat.version_string(),
            "rss_bytes": rss_bytes(),
        }

    def product_mask(self, W: int, H: int) -> np.ndarray:
        """Boolean HxW array (row 0 = top) of product pixels from the object-index pass."""
        if self.scene.render.engine != "CYCLES":
            return self._projected_mask(W, H)
        if not os.path.isfile(self._index_file):
            raise RuntimeError(f"object-index pass was not written to {self._index_file}")
        img = self._index_image
        if img is None:
            img = bpy.data.images.load(self._index_file, check_existing=False)
            img.colorspace_settings.name = "Non-Color"
            img.use_fake_user = True
            self._index_image = img
        else:
            img.reload()
        if tuple(img.size) != (W, H):
            raise RuntimeError(f"object-index image is {tuple(img.size)}, expected {(W, H)}")
        buf = np.empty(W * H * 4, dtype=np.float32)
        img.pixels.foreach_get(buf)
        os.remove(self._index_file)  # a stale pass must never be read for the next frame
        # 8-bit PNG of the index pass: product pixels are 1.0 (255), everything else 0.
        return buf[0::4].reshape(H, W)[::-1] > 0.5

    def _projected_mask(self, W: int, H: int) -> np.ndarray:
        """EEVEE has no object-index pass: rasterise the convex hull of the projected product."""
        phone = self.current
        K = np.array(self.measure_camera(W, H)["K"])
        w2c = np.array(self.measure_camera(W, H)["world_to_camera"])
        pts = []
        for obj in phone.parts:
            m = np.array(obj.matrix_world)
            v = np.empty(len(obj.data.vertices) * 3, dtype=np.float64)
            obj.data.vertices.foreach_get("co", v)
            v = v.reshape(-1, 3)
            pts.append(v @ m[:3, :3].T + m[:3, 3])
        P = np.concatenate(pts)
        cam = P @ w2c[:3, :3].T + w2c[:3, 3]
        cam = cam[cam[:, 2] > 1e-6]
        if cam.size == 0:
            return np.zeros((H, W), dtype=bool)
        u = K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2]
        v = K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]
        hull = _convex_hull(np.stack([u, v], axis=1))
        gx, gy = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
        inside = np.ones((H, W), dtype=bool)
        for (ax, ay), (bx, by) in zip(hull, np.roll(hull, -1, axis=0)):
            inside &= (bx - ax) * (gy - ay) - (by - ay) * (gx - ax) >= 0
        return inside

    def measure_camera(self, W: int, H: int) -> dict:
        cam = self.camera
        data = cam.data
        K = camera_math.intrinsics(data.lens, data.sensor_width, W, H,
                                   self.scene.render.pixel_aspect_y / self.scene.render.pixel_aspect_x,
                                   data.shift_x, data.shift_y)
        mw = [list(row) for row in cam.matrix_world]
        return {"K": K, "world_to_camera": camera_math.opencv_world_to_camera(mw),
                "convention": "opencv"}

    def write_depth(self, path: str, W: int, H: int, K) -> None:
        """The Z pass (from the EXR the compositor wrote) as a 16-bit PNG in millimetres."""
        if not os.path.isfile(self._depth_file):
            raise RuntimeError(f"depth pass was not written to {self._depth_file}")
        img = self._depth_image
        if img is None:
            img = bpy.data.images.load(self._depth_file, check_existing=False)
            img.colorspace_settings.name = compat.linear_colorspace()
            img.use_fake_user = True
            self._depth_image = img
        else:
            img.reload()
        if tuple(img.size) != (W, H):
            raise RuntimeError(f"depth image is {tuple(img.size)}, expected {(W, H)}")
        buf = np.empty(W * H * 4, dtype=np.float32)
        img.pixels.foreach_get(buf)
        os.remove(self._depth_file)
        z = buf[0::4].reshape(H, W)[::-1]
        if DEPTH_IS_RAY_DISTANCE:
            z = annotate.ray_distance_to_z(z, K)
        mm = annotate.depth_mm(z)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pngio.write(path, W, H, 1, mm.astype(">u2").tobytes(), bit_depth=16)

    def _product_geometry(self, product: Product) -> Tuple[np.ndarray, np.ndarray]:
        """(vertices in the root's frame, triangles) of a product, cached per product + scale."""
        key = id(product)
        scale = getattr(product, "scale", 1.0)
        hit = self._geometry.get(key)
        if hit is not None and hit[0] == scale and hit[3] is product:
            return hit[1], hit[2]
        verts, tris, base = [], [], 0
        for obj in product.parts:
            me = obj.data
            co = np.empty(len(me.vertices) * 3, dtype=np.float64)
            me.vertices.foreach_get("co", co)
            co = co.reshape(-1, 3)
            m = np.array(obj.matrix_parent_inverse) @ np.array(obj.matrix_basis)
            verts.append(co @ m[:3, :3].T + m[:3, 3])
            me.calc_loop_triangles()
            t = np.empty(len(me.loop_triangles) * 3, dtype=np.int64)
            me.loop_triangles.foreach_get("vertices", t)
            tris.append(t.reshape(-1, 3) + base)
            base += co.shape[0]
        V = np.concatenate(verts) if verts else np.zeros((0, 3))
        T = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)
        self._geometry[key] = (scale, V, T, product)
        return V, T

    def visible_fraction(self, product: Product, camera: dict, W: int, H: int) -> float:
        V, T = self._product_geometry(product)
        if V.size == 0:
            return 0.0
        m = np.array(product.root.matrix_world)
        P = V @ m[:3, :3].T + m[:3, 3]
        return annotate.visible_fraction(annotate.project(P, camera["K"],
                                                          camera["world_to_camera"]), T, W, H)

    def measure_product(self, phone: Product) -> dict:
        root = phone.root
        mw = root.matrix_world
        if isinstance(phone, library.LibraryProduct):
            dims, scale, residual = phone.dimensions, phone.scale, phone.residual
        else:
            dims, scale, residual = phone.layout.dimensions, 1.0, None
        return {
            "matrix_world": [list(row) for row in mw],
            "location_m": list(mw.translation),
            # The root has no parent, so its own XYZ Euler angles describe matrix_world; a
            # decomposition of the matrix could return an equivalent but different triple.
            "rotation_euler_deg": [math.degrees(a) for a in root.rotation_euler],
            "dimensions_m": list(dims),
            "scale": scale,
            "scale_residual": residual,
        }

    def purge(self) -> int:
        return compat.purge_orphans()


def _private_index_dir() -> str:
    """<tmp>/synthline-index/<pid>, removing the directories of processes that are gone.

    A server killed by a signal or os.abort() cannot clean up after itself, so the next one
    does; otherwise every crash would leave a directory behind in /tmp.
    """
    root = os.path.join(tempfile.gettempdir(), "synthline-index")
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        if name.isdigit() and int(name) != os.getpid():
            try:
                os.kill(int(name), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            except PermissionError:
                pass  # alive, another user's
    path = os.path.join(root, str(os.getpid()))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def _blur_equirect(px: np.ndarray, passes: int) -> np.ndarray:
    """3x3 box blur, repeated: wraps around in longitude, clamps at the poles."""
    out = px.astype(np.float32, copy=True)
    for _ in range(passes):
        out = (np.roll(out, 1, axis=1) + out + np.roll(out, -1, axis=1)) / 3.0
        up = np.concatenate([out[:1], out[:-1]], axis=0)
        down = np.concatenate([out[1:], out[-1:]], axis=0)
        out = (up + out + down) / 3.0
    return out


def _upper_irradiance(px: np.ndarray, w: int, h: int) -> float:
    """Luminance irradiance on an upward-facing plane from equirectangular RGBA pixels."""
    px = px.reshape(h, w, 4)
    lum = 0.2126 * px[..., 0] + 0.7152 * px[..., 1] + 0.0722 * px[..., 2]
    lat = (np.arange(h) + 0.5) / h * np.pi - np.pi / 2  # row 0 is the bottom (nadir)
    weight = np.clip(np.sin(lat), 0.0, None) * np.cos(lat) * (np.pi / h) * (2 * np.pi / w)
    return float((lum.astype(np.float64) * weight[:, None]).sum())


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise in image coordinates (y down)."""
    pts = sorted(set(map(tuple, np.round(points, 4))))
    if len(pts) < 3:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])
