"""Each Blender the farm runs here, in its own environment: `.venvs/blender-4.5/` beside `.venv`, made on first use
with a progress bar and reused after (`python -m local.blender_envs 4.5`; `studiobot up --blender` and CI call it).

bpy versions cannot share an environment, but everything else the worker needs can: an extra environment holds its
own bpy wheel and reads every other package from `.venv` (a `.pth` file after its own site-packages, so its bpy wins).
The default version is `.venv`'s own bpy (pyproject's `render` extra): nothing to install for it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

REPO = Path(__file__).resolve().parents[1]
# The bpy wheel of each Blender the farm runs: the newest of its series for Python 3.11 (5.1 and later need 3.13).
BPY = {"4.5": "4.5.15", "5.0": "5.0.1"}
DEFAULT = "5.0"  # `.venv`'s own (pyproject.toml pins bpy 5.0.1)
SHARED_PTH = "zz_studiobot_shared.pth"  # `zz`: read after the environment's own packages
_PROGRESS = re.compile(r"Progress (\d+) of (\d+)")


class UnknownBlender(ValueError):
    """A version the farm has no bpy pin for."""


def home(version: str, repo: Path = REPO) -> Path:
    """Where Blender `version`'s environment lives (the default version's is `.venv`)."""
    _pin(version)
    return repo / ".venv" if version == DEFAULT else repo / ".venvs" / f"blender-{version}"


def python_of(version: str, repo: Path = REPO) -> Path:
    """The Python that imports Blender `version`'s bpy (the running one for the default version)."""
    return Path(sys.executable) if version == DEFAULT else home(version, repo) / "bin" / "python"


def installed(version: str, repo: Path = REPO) -> bool:
    """Whether Blender `version`'s environment is ready (its bpy installed and checked)."""
    return version == DEFAULT or _stamp(version, repo).exists()


def ensure(version: str, repo: Path = REPO, console: Console | None = None) -> Path:
    """Blender `version`'s Python, its environment made first when it is not there (with a progress bar)."""
    if installed(version, repo):
        return python_of(version, repo)
    pin, target = _pin(version), home(version, repo)
    console = console or Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        step = progress.add_task(f"Blender {version}: a new environment", total=None)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(target)], check=True)
        progress.update(step, description=f"Blender {version}: bpy {pin}")
        _pip_install(
            target / "bin" / "python",
            f"bpy=={pin}",
            lambda done, total: progress.update(step, completed=done, total=total),
        )
        (_site_packages(target) / SHARED_PTH).write_text(sysconfig.get_paths()["purelib"] + "\n")
        progress.update(step, description=f"Blender {version}: checking bpy")
        said = subprocess.run(
            [str(target / "bin" / "python"), "-c", "import bpy; print(bpy.app.version_string)"],
            capture_output=True,
            text=True,
        )
        if said.returncode != 0 or not said.stdout.strip().startswith(pin):
            raise RuntimeError(
                f"bpy {pin} did not import in {target} ({(said.stderr or said.stdout).strip()[-300:]}): "
                f"remove that folder and run `python -m local.blender_envs {version}` again."
            )
        _stamp(version, repo).write_text(said.stdout)
    return python_of(version, repo)


def _pip_install(python: Path, requirement: str, advance: Callable[[int, int], object]) -> None:
    """Install one wheel, without its dependencies (`.venv` has them), reporting pip's raw progress."""
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    command += ["--progress-bar", "raw", "--disable-pip-version-check", requirement]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    said: list[str] = []
    for line in process.stdout:
        if found := _PROGRESS.search(line):
            advance(int(found.group(1)), int(found.group(2)))
        else:
            said.append(line.rstrip())
    if process.wait() != 0:
        raise RuntimeError(f"pip could not install {requirement}: " + " / ".join(said[-3:]))


def _site_packages(target: Path) -> Path:
    return target / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _stamp(version: str, repo: Path) -> Path:
    return home(version, repo) / f".installed-bpy-{_pin(version)}"


def bpy_pin(version: str) -> str:
    """The bpy wheel of Blender `version` (`4.5.15` for `4.5`); UnknownBlender for a version without one."""
    return _pin(version)


def _pin(version: str) -> str:
    if version not in BPY:
        raise UnknownBlender(f"Blender {version} is not one this farm runs: pick from {', '.join(BPY)}.")
    return BPY[version]


def main(argv: list[str] | None = None) -> int:
    """Make (or find) each named version's environment: `python -m local.blender_envs 4.5 5.0`."""
    for version in argv if argv is not None else sys.argv[1:]:
        print(f"Blender {version}: {ensure(version)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
