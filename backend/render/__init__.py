"""Rendering Blender scenes on the farm: the command grammar, frame planning, jobs and their store, fan-out, probes, progress."""
