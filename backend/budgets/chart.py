"""Small pictures of money as PNGs (Pillow): spend by day this month against the limit line, cost by group, and
each budget's spend against its limit. Pure pictures of numbers: no Slack, no AWS.

Every bar stands on the plot's baseline and is as tall as its value on one linear scale, so heights compare; the
limit is a red line across the plot at its own height on that scale.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 300
BACKGROUND = (255, 255, 255)
BAR = (54, 110, 190)  # spend
FORECAST = (170, 196, 232)  # what AWS forecasts beyond the actual spend
OVER = (214, 120, 40)  # spend past the limit
LIMIT = (220, 30, 30)  # the limit line
INK = (40, 40, 40)
GRID = (225, 225, 225)
SHARE_MOST = 10.0  # a budget's bar stops at 1,000 % of its limit
HEADROOM = 1.15  # the scale's top: the biggest value (or the limit) and some room above it
LABEL_CHARS = 28


@dataclass(frozen=True)
class Plot:
    """Where the bars go in the picture: left, top, right, bottom (the baseline) in pixels."""

    left: int = 64
    top: int = 34
    right: int = WIDTH - 16
    bottom: int = HEIGHT - 34

    def height_of(self, value: float, scale: float) -> int:
        """Pixels above the baseline for `value` on a scale whose top is `scale`."""
        if not scale > 0 or not math.isfinite(value / scale):
            return 0
        return min(self.bottom - self.top, max(0, round((self.bottom - self.top) * value / scale)))


def _nice(top: float) -> float:
    """The scale's top: `top` rounded up so that its quarters are round amounts (30, 60, 90, 120)."""
    quarter = top / 4
    power = 10 ** math.floor(math.log10(quarter)) if quarter > 0 else 1.0
    step = next(step for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= quarter)
    return 4 * step * power


def _share(amount: float, limit: float) -> float:
    """`amount` as a share of `limit`, at most `SHARE_MOST` (0 for no limit)."""
    return min(SHARE_MOST, max(0.0, amount) / limit) if limit > 0 else 0.0


def _font(size: int = 13) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _money(amount: float) -> str:
    return f"${amount:,.0f}" if amount >= 10 else f"${amount:,.2f}"


