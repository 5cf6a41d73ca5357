"""The "Render this scene" modal: checked on submit (errors shown in the modal), then the file is copied and rendered."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from backend.config import Settings
from backend.errors import StudiobotError, ValidationError
from backend.names import check, under
from backend.render.grammar import RenderRequest, parse_render
from bot.listeners.commands.render import post_card
from bot.messages.render_modal import SAVED_BY, WHOLE
from bot.messages.text import MESSAGE_TEXT, NAME_CHARS, REASON_CHARS, clip, cut, sentence
from bot.services import Services

_OPTION_BLOCKS = {
    "--res": "res",
    "--samples": "samples",
    "--engine": "engine",
    "--format": "format",
    "--tiles": "tiles",
    "--on": "on",
    "--priority": "priority",
    "--blender": "blender",
}
_UNCHANGED = ("scene", WHOLE, "cpu", "normal", SAVED_BY)  # what leaves the option out


def _words(view: dict[str, Any]) -> list[str]:
    """The modal's fields as the words of a `/render` command (one grammar everywhere)."""
    values = view["state"]["values"]

    def value(block: str) -> str:
        field = values.get(block, {}).get("value", {})
        selected = field.get("selected_option")
        return str((selected or {}).get("value") if selected else field.get("value") or "").strip()

    name = _metadata(view)["name"]
    words = [name, value("frames")]
    for option, block in _OPTION_BLOCKS.items():
        text = value(block)
        if text and text not in _UNCHANGED:
            words += [option, text]
    return words


def _metadata(view: dict[str, Any]) -> dict[str, str]:
    """The shared file, its name and the channel the modal was opened from, as the shortcut stored them."""
    try:
        metadata = json.loads(view.get("private_metadata") or "")
        if isinstance(metadata, dict) and all(
            isinstance(metadata.get(k), str) for k in ("file", "name", "channel")
        ):
            return metadata
    except ValueError:
        pass
    raise ValidationError("This form is out of date: open it again with *Render this scene* on the message.")


def _refusal(body: dict[str, Any], view: dict[str, Any], settings: Settings) -> str | None:
    """Why this person may not render from that channel (the rules of `/render`), or None."""
    return settings.access.refusal(body["user"]["id"], _metadata(view)["channel"])


def _request(view: dict[str, Any], settings: Settings) -> RenderRequest:
    from backend.render.frames import parse_frame_spec

    request = parse_render(_words(view), settings.limits)
    parse_frame_spec(request.frames, settings.limits.max_frames_per_job)
    return request


def ack_render_scene(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Keep the modal open with the mistake (or the refusal) under its field, or close it and start the work."""
    try:
        refusal = _refusal(body, view, context["settings"])
        if refusal:
            ack(response_action="errors", errors={"frames": cut(refusal, REASON_CHARS)})
            return
        _request(view, context["settings"])
    except ValidationError as error:
        message = str(error)
        block = next((b for option, b in _OPTION_BLOCKS.items() if f"`{option}" in message), "frames")
        ack(response_action="errors", errors={block: cut(message, REASON_CHARS)})  # shown under the field
        return
    ack()


def submit_render_scene(
    client: WebClient, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Copy the shared .blend into the scenes bucket and submit it; problems reach the user as a DM."""
    settings: Settings = context["settings"]
    services: Services = context["services"]
    user = body["user"]["id"]
    try:
        if _refusal(body, view, settings):
            return  # the modal is still open and says why
        metadata = _metadata(view)
        request = _request(view, settings)
    except ValidationError:
        return  # the modal is still open and shows the mistake
    name = clip(metadata["name"], NAME_CHARS)
    try:
        info = client.files_info(file=metadata["file"])["file"]  # its whole name: the metadata's may be cut
        leaf = check(Path(info.get("name") or "scene.blend").name, "The shared file's name", "shot.blend")
        key = f"{settings.scenes_prefix}slack/{check(metadata['file'], 'The file id', 'F0123')}/{leaf}"
        _copy_file(client, info, settings.scenes_bucket, key, services)
        request = RenderRequest(
            scene=key,
            frames=request.frames,
            settings=request.settings,
            assets_prefix=None,
            dry_run=False,
            priority=request.priority,
        )
        submission = services.submissions.submit(
            request, requested_by=user, channel=metadata["channel"], client_token=f"modal:{view['id']}"
        )
        if submission.job is not None and submission.created:
            post_card(client, services, submission.job.job_id, metadata["channel"])
    except StudiobotError as error:
        client.chat_postMessage(
            channel=user, text=f"⚠️ Could not render `{name}`: {sentence(str(error), MESSAGE_TEXT // 2)}"
        )
    except Exception:
        from bot.polite import logger

        logger.exception("render from the modal failed")
        client.chat_postMessage(
            channel=user,
            text=f"Something went wrong on our side rendering `{name}`; nothing was queued.",
        )


def _copy_file(client: WebClient, info: dict[str, Any], bucket: str, key: str, services: Services) -> None:
    host = urlsplit(info["url_private_download"]).hostname or ""
    if not (host == "slack.com" or host.endswith(".slack.com") or host == urlsplit(client.base_url).hostname):
        raise ValidationError(
            "That file is not stored by Slack, so studiobot will not fetch it."
        )  # keep the token home
    request = urllib.request.Request(
        info["url_private_download"], headers={"Authorization": f"Bearer {client.token}"}
    )
    with tempfile.TemporaryDirectory(prefix="studiobot-scene-") as folder:
        path = under(Path(folder), Path(info.get("name") or "scene.blend").name, "The shared file's name")
        with urllib.request.urlopen(request, timeout=60) as response, path.open("wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        _refuse_missing(path)  # before a byte is stored or a frame queued
        services.store.upload(path, bucket, key)


def _refuse_missing(path: Path) -> None:
    """A shared .blend travels alone: if it uses files that are not packed into it, say which, and stop."""
    from backend.render.manifest import missing_text
    from backend.render.shots import trace_shot

    try:
        trace = trace_shot(path)
    except (
        Exception
    ) as error:  # not readable here (zstd without zstandard, a damaged file): the worker checks
        from bot.polite import logger

        logger.warning("could not trace a shared scene", scene=path.name, error=repr(error))
        return
    if trace.missing:
        raise ValidationError(missing_text(trace.missing, trace.scene))
