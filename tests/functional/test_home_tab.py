"""The Home tab end to end: real slack_bolt, the loopback fake Slack (which checks `views.publish` as Slack does),
the job store, workstations and queues in moto. Opening it publishes the person's jobs, the farm, their
workstations and the spend; their events refresh it at most once per 10 s across processes; its buttons run the
commands' desks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.events import JobProgress, SessionExtended, SessionStopped
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from bot.app import build_app, web_client
from bot.home_refresh import HomeTabs
from bot.messages import home
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.slack import APP_ID, dispatch_signed, interaction_body, signed_headers
from tests.unit.test_home_view import assert_home

from .conftest import ARTIST, CHANNEL, OTHER, SECRET, Bot
from .test_workstation_provider import launch

T0 = 1_800_000_000.0


def _open_home(bot: Bot, user: str = ARTIST, tab: str = "home") -> Any:
    """Slack's `app_home_opened` event, signed, dispatched in-process."""
    body = json.dumps(
        {
            "token": "x",
            "team_id": "T0001",
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev0{user}",
            "event_time": int(T0),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab},
        }
    )
    headers: dict[str, Any] = signed_headers(body, SECRET, content_type="application/json")
    return bot.app.dispatch(BoltRequest(body=body, headers=headers))


def _press(bot: Bot, action_id: str, value: str, user: str = ARTIST) -> Any:
    """A button on the Home tab: no channel, no `response_url`, the view as its container."""
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0001"},
        "trigger_id": "t-home",
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home"},
        "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
    }
    return dispatch_signed(bot.app, interaction_body(payload), SECRET)


def _jobs(bot: Bot) -> dict[str, str]:
    """Three jobs of the artist's (rendering, ended with failures, queued) and one of someone else's."""
    bot.stack.put_scene()
    submit = bot.services.submissions.submit
    made = {}
    for name, spec, user in (
        ("running", "1-4", ARTIST),
        ("failed", "1-6", ARTIST),
        ("queued", "1-8", ARTIST),
    ):
        job = submit(parse_render(split_words(f"shot.blend {spec}")), user, CHANNEL).job
        assert job is not None
        made[name] = job.job_id
    other = submit(parse_render(split_words("shot.blend 1-3")), OTHER, CHANNEL).job
    assert other is not None
    made["other"] = other.job_id
    assert bot.stack.jobs.start(made["running"])
    bot.stack.render_frames(made["running"], [1, 2])
    bot.stack.render_frames(made["failed"], [1, 2, 3, 4, 5], failed=[6])
    assert bot.stack.jobs.get(made["failed"]).status is JobStatus.DONE_WITH_FAILURES
    return made


def _fleet() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, 2, "anim", ARTIST)
    launch(ec2, 1, "comp", OTHER)


