"""The bpy side of synthline.

core/    the scene model with no bpy (geometry, camera maths, HDRI and annotation maths, PNG,
         catalog, ...), testable with plain python3
scene/   thin bpy adapters, one job each, composed by scene.Scene
compat   the only module that knows Blender versions
plan, colour, devices   no bpy (to join core/)
"""
