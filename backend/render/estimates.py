"""What a render costs and how long it takes: the arithmetic, and who must agree before it is spent.

Lambda bills memory × duration (GB-seconds) plus a price per request, and ephemeral storage above the free 512 MB
by the GB-second too. A frame's billed seconds are the wall time of the handler's work on it (what Lambda bills,
to the millisecond), so an estimate from probe frames includes the scene download and Blender start of a task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from backend.config import Costs

FREE_STORAGE_MB = 512


@dataclass(frozen=True)
class Estimate:
    """A job's expected cost and time, from the billed and render seconds of frames already rendered."""

    frame_s: float  # billed seconds per frame
    render_s: float  # Blender's render seconds per frame
    cost_usd: float  # the whole job
    eta_s: float  # from now, for the frames still to render, at the configured concurrency


@dataclass(frozen=True)
class Approval:
    """Who must press Submit before a job goes on, and why (a sentence fragment the card shows)."""

    who: str  # "submitter" (or an admin) | "admin"
    reason: str


def lambda_cost(billed_s: float, requests: int, costs: Costs) -> float:
    """Dollars for `billed_s` seconds of the render function and `requests` invocations."""
    memory_gb = costs.render_memory_mb / 1024
    storage_gb = max(0, costs.render_ephemeral_mb - FREE_STORAGE_MB) / 1024
    per_second = memory_gb * costs.price_per_gb_s + storage_gb * costs.price_per_storage_gb_s
    return billed_s * per_second + requests * costs.price_per_request


def eta_s(frames_left: int, chunk: int, frame_s: float, concurrency: int) -> float:
    """Seconds until `frames_left` frames are rendered: tasks of `chunk` frames run `concurrency` at a time."""
    if frames_left <= 0:
        return 0.0
    chunk = max(1, chunk)
    tasks = math.ceil(frames_left / chunk)
    waves = math.ceil(tasks / max(1, concurrency))
    return waves * min(chunk, frames_left) * frame_s


def estimate(
    billed_s: Sequence[float],
    render_s: Sequence[float],
    total: int,
    tasks: int,
    frames_left: int,
    chunk: int,
    costs: Costs,
    tiles: int = 1,
    node_usd_per_s: float | None = None,
) -> Estimate:
    """The job's estimate from the frames rendered so far (`billed_s`/`render_s`, one entry per frame); a tiled
    job's frames are `tiles` tasks each, rendered side by side; a gpu job's node-seconds cost `node_usd_per_s`."""
    if not billed_s:
        raise ValueError("an estimate needs at least one rendered frame")
    frame_s = sum(billed_s) / len(billed_s)
    if tiles > 1:
        wait_s = eta_s(frames_left * tiles, 1, frame_s / tiles, costs.concurrency)
    else:
        wait_s = eta_s(frames_left, chunk, frame_s, costs.concurrency)
    return Estimate(
        frame_s=frame_s,
        render_s=sum(render_s) / len(render_s) if render_s else 0.0,
        # a gpu job is billed per node-second (Spot), a Lambda one per GB-second and request
        cost_usd=frame_s * total * node_usd_per_s
        if node_usd_per_s is not None
        else lambda_cost(frame_s * total, tasks, costs),
        eta_s=wait_s,
    )


def approval_needed(
    cost_usd: float | None, guard_on: bool, by_admin: bool, admin_approved: bool, costs: Costs
) -> Approval | None:
    """Who must agree before the job spends more, or None. The cost gates hold for everyone (an admin confirms
    their own big render too); the budget guard holds for everyone but admins; an admin's Submit passes them all."""
    if admin_approved:
        return None
    if guard_on and not by_admin:
        return Approval("admin", "the studio is over its AWS budget, so new renders need an admin")
    if cost_usd is None:
        return None
    if cost_usd > costs.admin_over_usd:
        return Approval("admin", f"the estimate {money(cost_usd)} is over {money(costs.admin_over_usd)}")
    if cost_usd > costs.confirm_over_usd:
        return Approval(
            "submitter", f"the estimate {money(cost_usd)} is over {money(costs.confirm_over_usd)}"
        )
    return None


def money(usd: float) -> str:
    """`$0.0042`, `$2.40`, `$1,234.50`: cents once it is worth cents, more digits below them."""
    if usd < 0.01:
        return f"${usd:.4f}"
    return f"${usd:,.2f}"


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
