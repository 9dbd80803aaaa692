"""The bpy side of synthline.

Pure modules (no bpy, testable with plain python3): colour, geometry, camera_math, plan, pngio,
catalog. Blender adapters: compat (the only module that knows Blender versions), phones, scene.
"""
