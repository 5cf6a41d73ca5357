"""Test doubles the tests and the benchmarks share (Slack, the job store, the roster, workstations' shells): never shipped."""
