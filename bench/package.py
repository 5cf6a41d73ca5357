"""Packaging benchmark: `osls package` wall time, what the bot's Lambda loads, and the template's size."""

from __future__ import annotations

import statistics
import zipfile
from pathlib import Path
from typing import Any

from bench import iam_calls

RUNS = 3


def _unzipped_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        return sum(item.file_size for item in archive.infolist()) / 1e6


def run_or_skip() -> dict[str, Any]:
    """The benchmark, or why it was skipped: it needs osls (`make bench` installs it where npm is)."""
    from local.deployer import deploy

    if not deploy.OSLS.exists():
        return {"skipped": "osls is not installed (needs npm: `npm ci --prefix infra`)"}
    return run()


def run() -> dict[str, Any]:
    from local.deployer import deploy

    deploy.build_layer()  # the wheels are fetched once; packaging is what is timed
    runs = [deploy.package("bench") for _ in range(RUNS)]
    packaged = runs[-1]
    bot, layer = packaged.artifacts["bot"], packaged.artifacts["dependencies"]
    with zipfile.ZipFile(layer) as archive:
        tops = {name.split("/")[1] for name in archive.namelist() if name.startswith("python/")}
    resources = packaged.template["Resources"]
    return {
        "package_runs_s": [round(item.seconds, 3) for item in runs],
        "package_s": round(statistics.median(item.seconds for item in runs), 3),
        # What Lambda loads for the bot: its own zip plus the dependencies layer (the limit is 50 MB zipped).
        "bot_zip_mb": round((bot.stat().st_size + layer.stat().st_size) / 1e6, 2),
        "bot_code_zip_mb": round(bot.stat().st_size / 1e6, 3),
        "layer_zip_mb": round(layer.stat().st_size / 1e6, 2),
        "bot_unzipped_mb": round(_unzipped_mb(bot) + _unzipped_mb(layer), 1),  # limit 250 MB
        # The notifier's: its zip, the dependencies layer and the dailies layer (PyAV), unzipped (limit 250 MB).
        "notifier_unzipped_mb": round(
            sum(_unzipped_mb(packaged.artifacts[name]) for name in ("notifier", "dependencies", "dailies")), 1
        ),
        "boto3_bundled": "boto3" in tops or "botocore" in tops,
        "bpy_bundled": "bpy" in tops,
        "layer_packages": deploy.layer_requirements(),
        # Each function's Lambda runtime, or "image" for the render function's container (its own Python 3.11).
        "runtimes": dict(sorted(deploy.function_runtimes(packaged.template).items())),
        "resources": len(resources),
        "functions": sum(1 for item in resources.values() if item["Type"] == "AWS::Lambda::Function"),
        "roles": sum(1 for item in resources.values() if item["Type"] == "AWS::IAM::Role"),
        # AWS calls the IAM-checked functional tests made, each checked against its role's packaged policy.
        **iam_calls.measure(),
    }
