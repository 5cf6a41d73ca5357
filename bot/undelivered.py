"""Notices Slack would not take: which failures are Slack's (kept and tried again), and the growing waits between
tries for at least a day — one policy for the local stack's notifier and the AWS redrive of undelivered notices."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

KEEP_FOR_S = 48 * 3600  # a notice Slack will not take is tried again this long (at least a day, as promised)
LONGEST_WAIT_S = 3600  # waits grow to an hour between tries, never longer: a returning Slack hears soon
TRIES_FOR_OTHER_ERRORS = 5  # a notice failing for another reason (ours) is tried this often, then set aside
# Slack's own answers meaning "not now" rather than "never": the same notice will be taken later.
TRANSIENT_CODES = frozenset(
    {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
)


def slack_unavailable(error: BaseException) -> bool:
    """Whether a failure is Slack not taking messages now (down, refusing, 5xx, 429) rather than our mistake."""
    if isinstance(error, OSError):  # refused, reset, timed out, DNS: urllib's URLError is one
        return True
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        code = error.response.get("error") if hasattr(error.response, "get") else None
        return status == 429 or status >= 500 or code in TRANSIENT_CODES
    return isinstance(error, SlackClientError) and "timed out" in str(error).lower()


def retry_wait(tries: int, first_wait_s: int) -> int:
    """Seconds before the next try after `tries` failed ones: doubling from `first_wait_s`, at most an hour."""
    return int(min(first_wait_s * 2 ** min(max(tries, 1) - 1, 20), LONGEST_WAIT_S))


def kept_for(tries: int, first_wait_s: int) -> int:
    """How long a notice has been kept after `tries` failed tries (the sum of the waits between them)."""
    return sum(retry_wait(n, first_wait_s) for n in range(1, tries))


def keep_trying(tries: int, first_wait_s: int) -> bool:
    """Whether a notice Slack did not take on its `tries`th try is still within `KEEP_FOR_S`."""
    return kept_for(tries + 1, first_wait_s) < KEEP_FOR_S


def duration(seconds: float) -> str:
    """`3 min`, `2 h 5 min`: how late a notice came, in words."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
