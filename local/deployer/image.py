"""The render function's container image: how `make deploy` builds it and the ECR repository that keeps it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from backend.render.blenders import DEFAULT_BLENDER
from local.blender_envs import bpy_pin

ROOT = Path(__file__).resolve().parents[2]

# A deploy pushes a GB-sized image; older ones are never needed again (the function runs one by digest).
IMAGES_KEPT = 5
LIFECYCLE_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": f"Keep the last {IMAGES_KEPT} render images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": IMAGES_KEPT},
            "action": {"type": "expire"},
        }
    ]
}


def build_args(blender: str = DEFAULT_BLENDER) -> list[str]:
    """The `--build-arg`s of Blender `blender`'s render image: none for 5.0 (the Dockerfile's defaults), else its
    version and bpy pin (`local.blender_envs.BPY`; UnknownBlender for one without a pin, e.g. 5.1)."""
    if blender == DEFAULT_BLENDER:
        return []
    return ["--build-arg", f"BLENDER_VERSION={blender}", "--build-arg", f"BPY_VERSION={bpy_pin(blender)}"]


def build_command(image: str, blender: str = DEFAULT_BLENDER) -> list[str]:
    """`docker build` of the render image of Blender `blender` for Lambda (x86_64, from the repository root).

    Docker Desktop and buildx add provenance and SBOM attestations, which make an OCI image index: Lambda rejects
    it and the stack rolls back. Without them the image is a single plain manifest.
    """
    return [
        "docker",
        "build",
        "--platform",
        "linux/amd64",
        "--provenance=false",
        "--sbom=false",
        *build_args(blender),
        "-f",
        "blender_image/Dockerfile",
        "-t",
        image,
        ".",
    ]


def ensure_repository(ecr: Any, name: str) -> None:
    """Create the render image's repository if missing, scanned on push, keeping the last few images."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(LIFECYCLE_POLICY))
