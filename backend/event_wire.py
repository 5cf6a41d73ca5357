"""Reading an event off the wire: a known event, or what could not be read, never an error."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from backend.events import EVENT_VERSION, Event


@dataclass(frozen=True)
class UnknownEvent(Event):
    """An event this version does not know; kept whole so nothing is lost."""

    type: ClassVar[str] = "Unknown"
    name: str = ""
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MalformedEvent(Event):
    """A message no version could read: its excerpt and the reason, for the consumer to log once and set aside."""

    type: ClassVar[str] = "Malformed"
    reason: str = ""
    excerpt: str = ""


EXCERPT_CHARS = 500  # a huge body is logged as its first characters only

# Every event type defined above (the two that stand for what could not be read are made here, never parsed).
_KNOWN: dict[str, type[Event]] = {
    cls.type: cls for cls in Event.__subclasses__() if cls not in (UnknownEvent, MalformedEvent)
}


_FIELD_TYPES: dict[str, dict[str, Any]] = {
    name: {item.name: typing.get_type_hints(cls)[item.name] for item in fields(cls)}
    for name, cls in _KNOWN.items()
}


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """A wire message's event, never an error: an unknown type UnknownEvent, what cannot be read MalformedEvent."""
    try:
        body: Any = json.loads(data) if isinstance(data, str | bytes) else data
    except (ValueError, UnicodeDecodeError) as error:
        return _malformed(data, f"not JSON ({error})")
    if not isinstance(body, dict):
        return _malformed(data, f"a JSON {type(body).__name__}, not an object")
    cls = _KNOWN.get(str(body.get("type")))
    if cls is None or body.get("version") != EVENT_VERSION:
        return UnknownEvent(name=str(body.get("type", ""))[:100], body=_trimmed(body))
    given = {key: value for key, value in body.items() if key in _hints(cls)}
    wrong = [name for name, value in given.items() if not _fits(value, _hints(cls)[name])]
    if wrong:
        return _malformed(data, f"{cls.type} with fields of the wrong type: {', '.join(sorted(wrong))}")
    try:
        return cls(**given)
    except TypeError as error:  # a required field is missing
        return _malformed(data, f"{cls.type}: {error}")


def _hints(cls: type[Event]) -> dict[str, Any]:
    """The declared type of each of the event's wire fields."""
    return _FIELD_TYPES[cls.type]


def _fits(value: Any, hint: Any) -> bool:
    """Whether a wire value has the field's declared type (an int is a float; a bool is no number)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (int, float):
        return isinstance(value, int | hint) and not isinstance(value, bool)
    if origin in (list, dict):
        items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else None
        return (
            isinstance(value, origin) and items is not None and all(_fits(item, args[-1]) for item in items)
        )
    return hint is Any or isinstance(value, hint)


def _malformed(data: Any, reason: str) -> MalformedEvent:
    text = (
        data if isinstance(data, str) else data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    )
    if not text:
        text = json.dumps(data, default=str)
    return MalformedEvent(reason=reason[:300], excerpt=text[:EXCERPT_CHARS])


def _trimmed(body: dict[str, Any]) -> dict[str, Any]:
    """An unknown event's body, unless it is huge: then only its type and size."""
    size = len(json.dumps(body, default=str))
    return body if size <= 4 * EXCERPT_CHARS else {"type": str(body.get("type", ""))[:100], "size": size}
