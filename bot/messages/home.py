"""A person's Home tab (`views.publish`): their jobs with a progress bar, ETA, cost and buttons, the farm now, their
workstations with buttons, and this month's spend with the budget guard.

Within the Home tab's 100 blocks by construction: at most `JOBS` jobs and `WORKSTATIONS` workstations, each two
blocks, and a fixed number around them (`MOST_BLOCKS`); every text is cut to its block's limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from backend.config import Costs
from backend.render.home import JOBS, WORKSTATIONS, FarmNow, Home
from backend.render.records import Job, JobStatus
from backend.workstations.durations import describe
from backend.workstations.presence import Seen, Use
from bot.messages import Blocks, context, dollars, money, percent_of, plain_text, section
from bot.messages.budgets import guard_line
from bot.messages.render import STATUS_LABEL, cost_line, eta, progress_bar
from bot.messages.render_plan import spec_text
from bot.messages.text import BUTTON_VALUE, KEY_CHARS, NAME_CHARS, clip, cut, size

if TYPE_CHECKING:
    from backend.budgets.service import BudgetStatus
    from backend.workstations.service import StatusRow

HOME_BLOCKS = 100  # Slack's limit for a Home tab view
BUDGETS = 5  # budgets listed under the month's spend (the rest are counted)
# Blocks around the jobs and workstations: a title, four headers, three dividers, the farm (two), a note under the
# workstations, the spend (two).
FIXED_BLOCKS = 1 + 4 + 3 + 2 + 1 + 2
MOST_BLOCKS = FIXED_BLOCKS + 2 * JOBS + 2 * WORKSTATIONS
assert MOST_BLOCKS <= HOME_BLOCKS
NOT_READ = "could not be read just now: it shows again at the next refresh (or reopen this tab)."
# What each button on the Home does (`bot.listeners.actions.home_buttons`): the same desks as the commands.
JOB_CANCEL, JOB_RETRY, JOB_MOVIE = "home_job_cancel", "home_job_retry", "home_job_movie"
WS_START, WS_STOP, WS_EXTEND = "home_ws_start", "home_ws_stop", "home_ws_extend"


def home_view(home: Home, costs: Costs | None = None) -> dict[str, Any]:
    """The Home tab of `home.user`, as `views.publish` takes it."""
    updated = datetime.fromtimestamp(home.now, UTC).strftime("%H:%M UTC")
    blocks: Blocks = [context(f"🏠 studiobot · updated <!date^{int(home.now)}^{{time}}|{updated}>")]
    blocks += [_header("Your renders"), *_jobs(home, costs or Costs()), {"type": "divider"}]
    blocks += [_header("The farm now"), *_farm(home.farm), {"type": "divider"}]
    blocks += [_header("Your workstations"), *_workstations(home), {"type": "divider"}]
    blocks += [_header("This month's spend"), *_spend(home.spend, home.budgets_read_at)]
    assert len(blocks) <= MOST_BLOCKS
    return {"type": "home", "blocks": blocks}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain_text(text)}


def _button(action_id: str, label: str, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(label),
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _confirm(title: str, text: str, yes: str, no: str) -> dict[str, Any]:
    return {
        "title": plain_text(title),
        "text": {"type": "mrkdwn", "text": cut(text, 300)},
        "confirm": plain_text(yes),
        "deny": plain_text(no),
    }


# -- jobs ---------------------------------------------------------------------------------------------------------


def _jobs(home: Home, costs: Costs) -> Blocks:
    if home.jobs is None:
        return [context(f"Your renders {NOT_READ}")]
    if not home.jobs:
        return [context("No renders of yours this month: `/render SCENE FRAMES` starts one.")]
    blocks: Blocks = []
    for job in home.jobs[:JOBS]:
        blocks.append(section(job_text(job, home.now, costs)))
        if buttons := job_buttons(job):
            blocks.append({"type": "actions", "elements": buttons})
    return blocks


def job_text(job: Job, now: float, costs: Costs) -> str:
    """`*🎬 Rendering* · `shot.blend` · frames `1-240`` over `▰▰▱… 120/240 · ETA 4 min · cost so far $0.31`."""
    scene = clip(job.scene_key, KEY_CHARS // 2, keep_end=True)
    head = (
        f"*{STATUS_LABEL[job.status]}* · `{scene}` · frames `{spec_text(job.frames_spec)}` · `{job.job_id}`"
    )
    line = [f"`{progress_bar(job.done + job.failed, job.total)}`"]
    if job.failed:
        line.append(f"{job.failed:,} failed")
    if job.held_by:
        line.append("held")
    if remaining := eta(job, now):
        line.append(f"ETA {remaining}")
    if spent := cost_line(job, costs):
        line.append(spent[0].lower() + spent[1:])
    return f"{cut(head, 1_500)}\n{' · '.join(line)}"


def job_buttons(job: Job) -> Blocks:
    """Cancel while it is going, Retry failed once it ended with failures, Movie once it has frames."""
    value = job.job_id if size(job.job_id) <= BUTTON_VALUE else ""
    if not value:
        return []
    buttons = []
    if not job.status.is_final:
        cancel = _button(JOB_CANCEL, "Cancel", value, "danger")
        skipped = f"Frames not yet rendered in `{clip(job.job_id, NAME_CHARS)}` will be skipped."
        cancel["confirm"] = _confirm("Cancel this render?", skipped, "Cancel render", "Keep rendering")
        buttons.append(cancel)
    if job.status is JobStatus.DONE_WITH_FAILURES:
        buttons.append(_button(JOB_RETRY, "Retry failed", value))
    if job.status.is_final and job.done:
        buttons.append(_button(JOB_MOVIE, "Movie", value))
    return buttons


# -- the farm -------------------------------------------------------------------------------------------------------


def _farm(farm: FarmNow | None) -> Blocks:
    if farm is None:
        return [context(f"The farm {NOT_READ}")]
    lines = []
    for load in farm.classes:
        if farm.counted:
            tasks = f"{load.waiting:,} tasks waiting · {load.taken:,} rendering"
        else:
            tasks = f"{load.waiting:,} frames to render"
        held = f" · {load.jobs_held:,} job{'s' if load.jobs_held != 1 else ''} held" if load.jobs_held else ""
        lines.append(f"*{load.render_class.upper()}*: {tasks}{held}")
    nodes = "unknown" if farm.gpu_nodes is None else f"{farm.gpu_nodes:,}"
    lines.append(f"*GPU nodes up*: {nodes}")
    blocks = [section("\n".join(lines))]
    if not farm.counted:
        blocks.append(context("The queues could not be counted just now: these are the jobs' own counts."))
    return blocks


# -- workstations -------------------------------------------------------------------------------------------------


def _workstations(home: Home) -> Blocks:
    if home.workstations is None:
        return [context(f"Your workstations {NOT_READ}")]
    rows = sorted(home.workstations, key=lambda row: row.name)
    if not rows:
        return [context("No workstation of yours: an admin tags one `studiobot:owner` with your Slack id.")]
    blocks: Blocks = []
    for row in rows[:WORKSTATIONS]:
        blocks.append(section(workstation_text(row, home.asked)))
        if buttons := workstation_buttons(row):
            blocks.append({"type": "actions", "elements": buttons})
    if len(rows) > WORKSTATIONS:
        more = len(rows) - WORKSTATIONS
        blocks.append(context(f"And {more:,} more: `/workstations status` lists every one."))
    elif not home.asked:
        blocks.append(context("Who is connected is asked when you open this tab."))
    return blocks


def workstation_text(row: StatusRow, asked: bool) -> str:
    """`*anim-01* · running · expires in 11 h 30 min · keep-alive on` over who is connected."""
    parts = [f"*{clip(row.name, NAME_CHARS)}*", clip(row.state, 32)]
    if row.expires_in is not None and row.state == "running":
        parts.append(f"expires in {describe(row.expires_in)}")
    if row.keepalive:
        parts.append("keep-alive on")
    text = " · ".join(parts)
    if row.state == "running" and asked:
        text += f"\nConnected: {connected_text(row.seen)}"
    return text


def connected_text(seen: Seen | None) -> str:
    """Who the workstation said is connected, a moment ago."""
    if seen is None:
        return "not asked"
    if seen.use is Use.FREE:
        return "nobody"
    if seen.use is Use.UNKNOWN:
        return "unknown" + (f" ({clip(seen.why, 200)})" if seen.why else "")
    users = ", ".join(clip(user, 64) for user in seen.users[:3]) + (" …" if len(seen.users) > 3 else "")
    idle = ""
    if seen.use is Use.IDLE and seen.idle_s is not None:
        idle = f" (idle {describe_seconds(seen.idle_s)})"
    return (users or "someone") + idle


def describe_seconds(seconds: float) -> str:
    """`2 h 5 min`, for seconds a workstation reported (never negative)."""
    return describe(timedelta(seconds=max(0.0, min(seconds, 1e9))))


def workstation_buttons(row: StatusRow) -> Blocks:
    """Start a stopped one; stop or extend by 2 h a running one."""
    if size(row.name) > BUTTON_VALUE or not row.name:
        return []
    if row.state == "stopped":
        return [_button(WS_START, "Start", row.name, "primary")]
    if row.state != "running":
        return []
    stop = _button(WS_STOP, "Stop", row.name, "danger")
    sure = f"Stop `{clip(row.name, NAME_CHARS)}`? Save your work first: whoever is connected is disconnected."
    stop["confirm"] = _confirm("Stop this workstation?", sure, "Stop", "Keep it")
    return [_button(WS_EXTEND, "Extend 2 h", row.name), stop]


def spend_bar(actual: float, limit: float, width: int = 10) -> str:
    """`▰▰▰▰▰▰▰▰▱▱`: how much of the limit is spent (full at or past it)."""
    # at or past the limit (a limit of 5e-324 made actual / limit infinite) the bar is full
    filled = width if limit <= 0 or actual >= limit else max(0, round(width * actual / limit))
    return "▰" * filled + "▱" * (width - filled)


# -- spend --------------------------------------------------------------------------------------------------------


def _spend(spend: BudgetStatus | None, read_at: float | None) -> Blocks:
    if spend is None:
        return [context(f"The month's spend {NOT_READ}")]
    budgets = [budget for budget in spend.budgets if budget.unit == "USD"]
    if not budgets:
        text = "No cost budget in this AWS account: `/render costs` shows who spent what."
        return [context(text), section(guard_line(spend.guard))]
    lines = []
    for budget in budgets[:BUDGETS]:
        used = percent_of(budget.actual, budget.limit)
        bar = f"`{spend_bar(budget.actual, budget.limit)}`"
        line = f"*{clip(budget.name, 100)}*: {money(budget.actual)} of {dollars(budget.limit)}"
        lines.append(f"{bar} {line}" + (f" ({used})" if used else ""))
    if len(budgets) > BUDGETS:
        lines.append(f"And {len(budgets) - BUDGETS:,} more: `/budget status` lists every one.")
    if read_at is not None:  # an event's refresh: AWS Budgets is read when the person opens the tab
        at = datetime.fromtimestamp(read_at, UTC).strftime("%H:%M UTC")
        lines.append(
            f"_As AWS Budgets said at <!date^{int(read_at)}^{{time}}|{at}>, when you opened this tab._"
        )
    return [section("\n".join(lines)), section(guard_line(spend.guard))]
