"""Package `infra/serverless.yml` with osls offline, and deploy the result the way `osls deploy` does.

`python -m local.deployer.deploy layer|package [STAGE]` (the Makefile's `package` target). Packaging needs no AWS account:
osls asks CloudFormation once whether the stack exists (to reuse an uploaded layer), so it talks to a moto server
on 127.0.0.1 that answers "no such stack", with placeholder credentials and a placeholder image digest. The only
network it needs is PyPI, once, for the layer's wheels. `make deploy` (README "Deploy to AWS") is the real thing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from backend.render.blenders import DEFAULT_BLENDER, parse_versions
from local.deployer import image as image_build
from local.deployer.exclusive import exclusive

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
LAYER = INFRA / ".build" / "layer"
DAILIES_LAYER = INFRA / ".build" / "dailies"
# PyAV (ffmpeg's libraries: 130 MB unpacked) travels in a layer of its own, only for the functions that make
# dailies movies (the notifier, and the redrive that tells its notices again): the others stay small.
DAILIES_PACKAGES = {"av"}
PACKAGE_DIR = INFRA / ".serverless"
OSLS = INFRA / "node_modules" / ".bin" / "osls"
TEMPLATE = PACKAGE_DIR / "cloudformation-template-update-stack.json"
PACKAGING_LOCK = (
    INFRA / ".build" / "packaging.lock"
)  # held while the layer or `.serverless/` is being written

# The zip functions' Lambda runtime (infra/serverless.yml `provider.runtime`) and the Python the layer is built for.
LAMBDA_RUNTIME = "python3.13"
LAMBDA_PYTHON = "3.13"
# The python3.13 Lambda runtime ships boto3 and what it needs; the layer leaves them out to stay small.
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
# cp313 (or pure) wheels for Lambda's python3.13 runtime, fetched by this machine's 3.11 pip without a 3.13
# interpreter: Amazon Linux 2023 (glibc 2.34) loads manylinux2014 and manylinux_2_28 wheels alike.
LAMBDA_PLATFORM = ["--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64"]
LAMBDA_PLATFORM += ["--python-version", LAMBDA_PYTHON, "--implementation", "cp"]
# Environment markers as Lambda's python3.13 runtime evaluates them (not this machine's).
LAMBDA_MARKERS = {
    "extra": "",
    "python_version": LAMBDA_PYTHON,
    "python_full_version": f"{LAMBDA_PYTHON}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
# Packaging offline: a digest osls does not look up, an account id for ARNs that are never called.
PLACEHOLDER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/studiobot-render@sha256:" + "0" * 64
OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "packaging-offline",
    "AWS_SECRET_ACCESS_KEY": "packaging-offline",
    "AWS_DEFAULT_REGION": "us-east-1",
    "SLS_TELEMETRY_DISABLED": "1",
    "SLS_NOTIFICATIONS_MODE": "off",
    "SLS_DEPRECATION_DISABLE": "*",
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def layer_requirements(dailies: bool = False) -> list[str]:
    """`name==version` of every package the zip functions import, minus what the Lambda runtime provides and
    PyAV (`dailies`: PyAV alone, the dailies layer's).

    The closure of pyproject's `dependencies` (not the `render` extra: no bpy), versions as installed here,
    which `requirements.lock` pins.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(text) for text in project["dependencies"]]
    found: dict[str, str] = {}
    while pending:
        requirement = pending.pop()
        name = _normalise(requirement.name)
        if name in found or name in PROVIDED_BY_LAMBDA:
            continue
        if requirement.marker and not requirement.marker.evaluate(LAMBDA_MARKERS):
            continue
        found[name] = metadata.version(name)
        for text in metadata.requires(name) or []:
            pending.append(Requirement(text))
    return sorted(
        f"{name}=={version}" for name, version in found.items() if (name in DAILIES_PACKAGES) == dailies
    )


