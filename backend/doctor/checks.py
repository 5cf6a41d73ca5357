"""The doctor's checks of the account and the workspace: each a plain function over a port, answering one `Check`.

A ✗ that would break the deployment (or leave it unable to work: no token, the bot deaf in the ops channel, GPU jobs
that can never start) is blocking: `make deploy` stops on it. The others are warnings, fixed whenever convenient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backend.doctor.ports import (
    Caller,
    Identity,
    LambdaAccount,
    Parameters,
    Quotas,
    SlackIdentity,
    SlackRefused,
    SlackWorkspace,
)
from backend.errors import StudiobotError

SPOT_GPU_QUOTA = ("ec2", "L-3819A6DF")  # Service Quotas: EC2 "All G and VT Spot Instance Requests" (vCPUs)
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"
DEFAULT_CONCURRENCY = (
    1000  # the Lambda quotas page's default; new accounts start lower (and with less memory)
)
# Executions left for the bot (Slack's 3-s ack), the notifier and the schedules while renders run flat out.
HEADROOM = 10


@dataclass(frozen=True)
class Parameter:
    """An SSM parameter the stack reads, under `/studiobot/<stage>/`."""

    name: str
    secure: bool
    example: str
    param: str = ""  # a deploy param (PARAMS) that stands in for it


# Every parameter a deployment needs: a new one is one line here (and one in README "Deploy to AWS").
PARAMETERS = (
    Parameter("slack-bot-token", True, "xoxb-…"),
    Parameter("slack-signing-secret", True, "…"),
    Parameter("slack-team-id", False, "T0123ABCD", "slackTeamId"),
    Parameter("slack-app-id", False, "A0123ABCD", "slackAppId"),
)


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table; `fix` says what to do when it is not ok."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    blocking: bool = True  # a ✗ here stops `make deploy`; False: a warning


@dataclass(frozen=True)
class Wanted:
    """What the deployment asks for: serverless.yml's params with the deploy's own over them, the manifest's scopes."""

    stage: str
    params: Mapping[str, str]
    scopes: frozenset[str] = frozenset()

    def number(self, name: str, default: int) -> int:
        """A numeric param (the default when it is not a number)."""
        try:
            return int(float(self.params.get(name, default)))
        except ValueError:
            return default

    def channels(self, name: str) -> list[str]:
        """A comma-separated list param of channel ids."""
        return [part.strip() for part in self.params.get(name, "").split(",") if part.strip()]


def blocked(checks: list[Check]) -> bool:
    """True when a ✗ would break the deployment (the doctor exits 1)."""
    return any(not check.ok and check.blocking for check in checks)


def guarded(name: str, check: Callable[[], Check], blocking: bool = True) -> Check:
    """Run a check; an AWS or Slack error becomes its ✗ instead of stopping the doctor."""
    try:
        return check()
    except (StudiobotError, SlackRefused) as error:
        return Check(
            name, False, f"Could not check: {error}", "Run again with credentials that may read it.", blocking
        )


def credentials(identity: Identity) -> tuple[Check, Caller | None]:
    """The credentials work (STS), and which account and region they reach."""
    try:
        caller = identity.caller()
    except StudiobotError as error:
        fix = "Configure credentials (`aws configure` or AWS_PROFILE) and a region (AWS_REGION), then run again."
        return Check("AWS credentials", False, str(error), fix), None
    detail = f"account {caller.account} in {caller.region or 'no region'} as {caller.arn}"
    if not caller.region:
        return Check(
            "AWS credentials", False, detail, "Set a region: AWS_REGION=us-east-1 (or your profile's)."
        ), None
    return Check("AWS credentials", True, detail), caller


