"""Download links studiobot signs itself: valid `linkDays`, followed through `GET /links/{token}` to a fresh presigned
URL of a few minutes. A presigned URL lasts only as long as the role session that signed it (hours on Lambda),
whatever its `X-Amz-Expires` says; these links last as long as they say.

A token is `payload.mac`: the payload names one object key (under a job's `outputs/` or `previews/` folder) and
when the link expires; the mac is HMAC-SHA256 over both with a key kept in SSM (the local stack: `.studiobot/`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Protocol

from backend.errors import StudiobotError
from backend.names import UnsafeName, check

# Beside their use (backend/config.py is full); `Settings.links` holds what they configure.
ENV_LINKS_URL = (
    "STUDIOBOT_LINKS_URL"  # where `GET /links/{token}` answers: the HTTP API's URL, or the local bot's
)
ENV_LINK_DAYS = "STUDIOBOT_LINK_DAYS"  # how long a link is valid (the deploy's linkDays, default 7)
ENV_LINK_SIGNING_KEY = (
    "STUDIOBOT_LINK_SIGNING_KEY"  # the key itself (the local stack); wins over the parameter
)
ENV_LINK_SIGNING_KEY_PARAM = "STUDIOBOT_LINK_SIGNING_KEY_PARAMETER"  # its SSM SecureString on AWS

ROUTE = "/links/"
REDIRECT_S = 600  # the presigned URL a followed link redirects to
FOLDERS = ("outputs", "previews")  # a job's frames, and the zip or index page made of them
MAX_TOKEN_CHARS = 4096
KEY_CACHE_S = 300
_CONTEXT = b"studiobot-link-v1\n"  # a mac made for anything else never validates here
_THIS_PROCESS_ONLY = secrets.token_bytes(32)


@dataclass(frozen=True)
class LinkSettings:
    """How long links last, where they point, and where the signing key comes from; `repr` hides the key."""

    days: float = 7.0
    base_url: str = ""
    key_parameter: str = ""
    key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinkSettings:
        """Read from the environment (unset: 7 days, no base URL, no key)."""
        return cls(
            days=float(env.get(ENV_LINK_DAYS) or 7),
            base_url=env.get(ENV_LINKS_URL, "").rstrip("/"),
            key_parameter=env.get(ENV_LINK_SIGNING_KEY_PARAM, ""),
            key=env.get(ENV_LINK_SIGNING_KEY, ""),
        )

    def to_env(self) -> dict[str, str]:
        """The environment `from_env` reads these settings back from."""
        return {
            ENV_LINK_DAYS: repr(self.days),
            ENV_LINKS_URL: self.base_url,
            ENV_LINK_SIGNING_KEY_PARAM: self.key_parameter,
            ENV_LINK_SIGNING_KEY: self.key,
        }


class NoLinkKey(StudiobotError):
    """Links cannot be signed or checked: no key is configured."""


def signing_key(settings: LinkSettings, local: bool = False) -> bytes:
    """The key: from the environment first, else its SSM parameter (SecureString, cached 5 minutes); `local` (the
    `local` stage) with neither: a key of this process only (tests; `studiobot up` keeps one in `.studiobot/`)."""
    if settings.key:
        return settings.key.encode()
    if settings.key_parameter:
        from aws_lambda_powertools.utilities import parameters  # loads boto3: only where SSM is used

        value = parameters.get_parameter(settings.key_parameter, decrypt=True, max_age=KEY_CACHE_S)
        return str(value).encode()
    if local:
        return _THIS_PROCESS_ONLY
    raise NoLinkKey(
        f"No key to sign download links with: set {ENV_LINK_SIGNING_KEY} or {ENV_LINK_SIGNING_KEY_PARAM}."
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, _CONTEXT + payload.encode(), hashlib.sha256).digest())


def job_of(object_key: str) -> str:
    """The job a linkable key belongs to (`outputs/JOB/…`, `previews/JOB/…`); UnsafeName for any other key."""
    parts = check(object_key, "A download link's file", "outputs/JOB/shot_0001.png").split("/")
    if len(parts) < 3 or parts[0] not in FOLDERS or not parts[1] or not parts[-1]:
        raise UnsafeName(
            f"`{object_key[:200]}` is not a job's output: links name `outputs/JOB/…` or `previews/JOB/…`."
        )
    return parts[1]


def sign(key: bytes, object_key: str, expires_at: int) -> str:
    """The token of a link to `object_key` valid until `expires_at` (seconds since 1970)."""
    job_of(object_key)
    payload = _b64(json.dumps([object_key, int(expires_at)], separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


@dataclass(frozen=True)
class Verified:
    """What a token says, once its mac is ours: the object, its job, when the link expires."""

    object_key: str
    job_id: str
    expires_at: int


def verify(key: bytes, token: str) -> Verified | None:
    """What the token names, or None when studiobot did not make it (altered, cut short, another key)."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, payload).encode(), mac.encode("ascii", "replace")):
        return None
    try:
        object_key, expires_at = json.loads(_unb64(payload))
        return Verified(object_key, job_of(object_key), int(expires_at))
    except (binascii.Error, ValueError, TypeError, UnsafeName):
        return None  # a mac of ours over a payload we never write: refuse all the same


