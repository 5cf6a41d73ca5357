"""The render image: the task handler, the worker, and the only runtime `import bpy` (blender.py)."""
