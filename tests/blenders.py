"""Each Blender the farm runs, for tests: its Python (the extra ones in `.venvs/`, made by `local.blender_envs`), and
a module run there in its own process (bpy keeps one scene per process, and two bpy versions never share one)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.blender_envs import BPY, installed, python_of

REPO = Path(__file__).resolve().parents[1]
VERSIONS = tuple(BPY)  # ("4.5", "5.0")


def python_for(version: str) -> Path:
    """Blender `version`'s Python; the test skips where its environment is absent, except in CI (`.ci/run` makes it)."""
    if not installed(version, REPO):
        reason = (
            f"Blender {version}'s environment is not installed (.venvs/blender-{version}): "
            f"make it with `.venv/bin/python -m local.blender_envs {version}`"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must: .ci/run installs it)")
        pytest.skip(reason)
    return python_of(version, REPO)


def run_module(version: str, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m module args…` with Blender `version`'s bpy, from the repository root; raises on failure."""
    environment = os.environ | {"PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [str(python_for(version)), "-m", module, *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        f"{module} failed in Blender {version}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
    return done


def last_json(output: str) -> Any:
    """The last line a module printed, as JSON (Blender prints its own lines before)."""
    return json.loads(output.strip().splitlines()[-1])