def _buttons(view: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (element["action_id"], element["value"])
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_opening_home_publishes_three_jobs_two_workstations_the_farm_and_the_spend(bot: Bot) -> None:
    made = _jobs(bot)
    _fleet()
    assert _open_home(bot).status == 200
    (call,) = bot.slack.wait_for("views.publish")
    assert call.args["user_id"] == ARTIST
    view = bot.slack.homes[ARTIST]  # the fake kept it: Slack's checks passed (100 blocks, valid blocks)
    assert_home(view)
    whole = json.dumps(view["blocks"], ensure_ascii=False)
    for name in ("running", "failed", "queued"):
        assert made[name] in whole
    assert made["other"] not in whole and "comp-00" not in whole  # someone else's
    assert "anim-00" in whole and "anim-01" in whole and "Connected:" in whole  # asked when opened
    assert "▰" in whole and "Budget guard off" in whole and "*GPU nodes up*" in whole
    assert "tasks waiting" in whole  # the lanes counted (SQS in moto)
    buttons = _buttons(view)
    assert (home.JOB_CANCEL, made["running"]) in buttons and (home.JOB_RETRY, made["failed"]) in buttons
    assert (home.JOB_MOVIE, made["failed"]) in buttons
    assert (home.WS_EXTEND, "anim-00") in buttons and (home.WS_STOP, "anim-01") in buttons


def test_the_messages_tab_publishes_nothing_and_a_refused_user_reads_why(bot: Bot) -> None:
    _open_home(bot, tab="messages")
    settings = bot.services.settings
    settings = replace(settings, access=replace(settings.access, allowed_users=frozenset({OTHER})))
    client = web_client(settings, "xoxb-test")
    bot.app = build_app(settings, SlackCredentials("xoxb-test", SECRET), client=client, services=bot.services)
    _open_home(bot, user=ARTIST)
    (call,) = bot.slack.wait_for("views.publish")
    assert "not on studiobot's list of users" in json.dumps(call.args["view"])


@pytest.fixture
def clock() -> Iterator[list[float]]:
    yield [T0]


def _process(bot: Bot, now: list[float]) -> tuple[HomeTabs, Services, WebClient]:
    """One more process (a Lambda container): its own services and client, the same table and Slack."""
    services = Services(bot.services.settings, clock=lambda: now[0])
    client = web_client(services.settings, "xoxb-test")
    return HomeTabs(client, services), services, client


def test_events_refresh_at_most_once_per_ten_seconds_across_processes(bot: Bot, clock: list[float]) -> None:
    made = _jobs(bot)
    first, services, client = _process(bot, clock)
    second, _, _ = _process(bot, clock)
    assert not first.refresh(ARTIST)  # they never opened it: no event publishes it
    assert first.opened(ARTIST)
    clock[0] += 9.9
    assert not second.refresh(ARTIST) and not first.refresh(ARTIST)  # within 10 s: in neither process
    clock[0] += 0.2
    assert second.refresh(ARTIST)
    assert not first.refresh(ARTIST)
    assert len(bot.slack.calls_to("views.publish")) == 2
    # the notifier's events: the submitter's (a job's progress) and the owner's (a workstation's)
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    clock[0] += 10.1
    notifier.handle(JobProgress(made["running"], "scenes/shot.blend", 2, 0, 4, requested_by=ARTIST))
    clock[0] += 10.1
    notifier.handle(SessionExtended("anim-00", ARTIST, T0 + 7200, "U0ADMIN"))
    calls = bot.slack.calls_to("views.publish")
    assert [call.args["user_id"] for call in calls] == [ARTIST] * 4


def test_a_slack_error_on_publish_is_logged_and_the_event_goes_on(bot: Bot, clock: list[float]) -> None:
    made = _jobs(bot)
    tabs, services, client = _process(bot, clock)
    assert tabs.opened(ARTIST)
    bot.slack.fail("views.publish", "internal_error")
    clock[0] += 11
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    notifier.handle(JobProgress(made["running"], "scenes/shot.blend", 2, 0, 4, requested_by=ARTIST))
    assert len(bot.slack.calls_to("views.publish")) == 2  # tried, refused, nothing raised
    clock[0] += 11
    assert tabs.refresh(ARTIST)


def _dms(bot: Bot, user: str, count: int = 1) -> list[str]:
    calls = bot.slack.wait_for("chat.postMessage", count)
    return [call.args["text"] for call in calls if call.args.get("channel") == user]


def test_the_buttons_run_the_commands_desks_and_answer_in_a_direct_message(bot: Bot) -> None:
    made = _jobs(bot)
    _fleet()
    assert _press(bot, home.JOB_CANCEL, made["running"]).status == 200
    assert any(made["running"] in text for text in _dms(bot, ARTIST))
    assert bot.stack.jobs.get(made["running"]).status is JobStatus.CANCELLED
    _press(bot, home.JOB_CANCEL, made["queued"], user=OTHER)  # not theirs: the desk refuses
    assert bot.slack.wait_for("chat.postMessage", 2) and bot.stack.jobs.get(made["queued"]).status is not (
        JobStatus.CANCELLED
    )
    _press(bot, home.WS_EXTEND, "anim-00")
    assert any("Extended `anim-00` by 2 h" in text for text in _dms(bot, ARTIST, 3))
    _press(bot, home.JOB_MOVIE, made["failed"])  # the desk's `movie JOB`: the notifier makes it in the thread
    assert f"The movie of `{made['failed']}` is being made" in _dms(bot, ARTIST, 4)[-1]
    _press(bot, home.JOB_RETRY, made["failed"])  # a retry's card goes to the first job's channel, as ever
    cards = [
        call.args for call in bot.slack.wait_for("chat.postMessage", 5) if call.args["channel"] == CHANNEL
    ]
    assert len(cards) == 1 and f"retry of `{made['failed']}`" in json.dumps(cards[0]["blocks"])
    _press(bot, home.WS_STOP, "anim-01")  # its owner knows whether anyone is connected
    assert any("Stopping `anim-01`" in text for text in _dms(bot, ARTIST, 6))


def test_the_fake_refuses_a_home_slack_would_refuse() -> None:
    from slack_sdk.errors import SlackApiError

    from testing.slack import FakeSlack

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
        client.views_publish(user_id=ARTIST, view={"type": "home", "blocks": [section] * 100})
        refused = [
            {"type": "home", "blocks": [section] * 101},
            {"type": "home", "blocks": [{**section, "text": {"type": "mrkdwn", "text": "x" * 3_001}}]},
            {"type": "modal", "blocks": [section]},
        ]
        for view in refused:
            with pytest.raises(SlackApiError) as error:
                client.views_publish(user_id=ARTIST, view=view)
            assert error.value.response["error"] == "invalid_arguments"
        assert list(slack.homes) == [ARTIST] and len(slack.homes[ARTIST]["blocks"]) == 100


def test_a_last_word_waits_out_the_interval_and_others_leave_it_to_the_next_event(
    bot: Bot, clock: list[float]
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    _, services, client = _process(bot, clock)
    tabs = HomeTabs(client, services, sleep=sleep)
    assert tabs.opened(ARTIST)
    clock[0] += 2
    tabs.after(SessionExtended("anim-00", ARTIST, T0 + 7200, "U0ADMIN"))  # more will come: not now
    assert slept == [] and len(bot.slack.calls_to("views.publish")) == 1
    tabs.after(
        SessionStopped("anim-00", ARTIST, "idle for 2 h")
    )  # nothing may follow: told after the interval
    assert len(slept) == 1 and 8 <= slept[0] <= 8.5
    assert len(bot.slack.calls_to("views.publish")) == 2
    tabs.after(SessionStopped("comp-00", OTHER, "idle"))  # they never opened their Home: no wait, nothing
    assert len(slept) == 1 and len(bot.slack.calls_to("views.publish")) == 2


def test_a_notice_told_again_by_the_redrive_refreshes_the_home_under_its_own_role(
    bot: Bot, clock: list[float]
) -> None:
    from bot.undelivered import redrive

    tabs, services, client = _process(bot, clock)
    _fleet()
    assert tabs.opened(ARTIST)
    clock[0] += 11
    event = SessionExtended("anim-00", ARTIST, T0 + 7200, "U0ADMIN")
    queue = bot.stack.sqs.get_queue_url(QueueName=f"{bot.stack.info.stack_name}-undelivered-notices")[
        "QueueUrl"
    ]
    sns = {"EventSource": "aws:sns", "Sns": {"MessageId": "m-1", "Message": event.to_json()}}
    record = {"version": "1.0", "requestPayload": {"Records": [sns]}}
    bot.stack.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    assert redrive(bot.stack.sqs, queue, notifier, first_wait_s=0).posted == 1
    assert len(bot.slack.calls_to("views.publish")) == 2
