"""When the local stack's state could not be saved: `not-saved.json` in the state folder, written by the stack at a
failed snapshot and removed at the next good one, so that `down`, `up` and every command say it in one sentence."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

RECORD = "not-saved.json"
REASON_CHARS = 160  # an exception's text can be a page; the sentence keeps its start


@dataclass(frozen=True)
class NotSaved:
    """Since when nothing the stack did is saved, and why."""

    since: float
    reason: str

    def sentence(self) -> str:
        """What `down`, `up` and every command say while it holds."""
        at = time.strftime("%H:%M", time.localtime(self.since))
        return f"State not saved since {at}: {self.reason} — `studiobot down --forget` starts fresh."


def record(folder: Path, since: float, error: BaseException) -> None:
    """Note that a snapshot failed (the first failure's `since` is kept while they go on failing)."""
    reason = f"{type(error).__name__}: {error}"
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 1] + "…"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{RECORD}.part"
    partial.write_text(json.dumps({"since": since, "reason": reason}))
    partial.replace(folder / RECORD)


def clear(folder: Path) -> None:
    """A snapshot succeeded: the state is saved again."""
    (folder / RECORD).unlink(missing_ok=True)


def read(folder: Path) -> NotSaved | None:
    """The failure on record, or None when the last snapshot was saved (or none was ever tried)."""
    try:
        found = json.loads((folder / RECORD).read_text())
        return NotSaved(float(found["since"]), str(found["reason"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # a record torn by a full disk says the same
        return NotSaved((folder / RECORD).stat().st_mtime, "its record of why is unreadable")
