"""`studiobot doctor`: the read-only preflight of an AWS account and a Slack workspace, one table of checks.

`make deploy` runs it first and stops on a blocking ✗ (`preflight`); run it alone after a deploy, or whenever
something looks wrong: `studiobot doctor --stage prod`. With `--local` it checks the local stack's moto instead.
The checks live in `backend/doctor/` (plain functions over ports); here are the adapters, the params and the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import boto3
import typer
import yaml
from botocore.exceptions import BotoCoreError, ClientError
from rich.table import Table

from backend.aws.account import (
    LambdaSettings,
    ServiceQuotas,
    SsmParameterNames,
    StsIdentity,
    WorkstationEstate,
)
from backend.aws.base import error_code
from backend.config import ENV_SLACK_API_URL, ENV_SLACK_BOT_TOKEN
from backend.doctor import checks, workstations
from backend.doctor.checks import Check, Wanted, guarded
from backend.doctor.ports import SlackIdentity, SlackRefused, SlackWorkspace
from backend.errors import StudiobotError
from backend.workstations.ssm import SsmCommands
from local.cli.terminal import console

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS = ROOT / "infra" / "serverless.yml"
MANIFEST = ROOT / "slack" / "manifest.yml"
SYMBOLS = {"ok": "[green]✓[/green]", "blocking": "[red]✗[/red]", "warning": "[yellow]⚠[/yellow]"}


class _Template(yaml.SafeLoader):
    """Reads serverless.yml with its `!Ref`, `!If`… as plain values: only `params` is read."""


_Template.add_multi_constructor("!", lambda loader, suffix, node: None)


def deploy_params(given: Mapping[str, str]) -> dict[str, str]:
    """serverless.yml's default params with the deploy's own (`PARAMS`, `--param`) over them."""
    document = yaml.load(SERVERLESS.read_text(), Loader=_Template)
    defaults = document.get("params", {}).get("default", {})
    return {**{name: str(value) for name, value in defaults.items()}, **given}


def manifest_scopes() -> frozenset[str]:
    """The bot scopes slack/manifest.yml asks for."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


class SlackWebWorkspace:
    """Satisfies `backend.doctor.ports.SlackWorkspace` with slack_sdk's WebClient."""

    def __init__(self, token: str, base_url: str) -> None:
        from slack_sdk import WebClient

        self.client = WebClient(token=token, base_url=base_url)

    def identity(self) -> SlackIdentity:
        answer = self._call(self.client.auth_test)
        headers = {name.lower(): value for name, value in (answer.headers or {}).items()}
        scopes = headers.get("x-oauth-scopes", "")
        scopes = scopes[0] if isinstance(scopes, list) else scopes
        return SlackIdentity(
            team_id=str(answer.get("team_id", "")),
            team=str(answer.get("team", "")),
            user=str(answer.get("user", "")),
            scopes=frozenset(part.strip() for part in str(scopes).split(",") if part.strip()),
        )

    def is_member(self, channel: str) -> bool:
        answer = self._call(self.client.conversations_info, channel=channel)
        return bool((answer.get("channel") or {}).get("is_member", False))

    @staticmethod
    def _call(method: Any, **arguments: Any) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return method(**arguments)
        except SlackApiError as error:
            raise SlackRefused(str(error.response.get("error", "an error"))) from None
        except OSError as error:
            raise SlackRefused(f"unreachable ({error})") from None


def slack_workspace(stage: str) -> tuple[SlackWorkspace | None, str]:
    """The workspace behind the bot token (SLACK_BOT_TOKEN, else the stage's SSM parameter), or why there is none."""
    token = os.environ.get(ENV_SLACK_BOT_TOKEN, "")
    name = f"/studiobot/{stage}/slack-bot-token"
    if not token:
        try:
            token = str(
                boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            )
        except ClientError as error:
            code = error_code(error)
            why = f"{name} is missing" if code == "ParameterNotFound" else f"could not read {name} ({code})"
            return None, why
        except BotoCoreError as error:
            return None, f"could not read {name} ({error})"
    base_url = os.environ.get(ENV_SLACK_API_URL, "https://slack.com/api/")
    return SlackWebWorkspace(token, base_url), ""


def _team_pin(stage: str) -> str:
    """The workspace id stored in /studiobot/<stage>/slack-team-id (a String, not a secret), or ""."""
    try:
        answer = boto3.client("ssm").get_parameter(Name=f"/studiobot/{stage}/slack-team-id")
    except (ClientError, BotoCoreError):
        return ""  # the parameters row says it is missing
    return str(answer["Parameter"]["Value"]).strip()


