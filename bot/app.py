"""The Slack app: Bolt with lazy listeners, built once per process by a composition root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from backend.config import Settings, SlackCredentials
from bot import listeners
from bot.identity import SlackIdentity
from bot.services import Services
from bot.signatures import SlackSignature, mend_bolt_body_parsing
from bot.slack_limits import LimitedWebClient, MethodLimits

logger = Logger(service="studiobot-bot")


def web_client(settings: Settings, token: str | None, limits: MethodLimits | None = None) -> WebClient:
    """A Web API client that waits out Slack's 429s (Retry-After) instead of failing, per method: a 429 on one
    method holds up only the calls to that method, in whichever thread they are made."""
    return LimitedWebClient(token=token, base_url=settings.slack_api_url, limits=limits or MethodLimits())


def build_app(
    settings: Settings,
    credentials: SlackCredentials,
    client: WebClient | None = None,
    *,
    services: Services,
) -> App:
    """The app every entry point serves: Lambda, the local HTTP server, Socket Mode and the tests."""
    bot_token = credentials.bot_token
    mend_bolt_body_parsing()  # Bolt reads a command mentioning `payload` as an empty interaction

    def authorize(**_: Any) -> AuthorizeResult:
        # One workspace, one bot token: answering here spares Bolt an auth.test call on the ack path.
        return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=bot_token)

    app = App(
        name="studiobot",  # without it Bolt inspects the call stack for one (≈ 25 ms per cold start)
        client=client or web_client(settings, None),  # the token comes from `authorize`
        signing_secret=credentials.signing_secret,
        # Bolt's signature check raises on a malformed timestamp (a 500); ours, in its place, answers 401.
        request_verification_enabled=False,
        before_authorize=SlackSignature(credentials.signing_secret),
        authorize=authorize,
        process_before_response=True,  # on Lambda nothing may run after the response
    )

    # Before any listener (and before Bolt builds a listener's arguments from the payload).
    app.use(SlackIdentity(settings.slack_team_id, settings.slack_app_id))

    @app.middleware
    def provide(context: BoltContext, next: Callable[[], Any]) -> Any:
        context["settings"] = settings
        context["services"] = services
        return next()

    @app.error
    def log_error(error: Exception, body: dict[str, Any]) -> None:
        # Bolt answers Slack itself; the user never sees this, the log does (no tokens: body is the payload).
        logger.error(
            "unhandled error in a listener: %r (type %s)", error, body.get("type") or body.get("command")
        )

    listeners.register(app)
    return app
