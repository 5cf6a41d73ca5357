"""Only our workspace and our app, and only payloads Bolt can read: checked once, before any listener, on every edge.

Slack's signature proves a request came from Slack for an app holding our signing secret; it says nothing about which
workspace or app it names. `SlackIdentity` refuses a signed request whose `team_id` or `api_app_id` is not ours with a
401 (Lambda, the local HTTP server and Socket Mode alike), and a payload whose shape Bolt would index blindly (a view
without `type` raised `KeyError` inside Bolt and dropped the connection) with a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.signatures import unsigned

logger = Logger(service="studiobot-bot")
_INTERACTIONS = ("block_actions", "message_action", "shortcut", "view_submission", "view_closed")


def unpinned(team_id: str, app_id: str) -> str | None:
    """What to say once at start when the workspace or the app is not pinned (None when both are)."""
    if team_id and app_id:
        return None
    unset = " and ".join(
        name
        for name, value in (("STUDIOBOT_SLACK_TEAM_ID", team_id), ("STUDIOBOT_SLACK_APP_ID", app_id))
        if not value
    )
    return (
        f"Slack: {unset} not set, so a request signed with this signing secret is answered whatever workspace or "
        f"app it names: set them (README: Slack) anywhere but on your own machine"
    )


def teams_named(body: dict[str, Any]) -> set[str]:
    """Every workspace a payload names as its own: `team_id`, `team.id`, and a view's `app_installed_team_id`."""
    team = body.get("team")
    view = body.get("view")
    named = [
        body.get("team_id"),
        team.get("id") if isinstance(team, dict) else None,
        view.get("app_installed_team_id") if isinstance(view, dict) else None,
    ]
    return {str(value) for value in named if value is not None}


def unreadable(body: dict[str, Any]) -> str | None:
    """What is missing from a payload that Bolt or our listeners read without looking (None when nothing is)."""
    kind = body.get("type")
    if kind in _INTERACTIONS and not isinstance((body.get("user") or {}).get("id"), str):
        return "user.id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return "view"
        for name in ("id", "type", "callback_id"):
            if not isinstance(view.get(name), str):
                return f"view.{name}"
        if kind == "view_submission" and not isinstance((view.get("state") or {}).get("values"), dict):
            return "view.state.values"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "actions"
    if kind == "event_callback" and not isinstance((body.get("event") or {}).get("type"), str):
        return "event.type"
    return None


class SlackIdentity(Middleware):
    """A 401 for a request naming another workspace or app than the pinned ones, a 400 for one Bolt cannot read.

    Unset pins accept any workspace and app (local development): `build_app` says so once at start."""

    def __init__(self, team_id: str, app_id: str) -> None:
        self.team_id = team_id
        self.app_id = app_id

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Refuse another workspace's or app's request, then a malformed payload; pass the rest on."""
        body = req.body if isinstance(req.body, dict) else {}
        if self.team_id and teams_named(body) != {self.team_id}:
            logger.warning("refused a request from another workspace", teams=sorted(teams_named(body)))
            return unsigned()
        if self.app_id and body.get("api_app_id") != self.app_id:
            logger.warning("refused a request for another app", api_app_id=str(body.get("api_app_id")))
            return unsigned()
        missing = unreadable(body)
        if missing is not None:
            logger.warning("refused a payload without %s", missing, type=str(body.get("type")))
            return BoltResponse(status=400, body={"error": f"unreadable request: no {missing}"})
        return next()
