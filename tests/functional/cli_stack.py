"""A local stack for CLI tests: moto's server in this process, deployed, and a `stack.json` naming it, so that
`python -m local.cli.main …` in a subprocess finds it as it finds one `studiobot up` started (no workers: no renders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from local.embedded.stack import REPO_ROOT, StackInfo, deploy, start_moto_server


@dataclass(frozen=True)
class CliStack:
    """Where the stack's state lives (`STUDIOBOT_HOME`) and what it deployed."""

    home: Path
    info: StackInfo

    def run(
        self, *args: str, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """`studiobot ARGS` as a person types it, against this stack."""
        return studiobot(self.home, *args, cwd=cwd, timeout=timeout)


def studiobot(
    home: Path, *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the console entry (`local.cli.main:main`) in its own process, as the `studiobot` script does."""
    env = {**os.environ, "STUDIOBOT_HOME": str(home), "COLUMNS": "200", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "from local.cli.main import main; main()", *args],
        env=env,
        cwd=cwd or home.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def cli_stack(home: Path) -> Iterator[CliStack]:
    """A deployed stack whose `stack.json` names this process (alive) as its supervisor."""
    port = os.environ.get("MOTO_PORT")
    server = start_moto_server()
    try:
        info = deploy(server.endpoint)
        home.mkdir(parents=True, exist_ok=True)
        state = {"pid": os.getpid(), "stack": asdict(info), "workers": {}, "ready": True, "state": ""}
        (home / "stack.json").write_text(json.dumps(state))
        yield CliStack(home, info)
    finally:
        (home / "stack.json").unlink(missing_ok=True)
        server.stop()
        if port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = port
