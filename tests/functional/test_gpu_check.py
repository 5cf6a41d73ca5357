"""`python -m blender_image.gpu_check` on a machine without a GPU: it says so, renders on the CPU, and exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local.embedded.stack import REPO_ROOT

pytestmark = pytest.mark.bpy
# Where a GPU would be: NVIDIA's and AMD's device nodes. On such a machine the check lists it instead.
HAS_GPU = any(Path("/dev").glob("nvidia[0-9]*")) or Path("/dev/kfd").exists()


def test_the_check_says_no_gpu_and_times_the_cpu(sample_scene: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "blender_image.gpu_check",
            str(sample_scene),
            "--res",
            "64x36",
            "--samples",
            "1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert took < 30
    assert re.search(r"^bpy \d+\.\d+\.\d+ \(build ", done.stdout, re.MULTILINE)
    assert re.search(r"^  CUDA    (built in: .*|not in this build)$", done.stdout, re.MULTILINE)
    assert re.search(r"^CPU · .+\s+\d+\.\d\d\s+\d+\.\d\d\s+CPU$", done.stdout, re.MULTILINE)
    if not HAS_GPU:
        assert "no GPU device found" in done.stdout
