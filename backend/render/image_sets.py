"""UDIM sets and image sequences: one path template, many files, and which of them a render reads.

A UDIM image reads every tile the .blend lists (not the files that happen to be there); a sequence reads, at each
frame of the job, the file its image user points at — Blender's own rule (`BKE_image_user_frame_get`): the frame is
taken relative to the user's start, held at the first or last file outside its duration (extend) unless the user
is cyclic, then shifted by its offset. Plain data and arithmetic: no Blender, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

UDIM = "<UDIM>"
_DIGITS = re.compile(r"(\d+)(?!.*\d)")  # the last run of digits of a file name


@dataclass(frozen=True)
class ImageUser:
    """How one user (a texture node) reads a sequence: `frame_start`, `frame_duration`, `frame_offset`,
    `use_cyclic`."""

    start: int = 1
    duration: int = 0
    offset: int = 0
    cyclic: bool = False

    def reads(self, frame: int) -> int:
        """The number of the sequence's file this user reads at scene frame `frame`."""
        length = self.duration
        if length <= 0:
            return 0
        relative = frame - self.start + 1
        if self.cyclic:
            relative %= length
            relative = relative or length
        number = min(max(relative, 0), length)
        return number + self.offset


@dataclass(frozen=True)
class ImageSet:
    """A UDIM image or an image sequence of a .blend of the shot, and what it reads."""

    written_as: str  # as the .blend writes it: `//textures/wood.<UDIM>.png`, `//plates/plate.0001.png`
    used_by: str  # `image wood`
    referrer: str  # the .blend that holds it, by its path in the shot
    path: str  # the written path's file in the shot, tokens and digits kept: `textures/wood.<UDIM>.png`
    tiles: tuple[int, ...] = ()  # a UDIM image's tiles, as the .blend lists them
    users: tuple[ImageUser, ...] = ()  # a sequence's users (none found: the file written is read)

    @property
    def tiled(self) -> bool:
        return UDIM in self.written_as

    def numbers(self, frames: Iterable[int]) -> list[int]:
        """The tiles, or the sequence's file numbers the frames read, in order."""
        if self.tiled:
            return sorted(set(self.tiles))
        users = self.users or (ImageUser(),)
        if all(user.duration <= 0 for user in users):  # a still: the file written
            written = _number(self.path)
            return [written] if written is not None else []
        return sorted({user.reads(frame) for frame in frames for user in users if user.duration > 0})

    def file(self, number: int, template: str | None = None) -> str:
        """The file of a tile or a sequence frame: `wood.1002.png`, `plate.0003.png` (of `path` by default)."""
        template = self.path if template is None else template
        if self.tiled:
            return template.replace(UDIM, str(number))
        return numbered(template, number)

    def lacking(self, present: set[str], frames: Iterable[int]) -> list[int]:
        """The tiles or frame numbers the render reads whose file is not in `present` (paths in the shot)."""
        return [number for number in self.numbers(frames) if self.file(number) not in present]

    def gap_text(self, lacking: list[int], frames: Iterable[int]) -> str:
        """`image wood uses tiles 1001–1002 of `//textures/wood.<UDIM>.png`: 1002 is not there`."""
        numbers = self.numbers(frames)
        kind = "tiles" if self.tiled else "frames"
        span = f"{numbers[0]}–{numbers[-1]}" if len(numbers) > 1 else f"{numbers[0]}"
        gone = spans(lacking)
        verb = "is" if len(lacking) == 1 else "are"
        return f"{self.used_by} uses {kind} {span} of `{self.written_as}`: {gone} {verb} not there"


def numbered(path: str, number: int) -> str:
    """A sequence file's path for another frame: the file name's last digits replaced, their width kept."""
    folder, _, name = path.rpartition("/")
    match = _DIGITS.search(name.rsplit(".", 1)[0]) if "." in name else _DIGITS.search(name)
    if match is None:
        return path
    digits = f"{number:0{len(match.group(1))}d}"
    name = name[: match.start(1)] + digits + name[match.end(1) :]
    return f"{folder}/{name}" if folder else name


def _number(path: str) -> int | None:
    name = path.rpartition("/")[2]
    match = _DIGITS.search(name.rsplit(".", 1)[0])
    return int(match.group(1)) if match else None


def spans(numbers: list[int]) -> str:
    """`1002`, `3, 5–7`: numbers as short runs."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    shown = [f"{run[0]}–{run[-1]}" if len(run) > 1 else f"{run[0]}" for run in runs[:10]]
    return ", ".join(shown) + (", …" if len(runs) > 10 else "")
