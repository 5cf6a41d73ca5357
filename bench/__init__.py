"""Benchmarks of the render pipeline, the task fan-out and the bot's acks: `make bench` (see bench/README.md)."""
