"""`studiobot up --nodes 1 --class gpu`: a real node process (real Blender) on the local stack's `gpu` queue renders a
`--on gpu` job end to end; with no GPU here it renders on the CPU, and the job's card says so."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.messages.render import job_card

from .test_local_stack import TINY, _services, studiobot

pytestmark = [pytest.mark.slow, pytest.mark.bpy]


def test_a_gpu_job_renders_on_a_local_node_and_says_it_fell_back_to_the_cpu(
    tmp_path: Path, sample_scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / ".studiobot"
    started = studiobot(
        home, "up", "--workers", "1", "--nodes", "1", "--class", "gpu", "--visibility-timeout", "4"
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        out = home.parent / "r"
        rendered = studiobot(
            home, "render", str(sample_scene), "1-3", *TINY.split(), "--on", "gpu", "--out", str(out)
        )
        said = " ".join(rendered.stdout.split())
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        assert "finished: all 3 frames" in said
        (job_folder,) = out.iterdir()
        assert sorted(path.name for path in job_folder.glob("*.png"))[-3:] == [
            f"turntable_{frame:04d}.png" for frame in (1, 2, 3)
        ]
        _, _, jobs = _services(json.loads((home / "stack.json").read_text()), monkeypatch)
        job = jobs.get(job_folder.name)
        assert job.device == "CPU (no GPU device found on this node)"
        _, blocks = job_card(job, time.time())
        note = "⚠️ Asked for a GPU (`--on gpu`), rendered on the CPU (no GPU device found on this node)"
        assert note in str(blocks)
        assert "ready node node-1 gpu" in (home / "node-1.log").read_text()
        assert not (home / "render-1.log").exists() or "turntable" not in (home / "render-1.log").read_text()
    finally:
        stopped = studiobot(home, "down")
        assert "Local stack stopped" in stopped.stdout, stopped.stdout + stopped.stderr
