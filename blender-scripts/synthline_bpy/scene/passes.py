"""The compositor: the image to the Composite output, and the object-index and depth passes to
files in a private directory, read back here as arrays."""
from __future__ import annotations

import atexit
import os
import shutil
from typing import Optional

import bpy
import numpy as np

from .. import compat
from ..core.process import private_index_dir


class Passes:
    def __init__(self, scene: bpy.types.Scene):
        tree = compat.compositor_tree(scene)
        for n in list(tree.nodes):
            tree.nodes.remove(n)
        rl = tree.nodes.new("CompositorNodeRLayers")
        comp = tree.nodes.new("CompositorNodeComposite")
        comp.use_alpha = False
        tree.links.new(rl.outputs["Image"], comp.inputs["Image"])
        # Viewer nodes do not run in background mode (the compositor skips them when
        # G.background), so the object-index pass goes to a file, read back through one
        # reused image data-block.
        self._dir = private_index_dir()
        atexit.register(shutil.rmtree, self._dir, True)
        fo = tree.nodes.new("CompositorNodeOutputFile")
        fo.base_path = self._dir
        fo.file_slots[0].path = "index_"
        # A float file (written without the view transform): each pixel holds its object's
        # pass index exactly (Cycles writes the pass from the first sample: no blending), so
        # several products are told apart (instance k has pass index k).
        fmt = fo.format
        fmt.file_format = "OPEN_EXR"
        fmt.color_mode = "RGB"
        fmt.color_depth = "16"
        fmt.exr_codec = "NONE"
        tree.links.new(compat.render_layers_output(rl, "IndexOB"), fo.inputs[0])
        self._index_file = os.path.join(self._dir, "index_%04d.exr" % scene.frame_current)
        self._index_image: Optional[bpy.types.Image] = None
        # Depth: the Z pass as 32-bit float EXR (float files are written without the view
        # transform; a 16-bit PNG would get the sRGB curve and the exposure). Linked and the
        # pass enabled only on frames that ask for depth.
        dfo = tree.nodes.new("CompositorNodeOutputFile")
        dfo.base_path = self._dir
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
        self._depth_file = os.path.join(self._dir, "depth_%04d.exr" % scene.frame_current)
        self._depth_image: Optional[bpy.types.Image] = None
        self._depth_on: Optional[bool] = None

    def set_depth(self, on: bool) -> None:
        """Write the depth pass on the next renders, or not; no change when already so."""
        if self._depth_on == on:
            return
        compat.enable_z_pass(bpy.context.view_layer, on)
        node = self._depth_node
        for link in list(node.inputs[0].links):
            self._tree.links.remove(link)
        if on:
            self._tree.links.new(
                compat.render_layers_output(self._rl, compat.depth_socket_name()), node.inputs[0]
            )
        node.mute = not on
        self._depth_on = on

    def read_ids(self, W: int, H: int) -> np.ndarray:
        """HxW int array (row 0 = top) of object pass indices from the object-index pass:
        0 = no product, k = the product with pass index k."""
        if not os.path.isfile(self._index_file):
            raise RuntimeError(f"object-index pass was not written to {self._index_file}")
        img = self._index_image
        if img is None:
            img = bpy.data.images.load(self._index_file, check_existing=False)
            img.colorspace_settings.name = compat.linear_colorspace()
            img.use_fake_user = True
            self._index_image = img
        else:
            img.reload()
        if tuple(img.size) != (W, H):
            raise RuntimeError(f"object-index image is {tuple(img.size)}, expected {(W, H)}")
        buf = np.empty(W * H * 4, dtype=np.float32)
        img.pixels.foreach_get(buf)
        os.remove(self._index_file)  # a stale pass must never be read for the next frame
        return np.rint(buf[0::4].reshape(H, W)[::-1]).astype(np.int64)

    def read_index(self, W: int, H: int) -> np.ndarray:
        """Boolean HxW array (row 0 = top) of product pixels (any product)."""
        return self.read_ids(W, H) > 0

    def read_depth(self, W: int, H: int) -> np.ndarray:
        """The Z pass (HxW, row 0 = top, metres) from the EXR the compositor wrote."""
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
        return buf[0::4].reshape(H, W)[::-1]
