"""The Slack secrets on AWS under the stack's own key (infra/secrets.yml), which only the bot, the notifier and its
redrive may decrypt: moved onto it by `make deploy`, and rotated with `make rotate-secret` (README "Deploy to AWS").

`python -m local.deployer.secrets rotate STAGE slack-signing-secret|slack-bot-token` reads the new value from the terminal
(never from the command line, which shells keep), puts it under the key and restarts the functions that read it."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

# Who reads which secret (serverless.yml's SLACK_*_PARAMETER): the bot checks signatures, everyone posts.
READERS = {
    "slack-signing-secret": ("bot",),
    "slack-bot-token": ("bot", "notifier", "noticeRedrive"),
    # the download links' key (`make deploy` makes it; `render.links`): who posts links, and who checks them
    "link-signing-key": ("bot", "notifier", "noticeRedrive", "links"),
}
# Read by nothing: changing it is how a function's running environments are replaced by fresh ones, which read the
# secrets again (each reads them once, at its cold start: entry/slack.py, entry/notifier.py).
ROTATED_VERSION = "STUDIOBOT_SECRETS_VERSION"


def key_alias(stage: str) -> str:
    """The alias of the stage's Slack secrets key (`SlackSecretsKeyAlias` in infra/secrets.yml)."""
    return f"alias/studiobot-{stage}"


def _on_key(described: dict[str, Any], stage: str, kms: Any | None) -> bool:
    if described.get("Type") != "SecureString":
        return False
    ours = {key_alias(stage)}
    if kms is not None:
        with_ids = kms.describe_key(KeyId=key_alias(stage))["KeyMetadata"]
        ours |= {with_ids["KeyId"], with_ids["Arn"]}
    return str(described.get("KeyId", "")) in ours


def onto_stack_key(
    ssm: Any, stage: str, kms: Any | None = None, say: Callable[[str], None] = print
) -> list[str]:
    """Put again under the stage's key each Slack secret still under another (`aws/ssm`, which every principal of
    the account may decrypt); the names moved. The values do not change, so nothing needs restarting."""
    moved = []
    for secret in READERS:
        name = f"/studiobot/{stage}/{secret}"
        found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        if not found or _on_key(found[0], stage, kms):
            continue
        try:
            value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            ssm.put_parameter(
                Name=name, Value=value, Type="SecureString", KeyId=key_alias(stage), Overwrite=True
            )
        except ClientError as error:
            say(
                f"{name} is not under {key_alias(stage)} and could not be moved there "
                f"({error.response['Error']['Code']}). Put it again:\n"
                f"  aws ssm put-parameter --overwrite --type SecureString --key-id {key_alias(stage)} "
                f"--name {name} --value '…'"
            )
            continue
        say(f"{name}: now under {key_alias(stage)}, which only the functions that talk to Slack may decrypt")
        moved.append(name)
    return moved


def rotate(ssm: Any, lambda_client: Any, stage: str, secret: str, value: str) -> list[str]:
    """Put a secret's new value under the stage's key, then replace the running environments of the functions that
    read it (they read it at their cold start); those functions' names."""
    if secret not in READERS:
        raise SystemExit(f"No secret `{secret}`: try {' or '.join(READERS)}.")
    if not value.strip():
        raise SystemExit("The new value is empty: paste it from the Slack app's settings.")
    name = f"/studiobot/{stage}/{secret}"
    version = ssm.put_parameter(
        Name=name, Value=value.strip(), Type="SecureString", KeyId=key_alias(stage), Overwrite=True
    )["Version"]
    restarted = []
    for function in READERS[secret]:
        function_name = f"studiobot-{stage}-{function}"
        # an update still in progress (a rotation just before) would refuse this one
        lambda_client.get_waiter("function_updated").wait(FunctionName=function_name)
        configuration = lambda_client.get_function_configuration(FunctionName=function_name)
        variables = dict(configuration.get("Environment", {}).get("Variables", {}))
        variables[ROTATED_VERSION] = f"{secret}:{version}"
        lambda_client.update_function_configuration(
            FunctionName=function_name, Environment={"Variables": variables}
        )
        restarted.append(function_name)
    return restarted


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "rotate":
        print(f"usage: python -m local.deployer.secrets rotate STAGE {'|'.join(READERS)}", file=sys.stderr)
        return 2
    import boto3

    _, stage, secret = argv
    if secret not in READERS:
        print(f"No secret `{secret}`: try {' or '.join(READERS)}.", file=sys.stderr)
        return 2
    value = getpass.getpass(f"New value of /studiobot/{stage}/{secret} (not echoed): ")
    for function_name in rotate(boto3.client("ssm"), boto3.client("lambda"), stage, secret, value):
        print(f"{function_name}: restarted; its next request reads the new value")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
