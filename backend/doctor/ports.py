"""What the doctor asks an AWS account and a Slack workspace: narrow ports, each answered by one adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Caller:
    """Who the credentials are and where they point."""

    account: str
    arn: str
    region: str


@dataclass(frozen=True)
class Concurrency:
    """Lambda's concurrency in the region (`GetAccountSettings`)."""

    limit: int
    unreserved: int


@dataclass(frozen=True)
class Machine:
    """A tagged workstation as the doctor sees it."""

    name: str
    instance_id: str
    state: str
    profile_arn: str = ""  # its instance profile, "" when it has none
    volume_keys: tuple[str, ...] = ()  # the KMS key ARNs of its encrypted EBS volumes


@dataclass(frozen=True)
class Key:
    """A KMS key: who manages it and the statements of its key policy."""

    key_id: str
    customer_managed: bool
    statements: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class SlackIdentity:
    """What `auth.test` says of the bot token: the workspace, the bot user, the scopes granted."""

    team_id: str
    team: str
    user: str
    scopes: frozenset[str]


class SlackRefused(Exception):
    """Slack answered `ok: false` (or not at all); the message is Slack's error code."""


class Identity(Protocol):
    def caller(self) -> Caller:
        """The account, principal and region of the credentials (STS `GetCallerIdentity`)."""
        ...


class LambdaAccount(Protocol):
    def concurrency(self) -> Concurrency:
        """The region's concurrency limit and what is left unreserved."""
        ...

    def largest_memory_mb(self) -> int:
        """The most memory any function in the region has (0 without functions)."""
        ...


class Quotas(Protocol):
    def quota(self, service: str, code: str) -> float | None:
        """A Service Quotas value (applied, else AWS's default); None when the account does not say."""
        ...


class Parameters(Protocol):
    def present(self, names: list[str]) -> set[str]:
        """Which of these SSM parameters exist (names only: never their values)."""
        ...


class Estate(Protocol):
    def machines(self) -> list[Machine]:
        """Every workstation (instances tagged `studiobot:workstation`) that is not terminated."""
        ...

    def profile_policies(self, profile_arn: str) -> set[str]:
        """The managed policy ARNs attached to the roles of an instance profile."""
        ...

    def key(self, key_arn: str) -> Key:
        """A KMS key's manager and key policy."""
        ...


class Agents(Protocol):
    def managed(self, instance_ids: list[str]) -> dict[str, str]:
        """The instances whose SSM agent is online (`backend.workstations.ssm.SsmCommands` answers it)."""
        ...


class SlackWorkspace(Protocol):
    def identity(self) -> SlackIdentity:
        """`auth.test` and the scopes Slack sends with it; raises `SlackRefused`."""
        ...

    def is_member(self, channel: str) -> bool:
        """Whether the bot is in the channel (`conversations.info`); raises `SlackRefused`."""
        ...
