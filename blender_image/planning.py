"""A probe's first look: render the frame small, extrapolate the whole frame's time, and re-plan the job as tiles
when whole frames would not fit the render function, before a probe spends the limit finding out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from backend.render.estimates import duration
from backend.render.job_life import JobLifecycle
from backend.render.tasks import RenderTask
from backend.render.tiles import TILE_SHARE, Shape, grid_text, plan_grid
from blender_image.ports import Measurer

QUARTER, EIGHTH = 0.25, 0.125  # of the frame's width and height: 1/16 and 1/64 of its pixels


def fit(small: tuple[float, float], smaller: tuple[float, float]) -> tuple[float, float]:
    """From two small renders (seconds, share of the pixels): the fixed part every render pays (the scene's sync,
    building the BVH) and the whole frame's seconds, its pixels' part fitted through both."""
    (seconds, share), (seconds_2, share_2) = small, smaller
    per_frame = max(0.0, (seconds - seconds_2) / (share - share_2)) if share != share_2 else seconds / share
    fixed = max(0.0, seconds - per_frame * share)
    return fixed, max(seconds, fixed + per_frame)


def extrapolate(small: tuple[float, float], smaller: tuple[float, float]) -> float:
    """The whole frame's seconds from two small renders (seconds, share of the pixels)."""
    return fit(small, smaller)[1]


class ProbePlanner:
    """Decides, for a whole-frame probe, whether its job should render tiles instead."""

    def __init__(self, renderer: Measurer, reporter: JobLifecycle, usable_s: float) -> None:
        self.renderer = renderer
        self.reporter = reporter
        self.usable_s = (
            usable_s  # what a frame may run: the render function's limit less the watchdog's margin
        )
        self.spent_s = 0.0  # Blender's seconds in the last look, billed with the probe's frame

    def replanned(self, task: RenderTask, frame: int, scene_path: Path) -> bool:
        """True when the job now renders tiles (or failed: too long even for tiles): this frame is not rendered
        whole. A frame whose small render promises it fits costs only that small render."""
        self.spent_s = 0.0
        if task.settings.tiles:
            return False
        small = self.renderer.measure(scene_path, frame, task.settings, QUARTER, task.allow_missing)
        self.spent_s = small[0]
        stopped_s = task.settings.at_least_s  # a retry of a frame the watchdog stopped: it does not fit whole
        if not stopped_s and small[0] / small[1] <= self.usable_s * TILE_SHARE * 2:  # its fixed part 16 times
            return False
        smaller = self.renderer.measure(scene_path, frame, task.settings, EIGHTH, task.allow_missing)
        self.spent_s += smaller[0]
        fixed, predicted = fit(small, smaller)
        # A stop is a measurement too: the frame ran that long whole and did not finish. Tiles of a third of the
        # limit each leave room for a frame up to three times that.
        predicted = max(predicted, stopped_s)
        # A renderer that knows the frame's size and overscan says so: thin strips' overscan is then priced.
        shape: Shape | None = getattr(self.renderer, "frame_shape", None)
        try:
            grid = plan_grid(predicted, self.usable_s, shape=shape, fixed_s=fixed)
        except ValueError as error:
            advice = "lower `--samples` or `--res`, or split the scene into render layers"
            self.reporter.frame_failed(task.job_id, frame, f"probe frame {frame}: {error}: {advice}")
            return True
        if grid is None:
            return False
        reason = (
            f"frame {frame} would take about {duration(predicted)} whole, more than one render may run "
            f"({duration(self.usable_s)}): each frame renders as {grid_text(grid)} tiles"
        )
        if predicted == stopped_s:
            reason = (
                f"frame {frame} was stopped after {duration(stopped_s)} whole, all one render may run "
                f"({duration(self.usable_s)}): each frame renders as {grid_text(grid)} tiles"
            )
        self.reporter.replan(task.job_id, dataclasses.replace(task.settings, tiles=grid), predicted, reason)
        return True
