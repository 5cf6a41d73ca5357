"""Slack's limits, and what every message builder does with text it did not write: escape it for mrkdwn, cut it
to fit, and keep ids that carry it short.

The limits are the Block Kit reference's. Slack counts characters; we count UTF-16 code units (an emoji is two),
which is never fewer than Slack or slack_sdk count, so a message measured here fits there.
"""

from __future__ import annotations

import hashlib
import re

from backend.people import NAMED

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3_000  # a section's text; a context's mrkdwn elements too
FIELD_TEXT = 2_000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
ID_CHARS = 255  # `action_id`, `block_id`
PRIVATE_METADATA = 3_000
MODAL_TITLE = 24
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONTEXT_ELEMENTS = 10
MESSAGE_TEXT = 4_000  # top-level `text`: Slack truncates past 40,000 and advises 4,000
# Our own bounds for text people (or AWS, or Blender) wrote: long enough to read, short enough that every
# message that carries one still fits.
REASON_CHARS = 500  # a guard's reason, a job's failure, a keep-alive error
NAME_CHARS = 256  # a workstation, a budget, a file (EC2 tag values and S3 keys' last parts fit whole)
KEY_CHARS = 300  # a scene key in a sentence (S3 allows 1,024): its start and its file name are kept

ELLIPSIS = "…"
_MENTION = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+)>")  # a user or a channel, as Slack writes them
_KEPT = re.compile(f"{_MENTION.pattern}|{NAMED.pattern}")  # and a person as the backend names them
_SLACK_NAME = re.compile(
    r"<@([UW][A-Z0-9]+)>|<(#C[A-Z0-9]+)>"
)  # a mention, for a terminal: `U0ARTIST`, `#C0OPS`
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CODE = re.compile(
    r"```.*?```|`[^`]*`", re.DOTALL
)  # code blocks and spans, where mrkdwn shows words as typed


def is_user_id(text: str) -> bool:
    """Whether `text` is a Slack user id (`U0ARTIST`), which a mention may carry."""
    return _USER_ID.fullmatch(text) is not None


def size(text: str) -> int:
    """`text`'s length as Slack may count it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text a person typed, safe in mrkdwn: `&`, `<`, `>` become Slack's entities; nothing else changes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Mrkdwn we built, for a terminal: people and channels by their id (never a Slack mention), the entities back
    to `&`, `<`, `>`."""
    text = _SLACK_NAME.sub(lambda mention: mention.group(1) or mention.group(2), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_person(user_id: str) -> str:
    """A person, for mrkdwn: a mention when `user_id` is a Slack user id, else the name (an EC2 tag, the CLI's
    operator), escaped."""
    return f"<@{user_id}>" if is_user_id(user_id) else clip(user_id, NAME_CHARS)


def clip(text: str, limit: int, keep_end: bool = False) -> str:
    """Text a person typed, escaped for mrkdwn and cut with `…` to `limit` (`keep_end`: the end is kept too, as
    for `scenes/…/shot010/shot.blend`)."""
    escaped = escape(text)
    if size(escaped) <= limit:
        return escaped
    if not keep_end:
        return _head(escaped, limit - 1) + ELLIPSIS
    tail = _tail(escaped, (limit - 1) * 2 // 3)
    return _head(escaped, limit - 1 - size(tail)) + ELLIPSIS + tail


def cut(text: str, limit: int) -> str:
    """Mrkdwn we built, cut with `…` to `limit`: never inside an entity or a `<…>` link or mention, and a code
    span or block left open by the cut is closed."""
    if size(text) <= limit:
        return text
    kept = _head(text, limit - 5)  # room for `…` and a closing "\n```"
    fences = kept.count("```")
    closing = "\n```" if fences % 2 else ("`" if (kept.count("`") - 3 * fences) % 2 else "")
    return kept + ELLIPSIS + closing


def sentence(text: str, limit: int = MESSAGE_TEXT) -> str:
    """A sentence our backend wrote around words people typed (a mistake, a refusal), for mrkdwn: everything
    escaped but the people and channels it names (`@{U0ADMIN}`, `backend.people.mention`, written `<@U0ADMIN>`;
    `<#C0RENDERS>`), and cut to `limit`: the one place a backend sentence becomes Slack's words.

    Our sentences quote what people typed in backticks and name people and channels outside the quotes, so a mention
    from the first backtick to the last is typed words (`scenes/<@U0ADMIN>.blend`, or one that closes a quote with a
    backtick of its own): escaped like the rest."""
    first, last = text.find("`"), text.rfind("`")
    if first == -1:
        return cut(_keeping_mentions(text), limit)
    quoted = text[first : last + 1]
    return cut(_keeping_mentions(text[:first]) + escape(quoted) + _keeping_mentions(text[last + 1 :]), limit)


def _keeping_mentions(text: str) -> str:
    parts, start = [], 0
    for mention in _KEPT.finditer(text):
        person = mention.group(1)
        parts += [escape(text[start : mention.start()]), slack_person(person) if person else mention.group()]
        start = mention.end()
    return "".join([*parts, escape(text[start:])])


def short_id(prefix: str, text: str) -> str:
    """`prefix` + `text` as a `block_id` or `action_id`: whole when it fits, else `prefix` + a hash of `text`
    (Slack wants ids unique in a message, and nothing reads ours back)."""
    whole = prefix + text
    if len(whole.encode()) <= ID_CHARS and size(whole) <= ID_CHARS:
        return whole
    return prefix + "#" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _head(text: str, units: int) -> str:
    """The longest start of escaped `text` within `units` that does not end inside an entity or a `<…>`."""
    if units <= 0:
        return ""
    kept = text[:units]
    while size(kept) > units:
        kept = kept[: -max(1, (size(kept) - units) // 2)]
    entity = kept.rfind("&")
    if entity != -1 and ";" not in kept[entity:]:
        kept = kept[:entity]
    if kept.rfind("<") > kept.rfind(">"):
        kept = kept[: kept.rfind("<")]
    return kept


def _tail(text: str, units: int) -> str:
    """The longest end of escaped `text` within `units` that does not start inside an entity."""
    if units <= 0:
        return ""
    kept = text[-units:]
    while size(kept) > units:
        kept = kept[max(1, (size(kept) - units) // 2) :]
    start = len(text) - len(kept)
    entity = text.rfind("&", 0, start)
    if entity != -1 and 0 <= text.find(";", entity) - entity <= 4 and text.find(";", entity) >= start:
        kept = text[text.find(";", entity) + 1 :]
    return kept
