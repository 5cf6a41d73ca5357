"""The render image as `make deploy` builds and keeps it: a plain manifest Lambda accepts, the last five images."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from local.blender_envs import UnknownBlender
from local.deployer import image


def test_the_render_image_is_built_without_attestations_lambda_would_reject() -> None:
    # GIVEN the command `make deploy` builds the render image with
    command = image.build_command("123456789012.dkr.ecr.us-east-1.amazonaws.com/studiobot-dev-render:latest")
    # THEN buildx / Docker Desktop make a single-platform image manifest, not an OCI index with attestations
    assert command[:2] == ["docker", "build"]
    assert {"--provenance=false", "--sbom=false"} <= set(command)
    assert command[command.index("--platform") + 1] == "linux/amd64"
    assert command[command.index("-f") + 1] == "blender_image/Dockerfile"


def test_the_render_repository_keeps_only_the_last_five_images() -> None:
    with mock_aws():
        ecr = boto3.client("ecr", region_name="us-east-1")
        # WHEN a first deploy creates the repository, and a second finds it there
        image.ensure_repository(ecr, "studiobot-dev-render")
        image.ensure_repository(ecr, "studiobot-dev-render")
        # THEN a lifecycle rule expires every image past the newest five, tagged or not
        policy = json.loads(
            ecr.get_lifecycle_policy(repositoryName="studiobot-dev-render")["lifecyclePolicyText"]
        )
        (rule,) = policy["rules"]
        assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}
        assert rule["action"] == {"type": "expire"}
        (repository,) = ecr.describe_repositories()["repositories"]
        assert repository["imageScanningConfiguration"] == {"scanOnPush": True}


def test_the_render_image_brings_its_own_python_on_an_os_base_not_a_lambda_runtime_image() -> None:
    # bpy 5.0.1 needs Python 3.11 and glibc ≥ 2.28: the image is Debian with CPython 3.11 and AWS's runtime client,
    # so Lambda's runtime deprecations (python3.11's on 2026-06-30) do not apply to it
    dockerfile = (image.ROOT / "blender_image" / "Dockerfile").read_text()
    (base,) = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    (python,) = [
        line.split("=")[1] for line in dockerfile.splitlines() if line.startswith("ARG PYTHON_VERSION=")
    ]
    base = base.replace("${PYTHON_VERSION}", python)  # the default build's: no --build-arg names another
    assert base.startswith("python:3.11") and "bookworm" in base
    assert "public.ecr.aws/lambda" not in dockerfile and "amazon/aws-lambda" not in dockerfile
    assert 'CMD ["python", "-m", "awslambdaric"' in dockerfile


def test_each_blender_has_its_own_image_built_from_the_same_dockerfile() -> None:
    # 5.0's image is built as before; 4.5's from the same Dockerfile with its version and bpy pin
    assert "--build-arg" not in image.build_command("render:5.0")
    command = image.build_command("render:4.5", blender="4.5")
    assert command[command.index("-f") + 1] == "blender_image/Dockerfile"
    args = [command[index + 1] for index, word in enumerate(command) if word == "--build-arg"]
    assert args == ["BLENDER_VERSION=4.5", "BPY_VERSION=4.5.15"]
    dockerfile = (image.ROOT / "blender_image" / "Dockerfile").read_text()
    assert "ARG BLENDER_VERSION=5.0" in dockerfile and 'ARG BPY_VERSION=""' in dockerfile
    assert '"bpy==$BPY_VERSION"' in dockerfile  # the pin the build names, the lock's other pins kept
    with pytest.raises(UnknownBlender, match=r"Blender 5\.1 is not one this farm runs"):
        image.build_command("render:5.1", blender="5.1")  # needs Python 3.13 and a pin: not built here
