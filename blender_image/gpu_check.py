"""What Cycles finds on this machine, and how fast each device renders the sample frame.

`python -m blender_image.gpu_check [scene.blend]` on a render node (or with a new bpy wheel) before trusting
`--on gpu`: it lists every GPU backend this Blender build has and the devices each finds, what GPU kernels the wheel
ships, then renders one frame on each device alone and on the CPU, through the worker's own BlenderRenderer. It
imports bpy, so it is a second render module beside blender.py: a check run by hand, never by the worker.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import bpy

from backend.render.tasks import CPU, GPU, RenderSettings
from blender_image.blender import BACKENDS, BlenderRenderer

CHECKED = ("CUDA", "OPTIX", "HIP", "ONEAPI", "METAL")
RESOLUTION = (320, 180)
SAMPLES = 16
FRAME = 1


@dataclass(frozen=True)
class Device:
    """One entry of Cycles' device list: `kind` is its backend (`CUDA`, `OPTIX`…) or `CPU`."""

    kind: str
    name: str
    id: str

    @property
    def label(self) -> str:
        return "CPU" if self.kind == "CPU" else f"GPU · {BACKENDS.get(self.kind, self.kind)}"


@dataclass
class Timing:
    label: str
    device: str  # what the renderer says rendered it
    first_s: float | None = None  # includes loading (or JIT-compiling) the device's kernels
    warm_s: float | None = None
    error: str = ""


def _preferences() -> Any:
    return bpy.context.preferences.addons["cycles"].preferences


def find_devices() -> tuple[dict[str, list[Device] | None], list[Device]]:
    """Each checked backend's devices (None where this build lacks the backend) and the CPU entries."""
    preferences = _preferences()
    built: list[str] = []
    for kind in CHECKED:
        try:
            preferences.compute_device_type = kind  # a backend not compiled in is not a value of the enum
        except TypeError:
            continue
        built.append(kind)
    preferences.compute_device_type = "NONE"
    preferences.refresh_devices()  # asks every backend of the build, whatever the type set
    listed = [Device(entry.type, entry.name, entry.id) for entry in preferences.devices]
    found = {kind: [d for d in listed if d.kind == kind] if kind in built else None for kind in CHECKED}
    return found, [device for device in listed if device.kind == "CPU"]


def shipped_kernels() -> list[str]:
    """What GPU kernels this bpy carries, read from its files: Cycles exposes which backends are compiled in,
    not which GPUs they have binaries for."""
    scripts = Path(bpy.utils.system_resource("SCRIPTS"))
    lib = scripts / "addons_core" / "cycles" / "lib"
    names = sorted(path.name for path in lib.glob("kernel*")) if lib.is_dir() else []
    if not names:
        return [f"no kernel files under {lib} (a build without GPU kernels, or laid out differently)"]

    def numbers(pattern: str) -> list[str]:
        found = (re.fullmatch(pattern, name) for name in names)
        return sorted((match.group(1) for match in found if match), key=int)

    cubins = numbers(r"kernel_sm_(\d+)\.cubin(?:\.zst)?")
    ptx = numbers(r"kernel_compute_(\d+)\.ptx(?:\.zst)?")
    optix = [name for name in names if name.startswith("kernel_optix")]
    hip = [name for name in names if re.match(r"kernel_gfx\w+\.fatbin", name)]
    hip_rt = [name for name in names if name.startswith("kernel_rt_gfx")]
    oneapi = list((scripts.parents[1] / "lib").glob("libcycles_kernel_oneapi*"))
    cuda = f"CUDA: cubins for sm_{', sm_'.join(cubins) or '(none)'}; PTX compute_{', compute_'.join(ptx) or '(none)'}"
    return [
        f"{cuda}. Cycles loads the GPU's own cubin, else the newest PTX not above it, which the driver"
        " JIT-compiles on first use: with these files sm_80 (A100) and sm_90 (H100, H200) run compute_75 PTX"
        " and their first frame is slow.",
        f"OptiX: {len(optix)} PTX modules, built for the GPU by the driver's OptiX when a render starts (the"
        " files being here does not prove this driver takes them: an OptiX row below does).",
        f"HIP: {len(hip)} fatbins, {len(hip_rt)} HIP RT; oneAPI: "
        + ("AOT kernel library present." if oneapi else "no AOT kernel library found."),
        f"(read from {lib})",
    ]


def _use_only(device: Device) -> None:
    """Enable `device` alone in Cycles' preferences (a GPU's backend becomes the compute device type)."""
    preferences = _preferences()
    if device.kind != "CPU":
        preferences.compute_device_type = device.kind
    for entry in preferences.devices:
        entry.use = entry.type == device.kind and entry.id == device.id


