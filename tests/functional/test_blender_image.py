"""The render image's parts, proved without a Docker engine: every library bpy loads comes from the Dockerfile."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.bpy
REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "blender_image" / "Dockerfile"
# Libraries some of the wheel's modules name but nothing needs for CPU rendering: GPU drivers Cycles probes for and
# loads only if present (CUDA, HIP, oneAPI), and MaterialX bindings whose libraries the bpy wheel itself leaves out.
OPTIONAL = {
    "libcuda.so.1",
    "libamdhip64.so.6",
    "libze_loader.so.1",
    "libMaterialXGenMdl.so.1",
    "libMaterialXGenOsl.so.1",
    "libMaterialXRenderGlsl.so.1",
    "libMaterialXRenderOsl.so.1",
}


def _dockerfile_packages() -> tuple[set[str], set[str]]:
    text = DOCKERFILE.read_text()
    install = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", text, re.S)
    assert install is not None
    installed = set(install.group(1).replace("\\", " ").split())
    base = re.search(r"^# base provides: (.*)$", text, re.M)
    assert base is not None
    return installed, set(base.group(1).split())


def _package_of(library: str) -> str:
    for path in {library, str(Path(library).resolve()), library.replace("/lib/", "/usr/lib/", 1)}:
        found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no Debian package owns {library}")


@pytest.mark.skipif(shutil.which("ldd") is None or shutil.which("dpkg") is None, reason="needs ldd and dpkg")
def test_every_shared_library_bpy_needs_is_installed_by_the_dockerfile_or_its_base() -> None:
    import bpy  # noqa: F401  (only to find the wheel; nothing runs)

    package_root = Path(__import__("importlib.util").util.find_spec("bpy").submodule_search_locations[0])
    own = {path.name for path in package_root.rglob("*.so*")}
    needed: set[str] = set()
    for module in package_root.rglob("*.so*"):
        for line in subprocess.run(["ldd", str(module)], capture_output=True, text=True).stdout.splitlines():
            name, _, target = line.strip().partition(" => ")
            if not target:
                continue  # the loader itself, vdso
            path = target.split(" (")[0].strip()
            if path == "not found":
                assert name in own | OPTIONAL, f"{module.name} needs {name}, which nothing provides"
            elif str(package_root) not in path:
                needed.add(path)
    installed, base = _dockerfile_packages()
    missing = {library: _package_of(library) for library in needed}
    missing = {
        library: package
        for library, package in missing.items()
        if package.split(":")[0] not in installed | base
    }
    assert missing == {}
    assert {
        "libx11-6",
        "libxrender1",
        "libxfixes3",
        "libxi6",
        "libxkbcommon0",
        "libsm6",
        "libice6",
        "libgl1",
    } <= installed


def test_the_image_is_lambda_shaped() -> None:
    text = DOCKERFILE.read_text()
    # Debian 12 (glibc 2.36 ≥ 2.28), Python 3.11 unless a build names another (a Blender that needs one)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11[\w.]*$", text, re.M)
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}[\w.-]*-bookworm$", text, re.M)
    assert not re.search(r"^ENTRYPOINT", text, re.M)  # a render node's job definition replaces the command
    assert 'CMD ["python", "-m", "awslambdaric", "entry.render.handler"]' in text
    assert "-type d -exec chmod 755" in text and "-type f -exec chmod 644" in text
    assert '".[render]"' in text and "--constraint requirements.lock" in text
