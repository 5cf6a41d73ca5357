"""What `make bench` believes: each ratio's physically possible range, and the verdict of every table row.

A value outside what its definition allows (a pipeline faster than one warm Blender doing the same frames, more
cores busy than the machine has) is not a result: other work on the machine skewed one side of the ratio. Such a
row never says "yes"; it says NOISY, and `python -m bench` exits non-zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    NONE = ""  # a plain measurement, no target
    MET = "yes"
    MISSED = "no"
    NOISY = "noisy — rerun on a quiet machine"


@dataclass(frozen=True)
class Bounds:
    """The closed range a metric's definition allows (with a little slack for timer noise) and why."""

    low: float = -math.inf
    high: float = math.inf
    why: str = ""

    def hold(self, value: float) -> bool:
        """Whether `value` is physically possible (NaN never is)."""
        return self.low <= value <= self.high


# Every bounded ratio `make bench` prints, by the name its rows give. The 2 % slack is timer and cache noise.
BOUNDS: dict[str, Bounds] = {
    "render.efficiency.1": Bounds(
        0.0,
        1.02,
        "one worker renders the same frames with the same Blender code as the warm limit, plus its glue",
    ),
    # One Cycles process keeps ≈ 175 % of 2 cores busy: a second one can fill at most the rest (200/175 ≈ 1.14).
    "render.efficiency.n": Bounds(0.0, 1.2, "more workers can only fill the cores one Blender leaves idle"),
    "render.overhead_ratio.1": Bounds(
        -0.02, math.inf, "one worker's pipeline is never faster than the limit"
    ),
    "render.overhead_ratio.n": Bounds(-0.5, math.inf, "bounded as efficiency with more workers is"),
    "render.fresh_to_limit": Bounds(0.98, math.inf, "a process per frame also does what the warm one does"),
    "render.glue_per_frame_s": Bounds(
        -0.02, math.inf, "wall time includes the render time measured inside it"
    ),
    "fanout.speedup": Bounds(0.0, math.inf, "both sides are durations"),
    "ack.import_ratio": Bounds(0.95, math.inf, "entry.slack imports the whole bare-Bolt side too"),
    "keepalive.speedup": Bounds(0.0, math.inf, "both sides are durations"),
    "estimate.ratio": Bounds(0.0, math.inf, "both sides are durations"),
    "estimate.billed_ratio": Bounds(0.0, math.inf, "both sides are durations"),
    "assets.shared_sent_ratio": Bounds(0.0, 1.0, "a share of the shot's bytes"),
    "scale.rss_ratio": Bounds(0.0, math.inf, "both sides are sizes"),
    "scale.bytes_ratio": Bounds(0.0, math.inf, "both sides are sizes"),
    # The tiles cover every pixel at least once at the same samples; each render also pays its own setup.
    "tiles.cost_ratio": Bounds(0.9, math.inf, "the tiles render every pixel of the frame at least once"),
    "tiles.latency_ratio.4x4": Bounds(
        0.9 / 16, math.inf, "the slowest of 16 tiles takes at least their mean"
    ),
    "tiles.prediction_error": Bounds(-1.0, math.inf, "a predicted duration is positive"),
    "nodes.overhead_ratio": Bounds(0.0, math.inf, "both sides are durations"),
}


def cores_busy(cpu_count: int) -> Bounds:
    """CPU seconds over wall seconds of one process: at most the machine's cores."""
    return Bounds(0.0, cpu_count * 1.02, f"this machine has {cpu_count} cores")


def judge(met: bool | None, value: float | None = None, bounds: Bounds | None = None) -> Verdict:
    """The row's verdict: NOISY when the value is impossible, else met or missed (NONE without a target)."""
    if bounds is not None and value is not None and not bounds.hold(value):
        return Verdict.NOISY
    if met is None:
        return Verdict.NONE
    return Verdict.MET if met else Verdict.MISSED


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str
    verdict: Verdict


@dataclass
class Rows:
    """The table's rows as the benchmarks' row functions add them, each judged here."""

    rows: list[Row] = field(default_factory=list)

    def add(
        self,
        metric: str,
        value: str,
        target: str = "",
        met: bool | None = None,
        *,
        check: tuple[str | Bounds, float] | None = None,
    ) -> None:
        """One row; `check` is (a name in BOUNDS or the Bounds themselves, the number the row shows)."""
        if check is None:
            self.rows.append(Row(metric, value, target, judge(met)))
            return
        name, number = check
        bounds = BOUNDS[name] if isinstance(name, str) else name
        self.rows.append(Row(metric, value, target, judge(met, number, bounds)))

    @property
    def noisy(self) -> list[Row]:
        """The rows whose value is physically impossible."""
        return [row for row in self.rows if row.verdict is Verdict.NOISY]