def time_renders(
    renderer: BlenderRenderer, scene: Path, settings: RenderSettings, out_stem: Path, label: str
) -> Timing:
    """Render the frame twice: the first includes loading the device's kernels, the second is warm."""
    timing = Timing(label, "")
    try:
        for attempt in ("first_s", "warm_s"):
            started = time.perf_counter()
            renderer.render(scene, FRAME, settings, out_stem)
            setattr(timing, attempt, time.perf_counter() - started)
            timing.device = renderer.device
    except Exception as error:  # a backend that lists a device may still fail to render on it
        timing.error = f"{type(error).__name__}: {str(error)[:300]}"
    return timing


def check(scene: Path, resolution: tuple[int, int], samples: int, out: Path) -> list[Timing]:
    """Print what Cycles sees, then render on each device and return the timings."""
    print(
        f"bpy {bpy.app.version_string} (build {bpy.app.build_hash.decode()}, {bpy.app.build_branch.decode()})"
    )
    print(f"Cycles in this build: {'yes' if bpy.app.build_options.cycles else 'no'}")
    print("GPU kernels this wheel ships:")
    for line in shipped_kernels():
        print(f"  {line}")
    found, cpus = find_devices()
    print("Backends (in this build? devices found):")
    for kind, devices in found.items():
        if devices is None:
            print(f"  {kind:<7} not in this build")
        else:
            listed = "; ".join(f"{device.name} ({device.kind})" for device in devices) or "no device"
            print(f"  {kind:<7} built in: {listed}")
    print(
        f"  CPU     {'; '.join(device.name for device in cpus) or 'no CPU entry (Cycles renders on it anyway)'}"
    )
    gpus = [device for devices in found.values() for device in devices or []]
    if not gpus:
        print("no GPU device found: rendering on the CPU only")
    width, height = resolution
    print(
        f"Rendering frame {FRAME} of {scene} at {width}×{height}, {samples} samples, twice per device…",
        flush=True,
    )
    renderer = BlenderRenderer()  # one warm Blender: the scene opens once, as on a node
    timings: list[Timing] = []
    base = RenderSettings(resolution=resolution, samples=samples, engine="CYCLES", render_class=CPU)
    for device in gpus:
        _use_only(device)
        renderer._gpu = (device.kind, [device.name])  # this device alone, not the node's pick of them all
        settings = replace(base, render_class=GPU)
        label = f"{device.label} · {device.name}"
        timings.append(time_renders(renderer, scene, settings, out / f"gpu{len(timings)}", label))
    if cpus:
        _use_only(cpus[0])
    cpu_name = cpus[0].name if cpus else "CPU"
    timings.append(time_renders(renderer, scene, base, out / "cpu", f"CPU · {cpu_name}"))
    if gpus:  # what a node does for `--on gpu`: the best backend, every device of it
        node = BlenderRenderer()
        timings.append(
            time_renders(
                node, scene, replace(base, render_class=GPU), out / "node", "--on gpu (node's choice)"
            )
        )
    return timings


def table(timings: list[Timing]) -> str:
    """Device → seconds, one row each; a failed device says why instead."""
    width = max(len(timing.label) for timing in timings)
    lines = [f"{'device':<{width}}  {'first s':>8}  {'warm s':>8}  rendered by"]
    for timing in timings:
        if timing.error:
            lines.append(f"{timing.label:<{width}}  failed: {timing.error}")
        else:
            lines.append(
                f"{timing.label:<{width}}  {timing.first_s:>8.2f}  {timing.warm_s:>8.2f}  {timing.device}"
            )
    return "\n".join(lines)


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    """Print the devices and the timings table; 0 unless a render failed (no GPU is not a failure)."""
    parser = argparse.ArgumentParser(prog="python -m blender_image.gpu_check", description=__doc__)
    parser.add_argument("scene", nargs="?", type=Path, help="a .blend (default: the sample scene, built now)")
    parser.add_argument("--res", type=_size, default=RESOLUTION, help="WIDTHxHEIGHT (default 320x180)")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="studiobot-gpu-check-") as tmp:
        scene = args.scene
        if scene is None:
            from blender_image.sample.build_sample_scene import build

            scene = Path(tmp) / "turntable.blend"
            build(scene)
        timings = check(scene.resolve(), args.res, args.samples, Path(tmp) / "frames")
    print(table(timings), flush=True)
    return 1 if any(timing.error for timing in timings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
