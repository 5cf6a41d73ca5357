"""An outage loses nothing: a notice Slack will not take is kept and tried again with growing waits for days (the
clock moved, not slept), the thread hears once that it is late, and a 429 on one method holds up only that method."""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from slack_sdk.errors import SlackApiError

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.events import FrameStopped, JobCompleted, JobProgress
from backend.render.grammar import parse_render
from bot.app import web_client
from bot.cards import Card, card_store
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from local.embedded.notices import StackNotifier, notify_loop
from testing.slack import Call, FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"


class Clock:
    """Time that moves only when the notifier sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _services(stack: Stack, slack: FakeSlack, clock: Clock) -> Services:
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    stack.jobs._clock = clock  # the job record's times follow the same clock
    services = Services(settings, clock=clock)
    services.__dict__["jobs"] = stack.jobs
    return services


def _job_with_card(stack: Stack, services: Services, frames: str = "1-4") -> str:
    stack.put_scene()
    submission = services.submissions.submit(
        parse_render(split_words(f"shot.blend {frames}")), "U0ARTIST", CHANNEL
    )
    assert submission.job is not None
    post_card(_client(services), services, submission.job.job_id, CHANNEL)
    return submission.job.job_id


def _client(services: Services):  # type: ignore[no-untyped-def]
    return web_client(services.settings, SlackCredentials("xoxb-test").bot_token)


def _taken(slack: FakeSlack, method: str) -> list[Call]:
    """The calls Slack answered normally (not in the outage, not rate limited)."""
    return [call for call in slack.calls_to(method) if not {"_outage", "_ratelimited"} & set(call.args)]


def test_a_slack_outage_of_half_an_hour_loses_no_notice_and_the_thread_is_told_once(
    stack: Stack, slack: FakeSlack
) -> None:
    # GIVEN a job with its card, and Slack answering 503 to everything from the moment the job ends
    clock = Clock()
    services = _services(stack, slack, clock)
    job_id = _job_with_card(stack, services)
    said: list[str] = []
    notifier = StackNotifier(
        services, SlackNotifier(_client(services), services, sleep=clock.sleep), said.append
    )
    clock.now += 6
    slack.outage(503)
    stack.render_frames(job_id, [1, 2, 3, 4])
    outage_began = clock.now
    # WHEN the notifications queue delivers each notice again after the wait the notifier asks for (the clock
    # moved, not slept) and Slack comes back after 40 minutes
    due = [(clock.now, index, body, 1) for index, body in enumerate(e.to_json() for e in stack.events())]
    heapq.heapify(due)
    finished: list[object] = []
    while due:
        at, index, body, tries = heapq.heappop(due)
        clock.now = max(clock.now, at)
        if slack.outage_status and clock.now - outage_began >= 40 * 60:
            slack.outage_over()
        outcome = notifier.handle(body, tries)
        if isinstance(outcome, int) and clock.now - outage_began < 3 * 3600:
            heapq.heappush(due, (clock.now + outcome, index, body, tries + 1))
        else:
            finished.append(outcome)
    # THEN nothing was given up, the completion reply came once, and it says once that it is late
    assert not slack.outage_status, "the notices were not kept until Slack came back"
    assert not [line for line in said if "gave up" in line], said
    (complete,) = _taken(slack, "files.completeUploadExternal")
    assert "all 4 frames of `scenes/shot.blend` rendered" in complete.args["initial_comment"]
    thread = [
        call.args.get("text", "") for call in _taken(slack, "chat.postMessage") if call.args.get("thread_ts")
    ]
    late = [text for text in [*thread, complete.args["initial_comment"]] if "late" in text]
    assert len(late) == 1 and "Slack did not take it" in late[0], late
    final = _taken(slack, "chat.update")[-1]
    assert final.args["blocks"][0]["text"]["text"].startswith("*✅ Done*")


def test_a_429_on_one_jobs_card_update_does_not_hold_up_another_jobs_post(
    stack: Stack, slack: FakeSlack
) -> None:
    # GIVEN two jobs with cards; Slack answers the next chat.update with 429 Retry-After: 30
    clock = Clock()
    services = _services(stack, slack, clock)
    first, second, third = (_job_with_card(stack, services) for _ in range(3))
    cards = card_store(services)
    second_card = _ts(cards.card(second))
    stack.events()  # what the submissions said is not this test's business
    clock.now += 6  # past the card's update interval
    slack.rate_limit("chat.update", times=1, retry_after=30)
    notifier = StackNotifier(services, SlackNotifier(_client(services), services, sleep=clock.sleep), print)
    stopping = threading.Event()
    loop = threading.Thread(
        target=notify_loop, args=(stack.info.notifications_queue_url, notifier, stopping, print), daemon=True
    )
    loop.start()
    try:
        # WHEN the first job's card update is rate limited and the second job then has something to say
        services.events.publish(
            JobProgress(job_id=first, scene_key="scenes/shot.blend", done=1, failed=0, total=4)
        )
        (limited,) = slack.wait_for("chat.update", timeout=10)
        assert limited.args.get("_ratelimited")
        services.events.publish(
            FrameStopped(job_id=second, frame=2, ran_s=900.0, limit_s=900.0, channel=CHANNEL)
        )
        services.events.publish(
            JobProgress(job_id=third, scene_key="scenes/shot.blend", done=1, failed=0, total=4)
        )
        # THEN the second job's post goes at once, and every card update (the first job's retry and the third
        # job's) waits out the Retry-After of their method
        posted = _wait_for_thread_post(slack, second_card, timeout=10)
        assert posted.at - limited.at < 10
        updates = slack.wait_for("chat.update", count=3, timeout=45)
        assert all(update.at - limited.at >= 29 for update in updates[1:])
        assert {update.args["ts"] for update in updates[1:]} == {
            _ts(cards.card(job)) for job in (first, third)
        }
    finally:
        stopping.set()
        loop.join(timeout=15)


def _ts(card: Card | None) -> str:
    assert card is not None
    return card.ts


def _wait_for_thread_post(slack: FakeSlack, thread_ts: str, timeout: float) -> Call:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to("chat.postMessage"):
            if call.args.get("thread_ts") == thread_ts:
                return call
        time.sleep(0.05)
    raise AssertionError(
        f"no post in the thread {thread_ts} within {timeout} s: {[c.method for c in slack.calls]}"
    )


def test_the_aws_redrive_tells_an_undelivered_notice_again_once_slack_is_back(
    stack: Stack, slack: FakeSlack
) -> None:
    from bot.undelivered import redrive

    # GIVEN a completion the notifier Lambda could not post (its tries failed: Lambda recorded it on failure)
    clock = Clock()
    services = _services(stack, slack, clock)
    job_id = _job_with_card(stack, services)
    clock.now += 6
    slack.outage(503)
    stack.render_frames(job_id, [1, 2, 3, 4])
    notifier = SlackNotifier(_client(services), services, sleep=clock.sleep)
    (completed,) = [event for event in stack.events() if isinstance(event, JobCompleted)]
    with pytest.raises(SlackApiError):
        notifier.handle(completed)
    # the stack's own queue (infra/resources.yml), the one the redrive's role may read
    queue = stack.sqs.get_queue_url(QueueName=f"{stack.info.stack_name}-undelivered-notices")["QueueUrl"]
    sns = {"EventSource": "aws:sns", "Sns": {"MessageId": "m-1", "Message": completed.to_json()}}
    record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"Records": [sns]},
        "responsePayload": {"errorType": "SlackApiError", "errorMessage": "service_unavailable"},
    }
    stack.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))
    stack.sqs.send_message(QueueUrl=queue, MessageBody="not an on-failure record")
    # WHEN the scheduled redrive runs during the outage, and again once Slack is back 40 minutes later
    during = redrive(
        stack.sqs, queue, notifier, first_wait_s=0
    )  # hidden for no time: the test waits for nothing
    clock.now += 40 * 60
    slack.outage_over()
    after = redrive(stack.sqs, queue, notifier, first_wait_s=0)
    # THEN the notice was kept, then posted once, saying it is late; the unreadable record was dropped
    assert (during.posted, during.kept, during.dropped) == (0, 1, 1)
    assert (after.posted, after.kept, after.dropped) == (1, 0, 0)
    (complete,) = _taken(slack, "files.completeUploadExternal")
    assert "This reply is 40 min late" in complete.args["initial_comment"]
    assert not stack.sqs.receive_message(QueueUrl=queue).get("Messages")


def test_slack_refusing_connections_is_an_outage_too_the_notice_is_kept(
    stack: Stack, slack: FakeSlack
) -> None:
    clock = Clock()
    services = _services(stack, slack, clock)
    job_id = _job_with_card(stack, services)
    stack.events()
    said: list[str] = []
    notifier = StackNotifier(
        services, SlackNotifier(_client(services), services, sleep=clock.sleep), said.append
    )
    slack.stop()  # nothing listens on Slack's port now: every call is refused
    body = FrameStopped(job_id=job_id, frame=2, ran_s=900.0, limit_s=900.0, channel=CHANNEL).to_json()
    waits = [notifier.handle(body, tries) for tries in range(1, 12)]
    assert all(isinstance(wait, int) for wait in waits) and sum(waits) >= 30 * 60  # type: ignore[arg-type]
    assert [line for line in said if "kept, trying again" in line] and not [
        line for line in said if "gave up" in line
    ]
