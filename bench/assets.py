"""Assets benchmark: a shot of 500 textures (≈ 200 MB) traced and shipped to S3 on moto's server, content-addressed.

Measured: the trace; the first shipment (every byte sent); the same shot again (nothing may be sent); one texture
changed (that texture and a manifest sent, not the .blend); the same .blend under another name (none of it sent); a
second shot sharing 90 % of the textures (about 10 % sent).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from backend.aws.s3 import S3Store
from backend.render.shipping import Shipped, ShotShipper, shot_key
from backend.render.shots import hash_files, trace_shot
from local.embedded.stack import REPO_ROOT, deploy, start_moto_server, use_local_aws

TEXTURES = 500
TEXTURE_BYTES = 400_000  # 500 × 400 kB ≈ 200 MB
CHANGED = 50  # the second shot replaces 10 % of the textures


def _shot(folder: Path) -> Path:
    scene = folder / "shot.blend"
    subprocess.run(
        [sys.executable, "-m", "bench.assets_shot", str(scene), str(TEXTURES)],
        check=True,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
    )
    textures = folder / "textures"
    textures.mkdir(parents=True, exist_ok=True)
    for index in range(TEXTURES):
        (textures / f"tex_{index:04d}.png").write_bytes(os.urandom(TEXTURE_BYTES))
    return scene


def run() -> dict[str, Any]:
    """Trace and ship the shot three ways; return assets.json."""
    with tempfile.TemporaryDirectory(prefix="studiobot-assets-") as scratch:
        first = _shot(Path(scratch) / "sh010")
        second_folder = Path(scratch) / "sh020"
        shutil.copytree(first.parent, second_folder)
        for index in range(CHANGED):
            (second_folder / "textures" / f"tex_{index:04d}.png").write_bytes(os.urandom(TEXTURE_BYTES))
        server = start_moto_server()
        try:
            info = deploy(server.endpoint, stack_name="studiobot-bench-assets")
            use_local_aws(server.endpoint)
            settings = info.settings()
            shipper = ShotShipper(S3Store(boto3.client("s3")), settings.scenes_bucket, settings.scenes_prefix)

            started = time.perf_counter()
            trace = trace_shot(first)
            trace_s = time.perf_counter() - started
            started = time.perf_counter()
            manifest = trace.manifest(hash_files(trace))
            hash_s = time.perf_counter() - started

            started = time.perf_counter()
            shipped = shipper.ship(trace, manifest, shot_key(first, settings.scenes_prefix))
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = shipper.ship(trace, manifest, shot_key(first, settings.scenes_prefix))
            again_s = time.perf_counter() - started

            changed, other_name = _changed_and_renamed(shipper, first, settings.scenes_prefix)

            second = second_folder / "shot.blend"
            second_trace = trace_shot(second)
            started = time.perf_counter()
            shared = shipper.ship(
                second_trace,
                second_trace.manifest(hash_files(second_trace)),
                shot_key(second, settings.scenes_prefix),
            )
            shared_s = time.perf_counter() - started
        finally:
            server.stop()
    total = manifest.total_bytes
    return {
        "textures": TEXTURES,
        "files": len(manifest.files),
        "total_bytes": total,
        "trace_s": round(trace_s, 3),
        "hash_s": round(hash_s, 3),
        "first_bytes_sent": shipped.bytes_sent,
        "first_s": round(first_s, 3),
        "again_bytes_sent": again.bytes_sent,
        "again_s": round(again_s, 3),
        "shared_bytes_sent": shared.bytes_sent,
        "shared_s": round(shared_s, 3),
        "shared_sent_ratio": round(shared.bytes_sent / total, 4),
        "shared_note": f"the second shot replaces {CHANGED} of {TEXTURES} textures; its .blend is the first's",
        "one_texture_changed_bytes_sent": changed.bytes_sent,
        "one_texture_changed_manifest_bytes": changed.meta_bytes_sent,
        "texture_bytes": TEXTURE_BYTES,
        "same_blend_other_name_bytes_sent": other_name.bytes_sent,
        "same_blend_other_name_manifest_bytes": other_name.meta_bytes_sent,
    }


def _changed_and_renamed(shipper: ShotShipper, scene: Path, scenes_prefix: str) -> tuple[Shipped, Shipped]:
    """The shot shipped again with one texture repainted; then the same shot shipped under another name (`--as`)."""
    (scene.parent / "textures" / "tex_0007.png").write_bytes(os.urandom(TEXTURE_BYTES))
    trace = trace_shot(scene)
    manifest = trace.manifest(hash_files(trace))
    changed = shipper.ship(trace, manifest, shot_key(scene, scenes_prefix))
    other_name = shipper.ship(trace, manifest, shot_key(scene, scenes_prefix, name="projB/sh010"))
    return changed, other_name