def diagnose(stage: str, given: Mapping[str, str]) -> list[Check]:
    """Every check, in the table's order, against the account the credentials reach and the token's workspace."""
    found, caller = checks.credentials(StsIdentity())
    params = deploy_params(given)
    if caller is not None and not params.get("slackTeamId", "").strip():
        params["slackTeamId"] = _team_pin(stage)  # what `make deploy` pins the bot to
    wanted = Wanted(stage, params, manifest_scopes())
    rows = [found]
    if caller is None:
        aws_rows = ("Lambda concurrency", "Lambda memory", "GPU Spot vCPUs", "SSM parameters")
        rows += [Check(name, False, "not checked: no AWS credentials", blocking=False) for name in aws_rows]
    else:
        lambda_account, quotas = LambdaSettings(), ServiceQuotas()
        rows += [
            guarded("Lambda concurrency", lambda: checks.lambda_concurrency(lambda_account, wanted)),
            guarded("Lambda memory", lambda: checks.lambda_memory(lambda_account, wanted), blocking=False),
            guarded("GPU Spot vCPUs", lambda: checks.spot_gpu_quota(quotas, wanted), blocking=False),
            guarded("SSM parameters", lambda: checks.parameters(SsmParameterNames(), wanted)),
        ]
    workspace, why_not = (
        slack_workspace(stage) if caller or os.environ.get(ENV_SLACK_BOT_TOKEN) else (None, "")
    )
    rows += checks.slack(workspace, wanted, why_not)
    if caller is None:
        names = ("Workstation agents", "Workstation profiles", "Workstation keys")
        return rows + [
            Check(name, False, "not checked: no AWS credentials", blocking=False) for name in names
        ]
    return rows + _workstation_rows(caller.account)


def _workstation_rows(account: str) -> list[Check]:
    estate = WorkstationEstate()
    try:
        machines = estate.machines()
    except StudiobotError as error:
        names = ("Workstation agents", "Workstation profiles", "Workstation keys")
        return [Check(name, False, f"Could not check: {error}", blocking=False) for name in names]
    return [
        guarded(
            "Workstation agents", lambda: workstations.agents(estate, SsmCommands(), machines), blocking=False
        ),
        guarded("Workstation profiles", lambda: workstations.profiles(estate, machines), blocking=False),
        guarded("Workstation keys", lambda: workstations.keys(estate, machines, account), blocking=False),
    ]


def table(checks_found: list[Check]) -> Table:
    """The doctor's table: one row a check, ✓ / ✗ (blocks the deploy) / ⚠ (a warning), the detail, the fix."""
    shown = Table(title="studiobot doctor", show_lines=False)
    for column in ("check", "", "detail", "fix"):
        shown.add_column(column, overflow="fold")
    for check in checks_found:
        symbol = SYMBOLS["ok" if check.ok else "blocking" if check.blocking else "warning"]
        shown.add_row(check.name, symbol, check.detail, "" if check.ok else check.fix)
    return shown


def report(checks_found: list[Check]) -> bool:
    """Print the table and its verdict; True when nothing blocks the deployment."""
    console.print(table(checks_found))
    stopping = [check.name for check in checks_found if not check.ok and check.blocking]
    warnings = sum(1 for check in checks_found if not check.ok and not check.blocking)
    if stopping:
        console.print(
            f"[red]✗[/red] {len(stopping)} blocking: {', '.join(stopping)}. Fix them, then run again."
        )
        return False
    note = f" ({warnings} warning(s): ⚠ rows)" if warnings else ""
    console.print(f"[green]✓[/green] Ready to deploy{note}.")
    return True


def preflight(stage: str, extra_params: list[str]) -> bool:
    """`make deploy`'s first step: the doctor's table; False when a ✗ would break the deployment."""
    given = dict(part.split("=", 1) for part in extra_params if "=" in part)
    return report(diagnose(stage, given))


def doctor(
    stage: Annotated[
        str, typer.Option(help="The stage to check (its /studiobot/<stage>/ parameters).")
    ] = "dev",
    param: Annotated[
        list[str] | None, typer.Option(help="A deploy param, name=value, as in PARAMS (repeatable).")
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Check the local stack's moto, not AWS.")] = False,
) -> None:
    """Check an AWS account and Slack workspace before (and after) `make deploy`; read-only. Exit 1 on a ✗ that
    would break the deployment."""
    if local:
        from local.cli.terminal import stack

        stack()  # AWS calls go to the local stack's moto from here on
    if not preflight(stage, list(param or [])):
        raise typer.Exit(code=1)
