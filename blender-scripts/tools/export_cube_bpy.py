"""Inside Blender: write a box as FBX and as .blend (test assets for the protocol check).

    blender -b --factory-startup -Y --python blender-scripts/tools/export_cube_bpy.py -- DIR

The box has sides test_assets.BOX (+z up), one material "Body"; the .blend also holds a camera
and a light, which the importer must leave out.
"""
import os
import sys

import bpy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_assets import BOX  # noqa: E402

out = sys.argv[sys.argv.index("--") + 1]
os.makedirs(out, exist_ok=True)
for o in list(bpy.data.objects):
    bpy.data.objects.remove(o, do_unlink=True)
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.3, -0.2, 0.1))
cube = bpy.context.active_object
cube.name = "box"
cube.scale = BOX
mat = bpy.data.materials.new("Body")
mat.use_nodes = True
cube.data.materials.append(mat)
bpy.ops.export_scene.fbx(filepath=os.path.join(out, "box.fbx"), use_selection=True)
cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
bpy.context.scene.collection.objects.link(cam)
light = bpy.data.objects.new("lamp", bpy.data.lights.new("lamp", "POINT"))
bpy.context.scene.collection.objects.link(light)
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, "box.blend"))
print("wrote", out)
