"""Slack traffic of one 240-frame render on the local stack, against a loopback fake of Slack's Web API.

Runs in a process of its own (`python -m bench.slack_calls OUT.json`): moto keeps state in module globals.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

FRAMES = 240
SECRET = "bench-signing-secret"
WINDOW_S = 5.0


def run() -> dict[str, Any]:
    """Run the measurement in a fresh process and return slack_calls.json."""
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-slack-") as folder:
        out = Path(folder) / "slack_calls.json"
        subprocess.run([sys.executable, "-m", "bench.slack_calls", str(out)], check=True)
        data: dict[str, Any] = json.loads(out.read_text())
        return data


def max_in_window(times: list[float], window_s: float) -> int:
    """The most events inside any window of `window_s` seconds (a window is half-open: [t, t + window))."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def _measure(out: Path) -> None:
    from local.embedded.stack import use_local_aws
    from local.embedded.supervisor import Supervisor
    from testing.slack import FakeSlack, signed_headers, slash_command_body

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="studiobot-bench-") as home:
        os.environ.update(
            {
                "STUDIOBOT_HOME": home,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.base_url,
                "STUDIOBOT_BOT_PORT": str(port),
            }
        )
        scene = Path(home) / "turntable.blend"
        subprocess.run(
            [sys.executable, "-m", "blender_image.sample.build_sample_scene", str(scene)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        supervisor = Supervisor(workers=os.cpu_count() or 1, out=io.StringIO())
        info = supervisor.start()
        try:
            use_local_aws(info.endpoint)
            import boto3

            boto3.client("s3").upload_file(str(scene), info.scenes_bucket, "scenes/turntable.blend")
            text = f"turntable.blend 1-{FRAMES} --res 64x36 --samples 1 --engine CYCLES"
            body = slash_command_body(text, response_url=slack.response_url())
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/slack/events",
                data=body.encode(),
                headers=signed_headers(body, SECRET),
            )
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=30):
                pass
            slack.wait_for("files.completeUploadExternal", timeout=900)
            seconds = time.monotonic() - started
        finally:
            supervisor.stop()
        calls = [call for call in slack.calls if call.method not in ("response_url",)]
        updates = [call.at for call in slack.calls_to("chat.update")]
        result = {
            "frames": FRAMES,
            "render_s": round(seconds, 1),
            "chat_update_calls": len(updates),
            "max_updates_in_any_5s_per_job": max_in_window(updates, WINDOW_S),
            "update_gaps_s": [round(later - earlier, 2) for earlier, later in itertools.pairwise(updates)],
            "chat_post_message_calls": len(slack.calls_to("chat.postMessage")),
            "file_uploads": len(slack.calls_to("upload")),
            "total_slack_calls": len(calls),
            "calls_by_method": dict(Counter(call.method for call in calls)),
            "note": "one job (one card); updates counted on the fake's clock as they arrived",
        }
        out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    _measure(Path(sys.argv[1]))
