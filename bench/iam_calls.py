"""AWS calls checked against their role's policy (tests/iam), counted over the IAM-checked functional tests.

`measure()` runs those tests in a pytest process of its own (bounded) with `STUDIOBOT_IAM_COUNTS` naming a file,
and reads back what the harness counted: every call a component made, and those its role would refuse (0).
`python -m bench.iam_calls` prints the numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV_COUNTS = "STUDIOBOT_IAM_COUNTS"  # tests/iam/harness.py writes the session's counts there
LIMIT_S = 900
# One file or more per component: render function, gpu node, dead letters, expiry, notifier, notice redrive, bot,
# sweep, keep-alive, EC2 events, budget alerts (all functional tests are checked; these keep the bench bounded).
TESTS = [
    "tests/functional/test_iam.py",
    "tests/functional/test_render_worker.py",
    "tests/functional/test_tiles.py",
    "tests/functional/test_nodes.py",
    "tests/functional/test_poison.py",
    "tests/functional/test_probes.py",
    "tests/functional/test_notifier.py",
    "tests/functional/test_notice_outage.py",
    "tests/functional/test_bot.py",
    "tests/functional/test_bot_workstations.py",
    "tests/functional/test_workstations.py",
    "tests/functional/test_keepalive.py",
    "tests/functional/test_ec2_events.py",
    "tests/functional/test_budget_lambda.py",
]


def measure() -> dict[str, Any]:
    """`{"iam_checked_calls": N, "iam_denied_calls": D}` from the IAM-checked tests (raises if one fails for
    another reason than a refused call)."""
    data = counted()
    return {"iam_checked_calls": data["iam_checked_calls"], "iam_denied_calls": data["iam_denied_calls"]}


def counted() -> dict[str, Any]:
    """Everything the harness counted: calls per component, the refusals, each role's statements no call needed."""
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-iam-") as folder:
        written = Path(folder) / "iam_counts.json"
        env = {**os.environ, ENV_COUNTS: str(written), "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "0",
                "-m",
                "not bpy",
                *TESTS,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=LIMIT_S,
        )
        if not written.exists():
            raise RuntimeError(f"the IAM-checked tests wrote no counts:\n{result.stdout[-3000:]}")
        data: dict[str, Any] = json.loads(written.read_text())
        if result.returncode != 0 and not data["iam_denied_calls"]:  # a failure IAM did not cause: no count
            raise RuntimeError(f"the IAM-checked tests failed:\n{result.stdout[-3000:]}")
    return data


if __name__ == "__main__":
    print(json.dumps(counted(), indent=2))
