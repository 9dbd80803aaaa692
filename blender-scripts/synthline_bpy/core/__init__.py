"""The scene model with no bpy: plain Python and numpy, tested with plain python3.

Nothing here imports bpy, bmesh, mathutils or anything outside core/
(tests/test_core_imports.py checks it); the bpy adapters in ../scene/ stay thin around it.
"""