class Listed(Protocol):
    """One object a listing found."""

    @property
    def key(self) -> str: ...


class LinkedObjects(Protocol):
    """Where the linked objects are (the outputs bucket)."""

    def presigned_url(self, bucket: str, key: str, expires_s: int = ...) -> str: ...

    def list_prefix(self, bucket: str, prefix: str) -> Sequence[Listed]: ...


@dataclass(frozen=True)
class Answer:
    """What the route answers: a redirect to the object, or a page that says in plain words why not."""

    status: int
    location: str = ""
    page: str = ""


class Links:
    """Makes the links studiobot posts and answers them when followed."""

    def __init__(
        self,
        settings: LinkSettings,
        bucket: str,
        objects: LinkedObjects,
        key: Callable[[], bytes],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.bucket, self.objects, self.key, self.clock = settings, bucket, objects, key, clock

    @property
    def valid_for(self) -> str:
        """How long a link lasts, in words: `7 days`."""
        days = self.settings.days
        return f"{days:g} day{'s' if days != 1 else ''}"

    def url(self, object_key: str) -> str:
        """A link to one of a job's outputs, valid `days` from now."""
        expires_at = int(self.clock() + self.settings.days * 86400)
        return f"{self.settings.base_url}{ROUTE}{sign(self.key(), object_key, expires_at)}"

    def follow(self, token: str) -> Answer:
        """A redirect to a presigned URL of `REDIRECT_S`, or a 403 / 404 page saying what to do."""
        verified = verify(self.key(), token)
        if verified is None:
            return Answer(403, page=_page("This link is not one studiobot made", ALTERED))
        job = verified.job_id
        ask = (
            f"Ask in the job's channel: <code>/render status {escape(job)}</code> posts a fresh one, and the "
            f"<em>Outputs</em> button on the job's card links each frame."
        )
        if self.clock() >= verified.expires_at:
            when = time.strftime("%d %b %Y at %H:%M UTC", time.gmtime(verified.expires_at))
            return Answer(403, page=_page(f"This link expired on {when}", ask))
        # Listed, not HEAD: without ListBucket S3 answers HEAD of a missing key with 403 (the role may list it).
        listed = self.objects.list_prefix(self.bucket, verified.object_key)
        if not any(item.key == verified.object_key for item in listed):
            name = escape(verified.object_key.rsplit("/", 1)[-1])
            gone = (
                f"Press <em>Outputs</em> on the job's card for links to each frame: "
                f"<code>/render status {escape(job)}</code> shows the card."
            )
            return Answer(
                404, page=_page(f"<code>{name}</code> of job {escape(job)} is no longer kept", gone)
            )
        return Answer(302, location=self.objects.presigned_url(self.bucket, verified.object_key, REDIRECT_S))


ALTERED = (
    "It was changed, or cut short when it was copied. Copy the whole link from Slack again, or ask in the job's "
    "channel: <code>/render status JOB</code> posts a fresh one."
)


def _page(title: str, then: str) -> str:
    """A small HTML page with the reason and what to do (never S3's XML)."""
    return f"<!doctype html><meta charset=utf-8><title>studiobot</title><h1>{title}.</h1><p>{then}</p>\n"