def _canvas(title: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((12, 8), title, fill=INK, font=_font(15))
    return image, draw


def _axis(draw: ImageDraw.ImageDraw, plot: Plot, scale: float) -> None:
    """Grid lines at a quarter, half and three quarters of the scale, labelled, and the baseline."""
    for quarter in (1, 2, 3, 4):
        y = plot.bottom - plot.height_of(scale * quarter / 4, scale)
        draw.line([(plot.left, y), (plot.right, y)], fill=GRID)
        draw.text((6, y - 7), _money(scale * quarter / 4), fill=INK, font=_font(11))
    draw.line([(plot.left, plot.bottom), (plot.right, plot.bottom)], fill=INK)


def _limit_line(draw: ImageDraw.ImageDraw, plot: Plot, limit: float, scale: float, label: str) -> None:
    y = plot.bottom - plot.height_of(limit, scale)
    draw.line([(plot.left, y), (plot.right, y)], fill=LIMIT, width=1)
    draw.text((plot.right - 150, y - 16), label, fill=LIMIT, font=_font(12))


def spend_by_day_chart(
    spent_by_day: Sequence[float], days_in_month: int, limit: float | None, title: str
) -> bytes:
    """Each day's spend so far this month, added up (a bar a day, the month's days all on the axis), against the
    month's `limit` as a red line (none when there is no limit)."""
    plot = Plot()
    running, total = [], 0.0
    for spent in spent_by_day:
        total += max(0.0, spent)
        running.append(total)
    scale = _nice(max([*running, limit or 0.0, 0.01]) * HEADROOM)
    image, draw = _canvas(title)
    _axis(draw, plot, scale)
    step = (plot.right - plot.left) / max(days_in_month, len(running), 1)
    for day, amount in enumerate(running):
        x0 = plot.left + round(day * step) + 1
        x1 = max(x0, plot.left + round((day + 1) * step) - 2)
        colour = OVER if limit and amount > limit else BAR
        if (height := plot.height_of(amount, scale)) > 0:
            draw.rectangle([(x0, plot.bottom - height), (x1, plot.bottom - 1)], fill=colour)
        if day % 5 == 0 or day == days_in_month - 1:
            draw.text((x0, plot.bottom + 4), str(day + 1), fill=INK, font=_font(11))
    if limit:
        _limit_line(draw, plot, limit, scale, f"limit {_money(limit)}")
    return _png(image)


def cost_by_group_chart(groups: Sequence[tuple[str, float]], title: str) -> bytes:
    """Each group's cost as a bar (biggest first, as given), labelled with its name and amount."""
    plot = Plot(left=12, top=40)
    shown = list(groups)[:12]
    biggest = max([cost for _, cost in shown] + [0.01])
    image, draw = _canvas(title)
    row = min(30.0, (plot.bottom - plot.top) / max(len(shown), 1))
    label_width = 200
    room = plot.right - plot.left - label_width - 70
    for index, (name, cost) in enumerate(shown):
        y0 = plot.top + round(index * row) + 2
        y1 = max(y0, plot.top + round((index + 1) * row) - 3)
        label = name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"
        draw.text((plot.left, y0), label, fill=INK, font=_font(12))
        x0 = plot.left + label_width
        width = round(room * max(0.0, cost) / biggest)
        if width > 0:
            draw.rectangle([(x0, y0), (x0 + width - 1, y1)], fill=BAR)
        draw.text((x0 + width + 6, y0), f"${cost:,.2f}", fill=INK, font=_font(12))
    return _png(image)


def budgets_chart(budgets: Sequence[tuple[str, float, float | None, float]], title: str) -> bytes:
    """Each budget (name, actual, forecast, limit) as a bar of its actual spend, its forecast above it paler, on a
    scale of its own limit: the red line at 100 % is every budget's limit."""
    plot = Plot(bottom=HEIGHT - 40)
    shown = list(budgets)[:10]
    shares = [(_share(actual, limit), _share(forecast or 0.0, limit)) for _, actual, forecast, limit in shown]
    scale = _nice(max([1.0, *(max(actual, forecast) for actual, forecast in shares)]) * HEADROOM)
    image, draw = _canvas(title)
    for quarter in (1, 2, 3, 4):
        y = plot.bottom - plot.height_of(scale * quarter / 4, scale)
        draw.line([(plot.left, y), (plot.right, y)], fill=GRID)
        draw.text((6, y - 7), f"{100 * scale * quarter / 4:.0f} %", fill=INK, font=_font(11))
    draw.line([(plot.left, plot.bottom), (plot.right, plot.bottom)], fill=INK)
    step = (plot.right - plot.left) / max(len(shown), 1)
    for index, (name, actual, forecast, limit) in enumerate(shown):
        if limit <= 0:
            continue
        x0 = plot.left + round(index * step) + round(step * 0.2)
        x1 = plot.left + round((index + 1) * step) - round(step * 0.2)
        if forecast and (height := plot.height_of(_share(forecast, limit), scale)) > 0:
            draw.rectangle([(x0, plot.bottom - height), (x1, plot.bottom - 1)], fill=FORECAST)
        if (height := plot.height_of(_share(actual, limit), scale)) > 0:
            colour = OVER if actual > limit else BAR
            draw.rectangle([(x0, plot.bottom - height), (x1, plot.bottom - 1)], fill=colour)
        label = name if len(name) <= 18 else name[:17] + "…"
        draw.text((x0, plot.bottom + 4), label, fill=INK, font=_font(11))
        draw.text((x0, plot.bottom + 18), f"{_money(actual)} of {_money(limit)}", fill=INK, font=_font(10))
    _limit_line(draw, plot, 1.0, scale, "limit (100 %)")
    return _png(image)


def stacked(*pngs: bytes) -> bytes:
    """PNGs one above the other, as one PNG."""
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    whole = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), BACKGROUND)
    top = 0
    for image in images:
        whole.paste(image, (0, top))
        top += image.height
    return _png(whole)
