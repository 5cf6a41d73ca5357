"""Benchmarks of the render pipeline and the task fan-out: `make bench` (see bench/README.md)."""
