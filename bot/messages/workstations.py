"""Workstations in words: the help, the `/workstations status` table (a table block; code blocks where Slack
refuses it), the expiry warning, and each workstation event (sessions stopped or extended, keep-alive reports, EC2
alerts) as a line for a channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from backend.events import (
    KeepAliveReport,
    SessionExpiring,
    SessionExtended,
    SessionKept,
    SessionStopped,
    WorkstationAlert,
)
from backend.workstations.durations import describe
from backend.workstations.presence import Seen, Use, clock_time, said
from bot.messages import Blocks, context, plain_text, section, who
from bot.messages.pages import PAGE_ROWS, code_sections, page_note, page_of
from bot.messages.tables import Tabled, person_cell, table_block
from bot.messages.text import BUTTON_VALUE, ELLIPSIS, NAME_CHARS, REASON_CHARS, clip, escape, short_id, size

if TYPE_CHECKING:
    from backend.workstations.service import Change, StatusRow

WORKSTATIONS_HELP = (
    "*Workstations*\n"
    "`/workstations status` — every workstation: owner, state, up for, expires in, keep-alive "
    f"({PAGE_ROWS} a page: `/workstations status --page 2` shows the next)\n"
    "`/workstations start NAME` · `/workstations stop NAME` (its owner or an admin)\n"
    "`/workstations keepalive NAME on|off` — at expiry, extend instead of stop\n"
    "`/workstations extend NAME 4h` — push a running session's expiry (`90m`, `1h30m` work too)\n"
    "Running sessions last 11 h 30 min and stopped ones 4 days unless extended; owners are warned 30 min before."
)

EVENTS = (SessionExpiring, SessionStopped, SessionKept, SessionExtended, KeepAliveReport, WorkstationAlert)
OWNER_CHARS = 64  # the owner column: a Slack user id, or whatever the EC2 tag says
LISTED_NAMES_CHARS = 1_000  # each list of names in the keep-alive report; the rest are counted
# The code-block fallback's name column: a page is 99 rows (a table block's), and 99 names of 256 characters, each
# `&` escaped to five, would need more than a message's 50 blocks; the table block shows every name whole.
CODE_NAME_CHARS = 64


def workstations_table(rows: list[StatusRow], page: int = 1) -> tuple[str, Blocks]:
    """`/workstations status` as a table block, a page at a time; where Slack refuses tables, the same page as
    fixed-width code blocks (`Tabled.fallback`)."""
    if not rows:
        text = "No workstations found: tag EC2 instances `studiobot:workstation=NAME` to list them here."
        return text, [section(text)]
    shown = page_of(sorted(rows, key=lambda row: row.name), page)
    cells = [
        [
            row.name,
            person_cell(row.owner),
            row.state,
            describe(row.up_for) if row.up_for else "—",
            describe(row.expires_in) if row.expires_in is not None else "—",
            "on" if row.keepalive else "off",
            _connected(row.seen),
        ]
        for row in shown.rows
    ]
    table = table_block(COLUMNS, cells, right=(3, 4))
    text = _counts(rows) + (f" (page {shown.number} of {shown.count})" if shown.count > 1 else "")
    note = page_note(shown, "/workstations status", "workstations")
    fallback = _code_table(shown.rows)
    return Tabled(text, [*([context(note)] if note else []), table], (text, [*fallback, *_noted(note)]))


COLUMNS = ("name", "owner", "state", "up for", "expires in", "keep-alive", "connected")


def _noted(note: str) -> Blocks:
    return [context(note)] if note else []


def _counts(rows: list[StatusRow]) -> str:
    running = sum(1 for row in rows if row.state == "running")
    asked = [row.seen for row in rows if row.seen is not None]
    counts = f"{len(rows):,} workstations: {running:,} running"
    if asked:
        connected = sum(1 for seen in asked if seen.use in (Use.ACTIVE, Use.IDLE))
        unknown = sum(1 for seen in asked if seen.use is Use.UNKNOWN)
        counts += f"; of {len(asked):,} asked now, {connected:,} connected and {unknown:,} unknown"
    return counts


def _code_table(shown: list[StatusRow]) -> Blocks:
    """A page of workstations as fixed-width tables (Slack renders code blocks monospaced)."""
    names = [_cell(row.name, CODE_NAME_CHARS) for row in shown]
    owners = [_cell(row.owner, OWNER_CHARS) for row in shown]
    name_width = min(max(len("name"), *(len(name) for name in names)), 24)
    owner_width = min(max(len("owner"), *(len(owner) for owner in owners)), 14)
    header = (
        f"{'name':<{name_width}} {'owner':<{owner_width}} {'state':<9} {'up for':<12} {'expires in':<12} "
        f"{'keep-alive':<10} connected"
    )
    lines = []
    for row, name, owner in zip(shown, names, owners, strict=True):
        lines.append(
            escape(
                f"{name:<{name_width}} {owner:<{owner_width}} {_cell(row.state, 32):<9} "
                f"{describe(row.up_for) if row.up_for else '—':<12} "
                f"{describe(row.expires_in) if row.expires_in is not None else '—':<12} "
                f"{'on' if row.keepalive else 'off':<10} {_connected(row.seen)}"
            )
        )
    return [section(table) for table in code_sections(header, lines)]


def _connected(seen: Seen | None) -> str:
    """Who is connected, as the workstation said a moment ago (times in UTC: a code block shows no local time)."""
    if seen is None:
        return "—"
    if seen.use is Use.FREE:
        return "nobody"
    if seen.use is Use.UNKNOWN:
        return "unknown"
    users = ", ".join(_cell(user, 16) for user in seen.users[:2]) + (" …" if len(seen.users) > 2 else "")
    since = datetime.fromtimestamp(seen.since, UTC).strftime(" since %H:%M UTC") if seen.since else ""
    if seen.use is Use.IDLE and seen.idle_s is not None:
        return f"{users}{since}, idle {describe(timedelta(seconds=seen.idle_s))}"
    return f"{users}{since}"


def kept_message(event: SessionKept) -> tuple[str, Blocks]:
    """A lapsed session studiobot did not stop, with what its workstation said and Extend 2 h / Stop now."""
    name = clip(event.name, NAME_CHARS)
    seen = Seen(
        Use(event.use),
        tuple(event.users),
        event.since or None,
        event.idle_s if event.idle_s >= 0 else None,
        event.why,
    )
    head = f"⚠️ {who(event.owner)} `{name}` lapsed at {clock_time(event.lapsed_at)}"
    if event.stop_at:
        text = (
            f"{head}; {said(seen)}: it will be stopped at {clock_time(event.stop_at)} unless you extend it."
        )
    else:
        text = f"{head} but {said(seen)}: not stopped."
    keep = "Keep 2 h" if seen.use is Use.UNKNOWN else "Extend 2 h"
    return text, [section(text), *_buttons(event.name, keep)]


def _cell(text: str, most: int) -> str:
    """A table cell: whole, or cut to `most` characters with `…` (escaped with its line)."""
    return text if len(text) <= most else text[: most - 1] + ELLIPSIS


def expiring_message(name: str, owner: str, minutes_left: int, keepalive: bool) -> tuple[str, Blocks]:
    """The warning before a session lapses, with Extend 2 h / Stop now (the buttons carry the name)."""
    what = "it will be extended (keep-alive is on)" if keepalive else "it will be stopped"
    text = f"⏰ {who(owner)} `{clip(name, NAME_CHARS)}`'s session ends in {minutes_left} min: {what}."
    return text, [section(text), *_buttons(name)]


def _buttons(name: str, keep: str = "Extend 2 h") -> Blocks:
    """Extend 2 h / Stop now for one workstation (none when the name is too long for a button to carry)."""
    if size(name) > BUTTON_VALUE:  # longer than any EC2 tag: the buttons could not carry it
        return []
    buttons = [
        {
            "type": "button",
            "action_id": "ws_extend",
            "text": plain_text(keep),
            "value": name,
            "style": "primary",
        },
        {"type": "button", "action_id": "ws_stop", "text": plain_text("Stop now"), "value": name},
    ]
    return [{"type": "actions", "block_id": short_id("ws:", name), "elements": buttons}]


def event_text(
    event: SessionExpiring
    | SessionStopped
    | SessionKept
    | SessionExtended
    | KeepAliveReport
    | WorkstationAlert,
) -> str:
    """A workstation event as one line for a channel or the terminal."""
    if isinstance(event, KeepAliveReport):
        return _keepalive(event)
    name, owner = clip(event.name, NAME_CHARS), who(event.owner)
    if isinstance(event, SessionExpiring):
        what = "it will be extended (keep-alive is on)" if event.keepalive else "it will be stopped"
        return f"⏰ {owner} `{name}`'s session ends soon: {what}. `/workstations extend {name} 2h` keeps it."
    if isinstance(event, SessionKept):
        return kept_message(event)[0]
    if isinstance(event, SessionStopped):
        return f"⏹️ Stopped `{name}` ({owner}): {clip(event.reason, REASON_CHARS)}."
    if isinstance(event, SessionExtended):
        return f"♻️ Extended `{name}` ({owner}): {clip(event.reason, REASON_CHARS)}."
    if event.kind == "spot-interruption":
        return f"🚨 {owner} AWS is reclaiming spot workstation `{name}` in two minutes: save your work now."
    return f"🖥️ `{name}` ({owner}) is now {clip(event.state, NAME_CHARS)}."


def _keepalive(event: KeepAliveReport) -> str:
    def names(items: list[str]) -> str:
        listed: list[str] = []
        for item in items:
            name = f"`{clip(item, NAME_CHARS)}`"
            if size(", ".join([*listed, name])) > LISTED_NAMES_CHARS:
                return ", ".join(listed) + f" and {len(items) - len(listed):,} more"
            listed.append(name)
        return ", ".join(listed) or "none"

    text = f"♻️ Keep-alive: started {names(event.started)}; stopped again {names(event.stopped)}"
    if event.left_running:
        reasons = [
            f"`{clip(name, NAME_CHARS)}` ({clip(event.left_because.get(name, 'someone may be using it'), REASON_CHARS)})"
            for name in event.left_running[:5]
        ]
        more = f" and {len(event.left_running) - 5:,} more" if len(event.left_running) > 5 else ""
        text += f"; left running: {'; '.join(reasons)}{more}"
    if event.error:
        text += f". ⚠️ A step failed: {clip(event.error, REASON_CHARS)}"
    return text + "."


def change_text(change: Change) -> str:
    """What `/workstations start|stop|keepalive|extend` did, in one line."""
    name = clip(change.name, NAME_CHARS)
    if change.action == "start":
        left = describe(change.session_left) if change.session_left is not None else "a while"
        return f"▶️ Starting `{name}`: its session lasts {left}."
    if change.action == "stop":
        return f"⏹️ Stopping `{name}`."
    if change.action == "keepalive":
        if change.keepalive:
            return f"♻️ Keep-alive on for `{name}`: at expiry its session is extended, not stopped."
        return f"Keep-alive off for `{name}`: it stops when its session expires."
    by = describe(change.extended_by) if change.extended_by is not None else ""
    left = describe(change.session_left) if change.session_left is not None else ""
    return f"⏳ Extended `{name}` by {by}: it now expires in {left}."
