"""A job's facts, told one way on the card, in the thread, by `render status`, the terminal and the stack log."""

from __future__ import annotations

from backend.render.blenders import rendered_note
from backend.render.records import Job, JobStatus, Priority
from bot.messages import who
from bot.messages.render_plan import device_line, tiles_fact, tiles_line
from bot.messages.text import REASON_CHARS, clip


def missing_fact(job: Job) -> str:
    """Frames rendered although the shot lacks files (`--allow-missing`): they show Blender's magenta there."""
    if not job.missing_allowed:
        return ""
    files = "file" if job.missing_allowed == 1 else "files"
    verb = "Rendered" if job.status.is_final else "Rendering"
    return f"⚠️ {verb} without {job.missing_allowed} missing {files} (`--allow-missing`)"


def blender_line(job: Job) -> str:
    """Which Blender renders the job, where the farm runs several or it is not the one that saved the shot:
    `⚠️ Blender 4.5: saved by 4.4, rendered by 4.5` ("" on a one-version farm rendering what it was saved by)."""
    blender = job.settings.blender
    if not blender:
        return ""
    verb = "Rendered" if job.status.is_final else "Rendering"
    note = rendered_note(job.settings.saved_by, blender)
    return f"⚠️ Blender {blender}: {note}" if note else f"🧊 {verb} with Blender {blender}"


PRIORITY_FACTS = {Priority.URGENT: "🔺 urgent", Priority.LOW: "🔻 low"}  # normal goes without saying


def held_line(job: Job) -> str:
    """`⏸ held by @lead`: who holds the job, and how it goes on ("" while nobody holds it)."""
    if job.status is not JobStatus.HELD:
        return ""
    by = who(job.held_by) if job.held_by else "someone"
    return f"⏸ held by {by}: no new frames start until `/render resume {job.job_id}`"


def facts_lines(job: Job, in_flight: bool = False) -> list[str]:
    """The job's facts, one line each (mrkdwn): who holds it, its priority unless normal, its tiles (with the tiles
    done of frames in flight when asked), what renders it, which Blender, missing files allowed, which view layer its previews show."""
    tiles = tiles_line(job) if in_flight and not job.status.is_final else tiles_fact(job)
    lines = [held_line(job), PRIORITY_FACTS.get(job.priority, ""), tiles, device_line(job), blender_line(job)]
    lines.append(missing_fact(job))
    if job.preview_layer:
        lines.append(f"🖼️ Previews show the {clip(job.preview_layer, REASON_CHARS)}")
    return [line for line in lines if line]


def facts_text(job: Job) -> str:
    """The facts as lines under a message (`\n`-led), or nothing."""
    return "".join(f"\n{line}" for line in facts_lines(job))
