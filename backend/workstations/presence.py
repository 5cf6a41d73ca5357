"""Whether someone is using a workstation, as the workstation itself answers at the moment of deciding (plain data).

A workstation answers with one line of JSON (`backend/workstations/scripts/presence.sh`, `.ps1`): its DCV
connections and the seconds since the last input. What cannot answer is UNKNOWN, and UNKNOWN is never "free":
only FREE (DCV answered, nobody connected) may be stopped without asking a person first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from backend.workstations.durations import describe

ENV_IDLE_AFTER_MIN = "STUDIOBOT_IDLE_AFTER_MIN"
ENV_UNKNOWN_SESSIONS = "STUDIOBOT_UNKNOWN_SESSIONS"
ENV_ASK_WAIT_S = "STUDIOBOT_ASK_WAIT_S"
KEEP, STOP_AFTER_WARNING = "keep", "stop-after-warning"
NOT_ASKED = "studiobot has no way to ask it (Systems Manager is not set up)"


class Use(StrEnum):
    ACTIVE = "active"  # connected, input within the idle threshold (or its idle time cannot be told)
    IDLE = "idle"  # connected, no input for at least the idle threshold
    FREE = "free"  # DCV answered: nobody connected
    UNKNOWN = "unknown"  # the workstation could not answer (no SSM agent, not managed, timeout, no DCV)


@dataclass(frozen=True)
class Seen:
    """What a workstation said about its sessions, and when."""

    use: Use
    users: tuple[str, ...] = ()
    since: float | None = None  # when the earliest open connection began
    idle_s: float | None = None  # since the last keyboard or mouse input
    why: str = ""  # for UNKNOWN: why it could not tell
    asked_at: float = 0.0

    @property
    def may_stop(self) -> bool:
        """Only a workstation that answered "nobody connected" is stopped without a person agreeing."""
        return self.use is Use.FREE


@dataclass(frozen=True)
class SessionPolicy:
    """How studiobot treats a session at the moment of stopping it (see README: Workstations)."""

    idle_after_s: float = 3600.0  # a connection with no input this long is idle
    warn_window_s: float = (
        1800.0  # an idle (or, by policy, unknown) session is stopped only this long after the warning
    )
    unknown: str = KEEP  # KEEP: an unknown session is never stopped by studiobot; STOP_AFTER_WARNING: as idle
    ask_wait_s: float = 20.0  # how long a sweep waits for workstations to answer

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SessionPolicy:
        """The policy the environment `backend.config` read sets."""
        unknown = env.get(ENV_UNKNOWN_SESSIONS, KEEP).strip().lower()
        return cls(
            idle_after_s=float(env.get(ENV_IDLE_AFTER_MIN, "60")) * 60,
            unknown=unknown if unknown in (KEEP, STOP_AFTER_WARNING) else KEEP,
            ask_wait_s=float(env.get(ENV_ASK_WAIT_S, "20")),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return this policy (for worker processes)."""
        return {
            ENV_IDLE_AFTER_MIN: repr(self.idle_after_s / 60),
            ENV_UNKNOWN_SESSIONS: self.unknown,
            ENV_ASK_WAIT_S: repr(self.ask_wait_s),
        }


class Verdict(StrEnum):
    STOP = "stop"  # it answered "nobody connected": stop it now
    WARN_FIRST = "warn first"  # idle (or unknown, by policy): stopped only after a warning nobody answered
    KEEP = "keep"  # in use, or unknown: never stopped without a person


@dataclass(frozen=True)
class Decision:
    """What a workstation said, and what that means for stopping it."""

    seen: Seen
    verdict: Verdict


def no_answer(now: float) -> Seen:
    """What a workstation nothing asked is taken to say: UNKNOWN (never "free")."""
    return Seen(Use.UNKNOWN, why=NOT_ASKED, asked_at=now)