def lambda_concurrency(account: LambdaAccount, wanted: Wanted) -> Check:
    """Renders at full concurrency still leave executions for the bot and the rest."""
    render = wanted.number("renderConcurrency", 100)
    have = account.concurrency()
    detail = f"{have.unreserved} of {have.limit} unreserved; renders take up to {render} (renderConcurrency)"
    headroom = min(HEADROOM, have.unreserved // 2)  # a new account's 10 still leaves the bot half
    if have.unreserved >= render + HEADROOM:
        return Check("Lambda concurrency", True, detail)
    room = have.unreserved - headroom
    # an SQS event source's maximum concurrency is at least 2
    lower = f'deploy with PARAMS="renderConcurrency={room}", or ' if room >= 2 else ""
    fix = (
        f"A render job would leave the bot no execution for Slack's 3-second ack: {lower}ask for more in Service "
        f"Quotas → Lambda → Concurrent executions ({LAMBDA_CONCURRENCY_QUOTA})."
    )
    return Check("Lambda concurrency", False, detail, fix)


def lambda_memory(account: LambdaAccount, wanted: Wanted) -> Check:
    """The render function's memory fits the account (Lambda has no API that tells a reduced memory quota)."""
    memory = wanted.number("renderMemoryMb", 10240)
    largest = account.largest_memory_mb()
    if largest >= memory:
        return Check("Lambda memory", True, f"{memory} MB: a function here already has {largest} MB")
    limit = account.concurrency().limit
    if limit >= DEFAULT_CONCURRENCY:
        detail = f"{memory} MB: the account's concurrency is at the default ({limit}), not a new account's"
        return Check("Lambda memory", True, detail)
    detail = (
        f"{memory} MB asked; this account's concurrency ({limit}) is a new account's, whose memory quota is "
        "reduced too and may refuse the render function"
    )
    fix = (
        "If the deploy fails on the render function's MemorySize, deploy with a smaller renderMemoryMb and ask AWS "
        "Support to raise the account's Lambda quotas."
    )
    return Check("Lambda memory", False, detail, fix, blocking=False)


def spot_gpu_quota(quotas: Quotas, wanted: Wanted) -> Check:
    """With GPU nodes on, the G/VT Spot vCPU quota fits at least one node (else GPU jobs wait for ever)."""
    name = "GPU Spot vCPUs"
    if wanted.params.get("gpuNodes", "false").lower() != "true":
        return Check(name, True, "GPU nodes are off (gpuNodes=false): not needed")
    node, ceiling = wanted.number("gpuNodeVcpus", 4), wanted.number("gpuMaxVcpus", 64)
    fix = (
        f"Ask for at least {ceiling} vCPUs in Service Quotas → Amazon EC2 → All G and VT Spot Instance Requests "
        f"({SPOT_GPU_QUOTA[1]})."
    )
    value = quotas.quota(*SPOT_GPU_QUOTA)
    if value is None:
        return Check(name, False, "Service Quotas did not say", fix, blocking=False)
    have = int(value)
    if have < node:
        return Check(
            name, False, f"{have} vCPUs: not one {node}-vCPU node can start, GPU jobs would wait", fix
        )
    if have < ceiling:
        detail = f"{have} of the {ceiling} gpuMaxVcpus: at most {have // node} nodes at once"
        return Check(name, False, detail, fix, blocking=False)
    return Check(name, True, f"{have} vCPUs (gpuMaxVcpus {ceiling})")


def parameters(store: Parameters, wanted: Wanted) -> Check:
    """The SSM parameters the stack reads exist in this region (their values are never read here)."""
    needed = [p for p in PARAMETERS if not (p.param and wanted.params.get(p.param, "").strip())]
    names = {p.name: f"/studiobot/{wanted.stage}/{p.name}" for p in needed}
    present = store.present(list(names.values()))
    missing = [p for p in needed if names[p.name] not in present]
    if not missing:
        return Check("SSM parameters", True, f"{len(needed)} present under /studiobot/{wanted.stage}/")
    fix = "\n".join(
        f"aws ssm put-parameter --type {'SecureString' if p.secure else 'String'} --name {names[p.name]} "
        f"--value '{p.example}'" + (f'  (or PARAMS="{p.param}=…")' if p.param else "")
        for p in missing
    )
    return Check("SSM parameters", False, "missing: " + ", ".join(names[p.name] for p in missing), fix)


def slack(workspace: SlackWorkspace | None, wanted: Wanted, why_not: str = "") -> list[Check]:
    """The token works, has the manifest's scopes, and the bot is in the ops and allowed channels."""
    if workspace is None:
        fix = f"Store /studiobot/{wanted.stage}/slack-bot-token, or export SLACK_BOT_TOKEN to check Slack."
        return [Check("Slack token", False, why_not or "no bot token to check", fix), *_unchecked("no token")]
    try:
        me = workspace.identity()
    except SlackRefused as error:
        fix = "Reinstall the app (api.slack.com/apps → Install App) and store its new xoxb- token."
        return [Check("Slack token", False, f"Slack said {error}", fix), *_unchecked("the token is refused")]
    token = Check("Slack token", True, f"@{me.user} in {me.team} ({me.team_id})")
    pinned = wanted.params.get("slackTeamId", "").strip()
    if pinned and pinned != me.team_id:
        detail = f"the token is {me.team}'s ({me.team_id}), the bot is pinned to {pinned}: it would refuse everything"
        fix = f"Store the token of workspace {pinned}, or pin the bot to {me.team_id} (slack-team-id / slackTeamId)."
        token = Check("Slack token", False, detail, fix)
    return [token, _scopes(me, wanted), _ops_channel(workspace, wanted), _allowed_channels(workspace, wanted)]


def _unchecked(why: str) -> list[Check]:
    return [Check(name, False, f"not checked: {why}", blocking=False) for name in _SLACK_ROWS]


_SLACK_ROWS = ("Slack scopes", "Ops channel", "Allowed channels")


def _scopes(me: SlackIdentity, wanted: Wanted) -> Check:
    missing = sorted(wanted.scopes - me.scopes)
    if not missing:
        return Check("Slack scopes", True, ", ".join(sorted(wanted.scopes)))
    fix = (
        "Add them under OAuth & Permissions (or paste slack/manifest.yml again), reinstall the app, and store the "
        "new token."
    )
    return Check("Slack scopes", False, "missing " + ", ".join(missing), fix)


def _ops_channel(workspace: SlackWorkspace, wanted: Wanted) -> Check:
    channel = wanted.params.get("opsChannel", "").strip()
    if not channel:
        fix = 'Deploy with PARAMS="opsChannel=C0123ABCD" and /invite @studiobot there.'
        return Check("Ops channel", False, "none: alerts go only to the log", fix, blocking=False)
    try:
        member = workspace.is_member(channel)
    except SlackRefused as error:
        return Check("Ops channel", False, f"{channel}: Slack said {error}", "Check the channel id (C…).")
    if member:
        return Check("Ops channel", True, f"the bot is in {channel}")
    detail = f"the bot is not in {channel}: every alert would fail with not_in_channel"
    return Check(
        "Ops channel", False, detail, f"/invite @studiobot in <#{channel}>, then run the doctor again."
    )


def _allowed_channels(workspace: SlackWorkspace, wanted: Wanted) -> Check:
    channels = wanted.channels("allowedChannels")
    if not channels:
        return Check("Allowed channels", True, "any channel (allowedChannels not set)")
    outside = []
    for channel in channels:
        try:
            if not workspace.is_member(channel):
                outside.append(channel)
        except SlackRefused as error:
            outside.append(f"{channel} ({error})")
    if not outside:
        return Check("Allowed channels", True, f"the bot is in all {len(channels)}")
    detail = "the bot is not in " + ", ".join(outside) + ": job cards there would fail"
    return Check("Allowed channels", False, detail, "/invite @studiobot in each of them.", blocking=False)
