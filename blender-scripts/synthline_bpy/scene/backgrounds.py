"""The belt: one plane with a procedural-looking belt material, or a belt photo laid on it
(core/belt_image.py maps the crop). Photos are cached as packed images."""
from __future__ import annotations

import collections
import os
from typing import TYPE_CHECKING, Optional, Tuple

import bpy
import numpy as np

from ..core import colour
from .. import compat
from ..core import belt_image, texture
from ..core.assets import BadAsset
from .images import packed_image

if TYPE_CHECKING:
    from ..core.plan import Background

BELT_SIZE_M = 8.0
BELT_TEXTURE_PX = 512
BELT_TILE_M = 0.6  # one texture repeat on the belt at texture_scale 1
BACKGROUND_CACHE = 8  # belt photos kept in memory (least recently used dropped first)


class Backgrounds:
    """The belt object and its two materials: the belt and (made on first use) the photo."""

    def __init__(self, collection: bpy.types.Collection):
        self._images: "collections.OrderedDict[str, Tuple[bpy.types.Image, Tuple]]" = (
            collections.OrderedDict()
        )
        self._photo_material: Optional[bpy.types.Material] = None
        self._build_belt(collection)

    def _build_belt(self, collection: bpy.types.Collection) -> None:
        mesh = bpy.data.meshes.new("belt")
        h = BELT_SIZE_M / 2
        mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])

        tex = texture.belt_texture(BELT_TEXTURE_PX)
        # 8-bit: Cycles copies every image into each new render session, and a byte texture
        # is a quarter of a float one (one 512 px float image took 0.1 s per frame here).
        img = packed_image("belt_noise", tex, float_buffer=False)

        mat = bpy.data.materials.new("belt")
        # While the photo is on the belt this material has no user, and the orphans purge after a
        # model import would free it under self._belt_material: Blender (3.4 and 4.3) segfaults
        # when it is assigned again. A fake user keeps it (belt_photo's too).
        mat.use_fake_user = True
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
        sep = compat.separate_colour_node(nt)
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].position = 0.2
        ramp.color_ramp.elements[1].position = 0.8
        rough = nt.nodes.new("ShaderNodeMath")
        rough.operation = "MULTIPLY_ADD"
        rough.inputs[1].default_value = 0.3
        nt.links.new(texco.outputs["Object"], mapping.inputs["Vector"])
        nt.links.new(mapping.outputs["Vector"], tnode.inputs["Vector"])
        nt.links.new(tnode.outputs["Color"], sep.inputs[0])
        nt.links.new(sep.outputs[0], ramp.inputs["Fac"])
        nt.links.new(ramp.outputs["Color"], compat.principled_input(bsdf, "Base Color"))
        nt.links.new(sep.outputs[1], rough.inputs[0])
        nt.links.new(rough.outputs["Value"], compat.principled_input(bsdf, "Roughness"))
        compat.set_principled(bsdf, Specular=0.35, Metallic=0.0)
        mesh.materials.append(mat)
        self._belt_material = mat
        obj = bpy.data.objects.new("belt", mesh)
        obj.pass_index = 0
        collection.objects.link(obj)
        self.belt = obj
        self._belt_nodes = {"mapping": mapping, "ramp": ramp, "rough": rough}

    def apply(self, b: Background) -> None:
        if b.kind == "image":
            self._apply_photo(b)
            return
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

    # ------------------------------------------------------------------ belt photos

    def image(self, path: str) -> Tuple[bpy.types.Image, Tuple[int, int]]:
        """A belt photo as a packed in-memory 8-bit image (at most 2048 px a side), cached.

        Like the HDRIs: a file-backed image would be decoded again in every render session.
        Returns (image, original (w, h)): crops are fractions of the original photo.
        """
        hit = self._images.get(path)
        if hit is not None:
            self._images.move_to_end(path)
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
        img = packed_image(
            f"background:{os.path.basename(path)}",
            px.reshape(h2, w2, 4),
            colorspace=compat.srgb_colorspace(),
            float_buffer=False,
        )
        img.use_fake_user = True
        self._images[path] = (img, (w, h))
        while len(self._images) > BACKGROUND_CACHE:
            _, (old, _) = self._images.popitem(last=False)
            if self._photo_material is not None and self._photo_nodes["tex"].image is old:
                self._photo_nodes["tex"].image = None
            bpy.data.images.remove(old)
        return img, (w, h)

    def _build_photo_material(self) -> None:
        mat = bpy.data.materials.new("belt_photo")
        mat.use_fake_user = True  # unused while the procedural belt is on: see _build_belt
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
        nt.links.new(texco.outputs["Object"], rot.inputs["Vector"])
        nt.links.new(rot.outputs["Vector"], fit.inputs["Vector"])
        nt.links.new(fit.outputs["Vector"], tex.inputs["Vector"])
        nt.links.new(tex.outputs["Color"], a)
        nt.links.new(out, compat.principled_input(bsdf, "Base Color"))
        compat.set_principled(bsdf, Specular=0.35, Metallic=0.0)
        self._photo_material = mat
        self._photo_nodes = {"rot": rot, "fit": fit, "tex": tex, "tint": b, "bsdf": bsdf}

    def _apply_photo(self, b: Background) -> None:
        img, (w, h) = self.image(b.image)
        if self._photo_material is None:
            self._build_photo_material()
        n = self._photo_nodes
        if n["tex"].image is not img:
            n["tex"].image = img
        rot, (sx, sy), (lx, ly) = belt_image.crop_mapping(b.crop, w, h, b.rotation_deg)
        n["rot"].inputs["Rotation"].default_value = (0.0, 0.0, rot)
        n["fit"].inputs["Scale"].default_value = (sx, sy, 1.0)
        n["fit"].inputs["Location"].default_value = (lx, ly, 0.0)
        n["tint"].default_value = (*colour.srgb3_to_linear(b.tint_srgb), 1.0)
        compat.set_principled(n["bsdf"], Roughness=b.roughness)
        if self.belt.data.materials[0] is not self._photo_material:
            self.belt.data.materials[0] = self._photo_material
