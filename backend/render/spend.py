"""`/render costs [--month YYYY-MM] [--by user|channel|shot|class]`: who spent what on the farm in a month.

Each job's measured cost is what its card says it cost (`lambda_cost` of its billed seconds and tasks run); the
month is the UTC month of the job's creation, stored on its record (`month`) and indexed (`by_month`), so a month's
jobs are one paginated Query. Light on purpose: the grammar reads it in Slack's ack path (no boto3 here).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.commands import Reply
from backend.config import Costs
from backend.errors import ValidationError
from backend.render.estimates import lambda_cost
from backend.render.records import Job

if TYPE_CHECKING:
    from backend.budgets.provider import Budget

COSTS_USAGE = (
    "`/render costs [--month YYYY-MM] [--by user|channel|shot|class]`, e.g. `/render costs --by shot`"
)
GROUPINGS = ("user", "channel", "shot", "class")
TOP_GROUPS = 15
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits only


def month_of(epoch_s: float) -> str:
    """`2026-12`: the UTC month of an epoch time."""
    return time.strftime("%Y-%m", time.gmtime(epoch_s))


@dataclass(frozen=True)
class CostsCommand:
    """`/render costs`: the month asked about (None: the current one) and what to group by."""

    month: str | None = None
    by: str = "user"


def parse_costs(words: Sequence[str]) -> CostsCommand:
    """The words after `costs` as a CostsCommand; ValidationError saying what to type instead."""
    options: dict[str, str] = {}
    rest = list(words)
    while rest:
        name, has_value, value = rest.pop(0).partition("=")
        if name not in ("--month", "--by"):
            raise ValidationError(f"`/render costs` does not take `{name}`. Usage: {COSTS_USAGE}.")
        if not has_value:
            if not rest or rest[0].startswith("--"):
                raise ValidationError(f"`{name}` needs a value. Usage: {COSTS_USAGE}.")
            value = rest.pop(0)
        if name in options:
            raise ValidationError(f"`{name}` is given twice: give it once.")
        options[name] = value
    month = options.get("--month")
    if month is not None:
        match = _MONTH.match(month)
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
            raise ValidationError(
                f"`--month {month}` is not a month: use YEAR-MONTH with the month from 01 to 12, "
                f"e.g. `--month 2026-03`."
            )
    by = options.get("--by", "user").lower()
    if by not in GROUPINGS:
        raise ValidationError(
            f"`--by {options['--by']}` is not one of {', '.join(GROUPINGS)}: e.g. `--by shot`."
        )
    return CostsCommand(month, by)


def measured_cost(job: Job, costs: Costs) -> float:
    """What the job has cost so far, as its card says: its billed seconds and the tasks it ran."""
    return lambda_cost(job.billed_s, job.done + job.failed, costs) if job.billed_s > 0 else 0.0


def group_of(job: Job, by: str, scenes_prefix: str) -> str:
    """The group a job's cost counts in: its submitter, channel, shot (its scene's folder) or render class."""
    if by == "user":
        return job.requested_by or "(nobody)"
    if by == "channel":
        return job.channel or "(no channel)"
    if by == "class":
        return job.settings.render_class
    key = job.scene_key.removeprefix(scenes_prefix.rstrip("/") + "/")
    folder, _, name = key.rpartition("/")
    return folder or name


@dataclass(frozen=True)
class CostGroup:
    """One group's spend: its name (a user id for `--by user`), dollars and jobs."""

    name: str
    usd: float
    jobs: int


@dataclass(frozen=True)
class CostsShown(Reply):
    """A month's measured spend grouped, biggest first (the top `TOP_GROUPS`), the rest summed, the total, and the
    AWS budgets' actual spend this month (None: the month is another, or AWS Budgets could not tell)."""

    month: str
    by: str
    groups: list[CostGroup]
    more: int
    more_usd: float
    total_usd: float
    jobs: int
    budgets: list[Budget] | None = None
    by_day: tuple[
        float, ...
    ] = ()  # the month's measured spend on each day (UTC) from the 1st to the last spent

    @property
    def days_in_month(self) -> int:
        """How many days `month` has."""
        year, number = (int(part) for part in self.month.split("-"))
        return calendar.monthrange(year, number)[1]


def spend_by_day(jobs: Iterable[Job], costs: Costs) -> tuple[float, ...]:
    """Each day's measured spend (by the UTC day each job was created), from the 1st to the last day spent."""
    days: dict[int, float] = {}
    for job in jobs:
        day = time.gmtime(job.created_at).tm_mday
        days[day] = days.get(day, 0.0) + measured_cost(job, costs)
    return tuple(days.get(day, 0.0) for day in range(1, max(days, default=0) + 1))


def costs_shown(
    month: str,
    by: str,
    jobs: Iterable[Job],
    costs: Costs,
    scenes_prefix: str,
    budgets: list[Budget] | None = None,
) -> CostsShown:
    """The month's jobs' measured cost grouped `by`, top `TOP_GROUPS` and the rest summed."""
    usd: dict[str, float] = {}
    counts: dict[str, int] = {}
    jobs = list(jobs)
    for job in jobs:
        name = group_of(job, by, scenes_prefix)
        usd[name] = usd.get(name, 0.0) + measured_cost(job, costs)
        counts[name] = counts.get(name, 0) + 1
    ranked = sorted(usd, key=lambda name: (-usd[name], name))
    groups = [CostGroup(name, usd[name], counts[name]) for name in ranked]
    rest = groups[TOP_GROUPS:]
    return CostsShown(
        month=month,
        by=by,
        groups=groups[:TOP_GROUPS],
        more=len(rest),
        more_usd=sum(group.usd for group in rest),
        total_usd=sum(usd.values()),
        jobs=sum(counts.values()),
        budgets=budgets,
        by_day=spend_by_day(jobs, costs),
    )
