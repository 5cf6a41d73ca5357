"""Which failures are Slack's (kept and tried again for days) and the growing waits between tries."""

from __future__ import annotations

from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.undelivered import (
    KEEP_FOR_S,
    LONGEST_WAIT_S,
    duration,
    keep_trying,
    kept_for,
    retry_wait,
    slack_unavailable,
)


def _answer(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError("the server responded with an error", response)


@pytest.mark.parametrize(
    ("error", "slacks"),
    [
        (URLError(ConnectionRefusedError(111, "Connection refused")), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (_answer(503, "service_unavailable"), True),
        (_answer(500, "internal_error"), True),
        (_answer(429, "ratelimited"), True),
        (_answer(200, "fatal_error"), True),
        (_answer(200, "channel_not_found"), False),
        (_answer(200, "invalid_blocks"), False),
        (ValueError("a bug of ours"), False),
    ],
)
def test_slack_not_taking_messages_is_told_apart_from_our_mistakes(error: Exception, slacks: bool) -> None:
    assert slack_unavailable(error) is slacks


def test_waits_double_to_an_hour_and_a_notice_is_kept_at_least_a_day() -> None:
    assert [retry_wait(tries, 20) for tries in range(1, 6)] == [20, 40, 80, 160, 320]
    assert retry_wait(50, 20) == LONGEST_WAIT_S and retry_wait(10_000, 300) == LONGEST_WAIT_S
    last = max(tries for tries in range(1, 500) if keep_trying(tries, 20))
    assert 24 * 3600 <= kept_for(last + 1, 20) < KEEP_FOR_S <= kept_for(last + 2, 20)
    assert duration(40 * 60) == "40 min" and duration(2 * 3600 + 300) == "2 h 5 min"
