"""The notifier's movie streams its proxies: 2,000 frames peak within 1.2× the memory of 200 (each measured in a
fresh process, as a cold notifier container would be)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A notifier's movie of FRAMES frames from a store that hands out 64×36 proxies (a different colour each), made as
# the notifier makes it (`bot.dailies.thread_preview`); prints the movie's frames and the process's peak RSS.
CHILD = """
import json, sys, tempfile
from dataclasses import dataclass
from pathlib import Path
from PIL import Image
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from bot.dailies import thread_preview

frames = int(sys.argv[1])

@dataclass(frozen=True)
class Item:
    key: str

class Store:
    def download(self, bucket, key, path, etag=None):
        number = int(key.rsplit("_", 1)[-1].removesuffix(".png"))
        Image.new("RGB", (64, 36), (number % 255, 90, 160)).save(path)

def peak_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

job = Job("rmem", JobStatus.DONE, "scenes", "scenes/sh010/shot.blend", "e", f"1-{frames}", frames, frames,
          RenderSettings(), "outputs", "outputs/rmem/", done=frames - 1, failed=1)
proxies = [Item(f"outputs/rmem/proxies/shot_{n:04d}.png") for n in range(1, frames + 1) if n != 2]
with tempfile.TemporaryDirectory() as folder:
    before = peak_kb()
    movie = thread_preview(Store(), job, proxies, [2], {2: "out of memory"}, [], Path(folder))
    assert movie.suffix == ".mp4"  # the movie, not the GIF of where none can be made
    import av
    with av.open(str(movie)) as container:
        count = container.streams.video[0].frames
print(json.dumps({"frames": count, "peak_kb": peak_kb(), "before_kb": before}))
"""


def _measured(frames: int) -> dict[str, int]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(frames)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_2000_frame_movie_peaks_within_1_2_times_the_memory_of_a_200_frame_one() -> None:
    small, big = _measured(200), _measured(2_000)
    assert (small["frames"], big["frames"]) == (200, 2_000)  # every frame, the failed one a slate
    assert big["peak_kb"] <= 1.2 * small["peak_kb"], (small, big)
    # and what making it added (ffmpeg's and x264's buffers): holding even these small pictures would pass this
    grown_small, grown_big = small["peak_kb"] - small["before_kb"], big["peak_kb"] - big["before_kb"]
    assert grown_big <= 1.2 * grown_small, (small, big)
