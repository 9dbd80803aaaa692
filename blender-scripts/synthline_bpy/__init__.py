"""The bpy side of synthline.

core/    no bpy, testable with plain python3: plan validation against the generated protocol
         schema, geometry, camera maths, colour, HDRI and annotation maths, PNG, catalog, ...
scene/   thin bpy adapters, one job each, composed by scene.Scene
compat   the only module that knows Blender versions
"""
