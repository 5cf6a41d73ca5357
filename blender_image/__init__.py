"""The render image: the worker, the render node's loop, and the only runtime `import bpy` (blender.py); their
construction and entry points are `entry/`'s."""