def before_stopping(seen: Seen | None, policy: SessionPolicy, now: float) -> Decision:
    """The one rule before any stop: only "nobody connected" stops now. No answer is UNKNOWN, and UNKNOWN is never
    "free": it is kept (or, where the policy says so, stopped only after a warning, as an idle session is)."""
    seen = seen or no_answer(now)
    if seen.may_stop:
        return Decision(seen, Verdict.STOP)
    if seen.use is Use.IDLE or (seen.use is Use.UNKNOWN and policy.unknown == STOP_AFTER_WARNING):
        return Decision(seen, Verdict.WARN_FIRST)
    return Decision(seen, Verdict.KEEP)


@dataclass(frozen=True)
class Answer:
    """A workstation's answer as the script prints it."""

    dcv: bool
    users: tuple[str, ...] = ()
    since: float | None = None
    idle_s: float | None = None


def read_answer(output: str) -> Answer | None:
    """The script's JSON line (the last one carrying `studiobot_presence`), or None when there is none."""
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or "studiobot_presence" not in data:
            continue
        connections = [entry for entry in data.get("connections") or [] if isinstance(entry, dict)]
        starts = [_epoch(entry.get("since")) for entry in connections]
        known = [start for start in starts if start is not None]
        users = tuple(dict.fromkeys(str(entry.get("user") or "someone") for entry in connections))
        count = data.get("count")
        if not users and isinstance(count, int) and count > 0:  # a tag too short for the connections' list
            users = ("someone",)
        idle = data.get("idle_s")
        return Answer(
            dcv=bool(data.get("dcv")),
            users=users,
            since=min(known) if known else None,
            idle_s=float(idle) if isinstance(idle, int | float) and idle >= 0 else None,
        )
    return None


def seen_from(answer: Answer | None, policy: SessionPolicy, now: float, why_not: str = "") -> Seen:
    """What an answer means under the policy."""
    if answer is None:
        return Seen(Use.UNKNOWN, why=why_not or "it did not say who is connected", asked_at=now)
    if not answer.dcv:
        return Seen(Use.UNKNOWN, why="Amazon DCV does not answer on it", asked_at=now)
    if not answer.users:
        return Seen(Use.FREE, asked_at=now)
    idle = answer.idle_s is not None and answer.idle_s >= policy.idle_after_s
    return Seen(Use.IDLE if idle else Use.ACTIVE, answer.users, answer.since, answer.idle_s, asked_at=now)


def _epoch(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def said(seen: Seen) -> str:
    """What the workstation said, as a clause: "`anna` has been connected since 19:40 (active 3 min ago)"."""
    if seen.use is Use.FREE:
        return "nobody is connected to it"
    if seen.use is Use.UNKNOWN:
        why = _inert(seen.why[:300]) or "it did not answer"
        return f"studiobot cannot tell whether anyone is connected ({why})"
    names = [f"`{account(user)}`" for user in seen.users[:3]] or ["someone"]
    people = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    has = "has" if len(names) == 1 else "have"
    clause = f"{people} {has} been connected" + (f" since {clock_time(seen.since)}" if seen.since else "")
    if seen.idle_s is None:
        return clause + " (how long since their last input cannot be told)"
    if seen.use is Use.IDLE:
        return clause + f" but idle for {describe(timedelta(seconds=seen.idle_s))}"
    return clause + f" (active {describe(timedelta(seconds=max(60.0, seen.idle_s)))} ago)"


def clock_time(epoch: float) -> str:
    """A time of day Slack shows in each reader's own zone (the fallback in UTC)."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")
    return f"<!date^{int(epoch)}^{{time}}|{fallback}>"


def account(user: str) -> str:
    """An account name as a workstation reported it, kept to the characters account names use (a workstation's
    answer is not trusted to be well-formed)."""
    return re.sub(r"[^\w.@\\-]", "", user)[:40] or "someone"


def _inert(text: str) -> str:
    """Text Slack shows as written: no mention, link or entity can hide in it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
