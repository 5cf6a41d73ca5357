"""Workstations in words: the help, the `/workstations status` table, the expiry warning, and each
workstation event (sessions stopped or extended, keep-alive reports, EC2 alerts) as a line for a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.events import KeepAliveReport, SessionExpiring, SessionExtended, SessionStopped, WorkstationAlert
from backend.workstations.durations import describe
from bot.messages import Blocks, plain_text, section

if TYPE_CHECKING:
    from backend.workstations.service import Change

WORKSTATIONS_HELP = (
    "*Workstations*\n"
    "`/workstations status` — every workstation: owner, state, up for, expires in, keep-alive\n"
    "`/workstations start NAME` · `/workstations stop NAME` (its owner or an admin)\n"
    "`/workstations keepalive NAME on|off` — at expiry, extend instead of stop\n"
    "`/workstations extend NAME 4h` — push a running session's expiry (`90m`, `1h30m` work too)\n"
    "Running sessions last 11 h 30 min and stopped ones 4 days unless extended; owners are warned 30 min before."
)

EVENTS = (SessionExpiring, SessionStopped, SessionExtended, KeepAliveReport, WorkstationAlert)


def workstations_table(rows: list[Any]) -> tuple[str, Blocks]:
    """`/workstations status` as a fixed-width table (Slack renders code blocks monospaced)."""
    if not rows:
        text = "No workstations found: tag EC2 instances `studiobot:workstation=<name>` to list them here."
        return text, [section(text)]
    header = f"{'name':<14} {'owner':<12} {'state':<9} {'up for':<12} {'expires in':<12} keep-alive"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row.name:<14} {row.owner:<12} {row.state:<9} "
            f"{describe(row.up_for) if row.up_for else '—':<12} "
            f"{describe(row.expires_in) if row.expires_in is not None else '—':<12} "
            f"{'on' if row.keepalive else 'off'}{' · in use' if row.in_use else ''}"
        )
    table = "```\n" + "\n".join(lines) + "\n```"
    return f"{len(rows)} workstations", [section(table)]


def expiring_message(name: str, owner: str, minutes_left: int, keepalive: bool) -> tuple[str, Blocks]:
    """The warning before a session lapses, with Extend 2 h / Stop now."""
    what = "it will be extended (keep-alive is on)" if keepalive else "it will be stopped"
    text = f"⏰ <@{owner}> `{name}`'s session ends in {minutes_left} min: {what}."
    buttons = [
        {
            "type": "button",
            "action_id": "ws_extend",
            "text": plain_text("Extend 2 h"),
            "value": name,
            "style": "primary",
        },
        {"type": "button", "action_id": "ws_stop", "text": plain_text("Stop now"), "value": name},
    ]
    return text, [section(text), {"type": "actions", "block_id": f"ws:{name}", "elements": buttons}]


def event_text(
    event: SessionExpiring | SessionStopped | SessionExtended | KeepAliveReport | WorkstationAlert,
) -> str:
    """A workstation event as one line for a channel or the terminal."""
    if isinstance(event, SessionExpiring):
        what = "it will be extended (keep-alive is on)" if event.keepalive else "it will be stopped"
        return f"⏰ <@{event.owner}> `{event.name}`'s session ends soon: {what}. `/workstations extend {event.name} 2h` keeps it."
    if isinstance(event, SessionStopped):
        return f"⏹️ Stopped `{event.name}` (<@{event.owner}>): {event.reason}."
    if isinstance(event, SessionExtended):
        return f"♻️ Extended `{event.name}` (<@{event.owner}>): {event.reason}."
    if isinstance(event, KeepAliveReport):
        return _keepalive(event)
    if event.kind == "spot-interruption":
        return (
            f"🚨 <@{event.owner}> AWS is reclaiming spot workstation `{event.name}` in two minutes: "
            f"save your work now."
        )
    return f"🖥️ `{event.name}` (<@{event.owner}>) is now {event.state}."


def _keepalive(event: KeepAliveReport) -> str:
    def names(items: list[str]) -> str:
        return ", ".join(f"`{name}`" for name in items) if items else "none"

    text = f"♻️ Keep-alive: started {names(event.started)}; stopped again {names(event.stopped)}"
    if event.left_running:
        text += f"; left running because someone is connected: {names(event.left_running)}"
    if event.error:
        text += f". ⚠️ A step failed: {event.error}"
    return text + "."


def change_text(change: Change) -> str:
    """What `/workstations start|stop|keepalive|extend` did, in one line."""
    if change.action == "start":
        left = describe(change.session_left) if change.session_left is not None else "a while"
        return f"▶️ Starting `{change.name}`: its session lasts {left}."
    if change.action == "stop":
        warning = " Someone was still connected to it." if change.someone_connected else ""
        return f"⏹️ Stopping `{change.name}`.{warning}"
    if change.action == "keepalive":
        if change.keepalive:
            return f"♻️ Keep-alive on for `{change.name}`: at expiry its session is extended, not stopped."
        return f"Keep-alive off for `{change.name}`: it stops when its session expires."
    by = describe(change.extended_by) if change.extended_by is not None else ""
    left = describe(change.session_left) if change.session_left is not None else ""
    return f"⏳ Extended `{change.name}` by {by}: it now expires in {left}."