def build_layer(target: Path = LAYER, dailies: bool = False) -> Path:
    """Install the layer's wheels for Lambda's platform into `target/python` (skipped when already built);
    `dailies`: the dailies layer's (PyAV) into `DAILIES_LAYER`."""
    with exclusive(PACKAGING_LOCK):
        return _build_layer(DAILIES_LAYER if dailies else target, layer_requirements(dailies))


def _build_layer(target: Path, requirements: list[str]) -> Path:
    stamp = target / ".requirements"
    wanted = "\n".join(
        [f"python {LAMBDA_PYTHON}", *requirements]
    )  # a layer built for another Python is rebuilt
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    shutil.rmtree(target, ignore_errors=True)
    site = target / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            *LAMBDA_PLATFORM,
            "--target",
            str(site),
            *requirements,
        ],
        check=True,
    )
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    stamp.write_text(wanted)
    return target


@dataclass(frozen=True)
class Packaged:
    template: dict
    seconds: float
    artifacts: dict[str, Path]


def osls(
    *args: str, env: dict[str, str] | None = None, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run osls from `infra/` (it refuses a config outside the folder it runs in)."""
    if not OSLS.exists():
        raise SystemExit("osls is not installed: run `npm ci --prefix infra` (or `make package`).")
    from local.deployer.documents import write_for_osls

    write_for_osls()  # the template embeds the presence scripts from it
    return subprocess.run(
        [str(OSLS), *args], cwd=INFRA, env={**os.environ, **(env or {})}, text=True, capture_output=capture
    )


def package(
    stage: str = "ci",
    image_uri: str = PLACEHOLDER_IMAGE,
    params: tuple[str, ...] = (),
    out: Path = PACKAGE_DIR,
) -> Packaged:
    """`osls package` offline: the layer, every zip function and the CloudFormation template in `out`
    (`.serverless/`); `params` are extra `key=value` deploy params. One packaging at a time on a checkout."""
    with exclusive(PACKAGING_LOCK):
        return _package(stage, image_uri, params, out)


def _package(stage: str, image_uri: str, params: tuple[str, ...], out: Path) -> Packaged:
    from local.embedded.stack import start_moto_server

    _build_layer(LAYER, layer_requirements())
    _build_layer(DAILIES_LAYER, layer_requirements(dailies=True))
    # osls deletes `.serverless/` whenever it packages: one packaged elsewhere keeps it aside meanwhile.
    aside = PACKAGE_DIR.with_name(".serverless-aside")
    shutil.rmtree(aside, ignore_errors=True)
    if out != PACKAGE_DIR and PACKAGE_DIR.exists():
        PACKAGE_DIR.rename(aside)
    moto = start_moto_server()
    try:
        started = time.perf_counter()
        result = osls(
            "package",
            "--stage",
            stage,
            "--param",
            f"renderImageUri={image_uri}",
            *[part for value in params for part in ("--param", value)],
            "--package",
            str(out),
            env={**OFFLINE_ENV, "AWS_ENDPOINT_URL": moto.endpoint},
        )
        seconds = time.perf_counter() - started
    finally:
        moto.stop()
        if aside.exists():
            shutil.rmtree(PACKAGE_DIR, ignore_errors=True)
            aside.rename(PACKAGE_DIR)
    if result.returncode != 0:
        raise RuntimeError(f"osls package failed:\n{result.stdout}\n{result.stderr}")
    template = json.loads((out / TEMPLATE.name).read_text())
    artifacts = {path.stem: path for path in out.glob("*.zip")}
    return Packaged(template, seconds, artifacts)


def function_runtimes(template: dict) -> dict[str, str]:
    """Each Lambda function of a packaged template (logical id) and its runtime, or "image" for a container."""
    return {
        name: resource["Properties"].get("Runtime") or "image"
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def deploy_packaged(cloudformation: Any, s3: Any, stack_name: str) -> dict[str, str]:
    """Deploy `.serverless/` as `osls deploy` does: the create-stack template (the deployment bucket), the
    artifacts uploaded to the keys the template names, then the full template as an update. Returns outputs."""
    create = json.loads((PACKAGE_DIR / "cloudformation-template-create-stack.json").read_text())
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(create))
    bucket = cloudformation.describe_stack_resource(
        StackName=stack_name, LogicalResourceId="ServerlessDeploymentBucket"
    )["StackResourceDetail"]["PhysicalResourceId"]
    template = json.loads(TEMPLATE.read_text())
    for key in sorted(_artifact_keys(template)):
        s3.upload_file(str(PACKAGE_DIR / key.rsplit("/", 1)[-1]), bucket, key)
    cloudformation.update_stack(
        StackName=stack_name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}


def _artifact_keys(template: dict) -> set[str]:
    keys = set()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for holder in (properties.get("Code"), properties.get("Content")):
            if isinstance(holder, dict) and "S3Key" in holder:
                keys.add(holder["S3Key"])
    return keys


def slack_parameter_names(stage: str) -> list[str]:
    """The SSM parameters the deployment reads the Slack secrets from (`custom` in serverless.yml)."""
    return [f"/studiobot/{stage}/slack-bot-token", f"/studiobot/{stage}/slack-signing-secret"]


# The deploy params that pin the bot to one workspace and one app, and the SSM parameters (String) they default to.
SLACK_PINS = {"slackTeamId": "slack-team-id", "slackAppId": "slack-app-id"}


def slack_pins(stage: str, extra_params: list[str], ssm: Any) -> list[str]:
    """`name=value` params pinning the workspace and the app: from PARAMS, else from SSM Parameter Store; a deploy
    without them stops here, saying how to store them (an unpinned bot answers any workspace's signed request)."""
    from botocore.exceptions import ClientError

    given = {part.split("=", 1)[0] for part in extra_params if "=" in part}
    pins: list[str] = []
    for param, name in SLACK_PINS.items():
        if param in given:
            continue
        path = f"/studiobot/{stage}/{name}"
        try:
            value = str(ssm.get_parameter(Name=path)["Parameter"]["Value"]).strip()
        except ClientError:
            value = ""
        if not value:
            example = "T0123ABCD" if param == "slackTeamId" else "A0123ABCD"
            raise SystemExit(
                f"The bot must be pinned to your workspace and app, and {path} is missing. Store it once "
                f"(README 'Deploy to AWS'):\n  aws ssm put-parameter --type String --name {path} --value {example}\n"
                f'or pass it: PARAMS="{param}={example}".'
            )
        pins.append(f"{param}={value}")
    return pins


def deploy(stage: str, extra_params: list[str]) -> None:
    """`studiobot doctor` first (nothing changes on a blocking ✗), then build and push the render image and
    `osls deploy`. Needs AWS credentials, Docker and the SSM secrets."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from local.deployer.doctor import preflight

    if not preflight(stage, extra_params):
        raise SystemExit(1)
    try:
        account = boto3.client("sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        raise SystemExit(
            f"No usable AWS credentials ({error}). Configure a profile, then run again."
        ) from None
    ssm = boto3.client("ssm")
    for name in slack_parameter_names(stage):
        try:
            ssm.get_parameter(Name=name)  # not decrypted: only that it exists
        except ClientError:
            raise SystemExit(
                f"The SSM parameter {name} is missing. Create it once (README 'Deploy to AWS'):\n"
                f"  aws ssm put-parameter --type SecureString --name {name} --value '…'"
            ) from None
    extra_params = [*extra_params, *slack_pins(stage, extra_params, ssm)]
    from local.embedded.links import ensure_link_key, link_key_parameter

    if ensure_link_key(stage, ssm):  # the key the download links are signed with, made once per stage
        print(f"Made the download links' signing key: {link_key_parameter(stage)} (SSM SecureString).")
    region = boto3.session.Session().region_name or "us-east-1"
    repository = f"studiobot-{stage}-render"
    ecr = boto3.client("ecr")
    image_build.ensure_repository(ecr, repository)
    registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    password = subprocess.run(
        ["aws", "ecr", "get-login-password", "--region", region], check=True, capture_output=True, text=True
    ).stdout
    subprocess.run(
        ["docker", "login", "--username", "AWS", "--password-stdin", registry],
        input=password,
        check=True,
        text=True,
    )
    image_uri = _push_image(ecr, registry, repository, "latest", DEFAULT_BLENDER)
    # Each other Blender the farm runs (`blenderVersions=4.5,5.0`): its own image, named to infra/blenders.js.
    if others := other_blenders(extra_params):
        images = [f"{v}={_push_image(ecr, registry, repository, tag_of(v), v)}" for v in others]
        extra_params = [*extra_params, "renderImageUris=" + ",".join(images)]
    build_layer()
    build_layer(dailies=True)
    params = [part for value in extra_params for part in ("--param", value)]
    deployed = osls(
        "deploy",
        "--stage",
        stage,
        "--region",
        region,
        "--param",
        f"renderImageUri={image_uri}",
        *params,
        env={"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off"},
        capture=False,
    )
    if deployed.returncode != 0:
        raise SystemExit(deployed.returncode)
    from local.deployer.secrets import onto_stack_key  # the key exists now (infra/secrets.yml)

    onto_stack_key(ssm, stage, boto3.client("kms"))
    outputs = boto3.client("cloudformation").describe_stacks(StackName=f"studiobot-{stage}")["Stacks"][0]
    for output in outputs.get("Outputs", []):
        if output["OutputKey"] == "SlackRequestUrl":
            print(f"Slack request URL (slash commands, interactivity, shortcuts): {output['OutputValue']}")


def other_blenders(extra_params: list[str]) -> tuple[str, ...]:
    """The Blenders other than 5.0 a deploy's `blenderVersions=…` param names (none without it)."""
    named = [value.split("=", 1)[1] for value in extra_params if value.startswith("blenderVersions=")]
    return (
        tuple(version for version in parse_versions(named[-1]) if version != DEFAULT_BLENDER) if named else ()
    )


def tag_of(blender: str) -> str:
    """The image tag of Blender `blender`'s render image (`blender45`)."""
    return "blender" + blender.replace(".", "")


def _push_image(ecr: Any, registry: str, repository: str, tag: str, blender: str) -> str:
    """Build Blender `blender`'s render image, push it, and return its URI by digest (what the function runs)."""
    image = f"{registry}/{repository}:{tag}"
    subprocess.run(image_build.build_command(image, blender), cwd=ROOT, check=True)
    subprocess.run(["docker", "push", image], check=True)
    pushed = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return f"{registry}/{repository}@{pushed['imageDetails'][0]['imageDigest']}"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "package"
    if command == "layer":
        print(f"layer: {build_layer()}  ({', '.join(layer_requirements())})")
        print(f"dailies layer: {build_layer(dailies=True)}  ({', '.join(layer_requirements(dailies=True))})")
    elif command == "package":
        stage = argv[1] if len(argv) > 1 else "ci"
        packaged = package(stage)
        sizes = ", ".join(
            f"{name} {path.stat().st_size / 1e6:.1f} MB" for name, path in sorted(packaged.artifacts.items())
        )
        print(f"packaged in {packaged.seconds:.1f} s: {TEMPLATE.relative_to(ROOT)}")
        print(f"{len(packaged.template['Resources'])} resources; artifacts: {sizes}")
    elif command == "deploy" and len(argv) > 1:
        # Extra `--param key=value` pairs for serverless.yml (opsChannel, admins, renderConcurrency…) from the
        # environment, e.g. `make deploy STAGE=prod PARAMS="opsChannel=C0123 admins=U0456"`.
        deploy(argv[1], os.environ.get("PARAMS", "").split())
    else:
        print("usage: python -m local.deployer.deploy layer | package [STAGE] | deploy STAGE")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
