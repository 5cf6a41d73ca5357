"""Every message builder driven with generated extremes (`extremes`: hundreds of workstations and budgets, jobs of
10,000 frames with scattered failures, keys of 1,024 characters, reasons of 2,000, `&<>` and emoji in everything a
person names): each output must be one Slack accepts (`block_kit`: slack_sdk's models, the documented limits,
escaping)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from backend.aws.s3 import ObjectInfo
from backend.budgets.guard import GuardState
from backend.budgets.provider import Budget
from backend.budgets.service import BudgetStatus
from backend.config import Access, Settings
from backend.events import BudgetAlert, BudgetGuardChanged
from backend.render.frames import compact
from backend.render.grammar import RenderRequest
from backend.render.records import JobStatus
from backend.render.submit import RenderPlan
from backend.render.tasks import RenderSettings
from backend.workstations.service import Change, StatusRow
from bot.listeners.commands import budget as budget_command
from bot.listeners.commands import render as render_command
from bot.listeners.commands import workstations as workstations_command
from bot.messages import (
    budgets,
    error_message,
    message_text,
    render,
    render_completion,
    render_modal,
    section,
)
from bot.messages import workstations as ws_messages
from bot.messages.render_plan import dry_run_text, plan_text
from bot.messages.render_replies import job_table
from bot.messages.text import sentence
from tests.unit.block_kit import assert_message, assert_modal, assert_text
from tests.unit.extremes import (
    BUDGETS,
    COUNT,
    EXTREMES,
    GUARDS,
    KEYS,
    NAMES,
    PAGES,
    REASONS,
    ROWS,
    USERS,
    WORST_EVENTS,
    events,
    frames_of,
    jobs,
    many,
    people_text,
)
from tests.unit.test_blocks import NOW


@given(rows=many(ROWS, 500), page=PAGES)
@EXTREMES
def test_workstations_status_fits_at_any_size(rows: list[StatusRow], page: int) -> None:
    message = ws_messages.workstations_table(rows, page)
    pages = -(-len(rows) // 99)  # a table block's 100 rows, its header among them
    for text, blocks in (message, getattr(message, "fallback", message)):  # as a table, and as code blocks
        assert_message(text, blocks)
        if page < pages:  # the rest are a command away
            notes = [block["elements"][0]["text"] for block in blocks if block["type"] == "context"]
            assert f"`/workstations status --page {page + 1}`" in notes[-1]


@given(budget_list=many(BUDGETS, 200), guard=GUARDS, page=PAGES)
@EXTREMES
def test_budget_status_fits_at_any_size(budget_list: list[Budget], guard: GuardState, page: int) -> None:
    message = budgets.budget_status(BudgetStatus(budget_list, guard), page)
    assert_message(*message)
    assert_message(*getattr(message, "fallback", message))


@given(job=jobs(), data=st.data())
@EXTREMES
def test_job_card_and_its_thread_replies_fit(job: Any, data: st.DataObject) -> None:
    admins = frozenset(f"U{index:08d}" for index in range(data.draw(st.integers(0, 50))))
    failed = data.draw(frames_of(job.total))
    reasons = {frame: data.draw(REASONS) for frame in failed[:4]} | dict.fromkeys(failed[4:], "no camera")
    link = data.draw(
        st.none() | st.integers(0, 2_000).map(lambda n: "https://s3.test/f.zip?a=1&b=" + "9" * n)
    )
    for status in JobStatus:  # every phase of the same job: the card, the thread replies, the completion
        job = replace(job, status=status)
        assert_message(*render.job_card(job, NOW))
        assert_message(*render.status_message(job, NOW))
        assert_text(render.approval_request(job, admins))
        assert_text(render.approved_note(job, data.draw(USERS)))
        assert_text(render_completion.completion_reply(job, failed, link, reasons), "completion reply")


@given(listed=st.lists(jobs(), max_size=25), user=USERS)
@EXTREMES
def test_render_list_fits(listed: list[Any], user: str) -> None:
    assert_message(*render.job_list(listed, user, NOW))
    table = job_table(listed, user, NOW)
    assert_message(*table)
    assert_message(*getattr(table, "fallback", table))


@given(job=jobs(), keys=many(NAMES, 60), url_chars=st.integers(0, 3_000))
@EXTREMES
def test_the_outputs_answer_fits_however_long_the_links(job: Any, keys: list[str], url_chars: int) -> None:
    links = [
        (f"https://s3.test/{index}?X-Amz-Signature=" + "f" * url_chars + "&x=1", key)
        for index, key in enumerate(keys)
    ]
    assert_text(render_completion.outputs_text(job, links, len(keys) + 10_000), "outputs")


@given(
    scene=KEYS,
    bucket=NAMES,
    frames=st.one_of(KEYS, frames_of(10_000).map(compact)),
    assets=st.none() | KEYS,
    count=COUNT,
)
@EXTREMES
def test_a_dry_runs_plan_fits(scene: str, bucket: str, frames: str, assets: str | None, count: int) -> None:
    request = RenderRequest(scene, frames, RenderSettings(), assets_prefix=assets)
    found = [ObjectInfo(f"k{index}", "e", 1) for index in range(count % 50)]
    plan = RenderPlan(
        bucket, scene, "e", list(range(count)), [[frame] for frame in range(count)], request, found
    )
    assert_text(dry_run_text(plan), "dry run")
    assert_text(plan_text(plan), "plan")


@given(name=NAMES, owner=USERS, minutes=st.integers(0, 10**6), keepalive=st.booleans())
@example(name="&" * 256, owner="<" * 300, minutes=10**6, keepalive=True)  # an EC2 tag's longest
@EXTREMES
def test_the_expiry_warning_fits_any_workstation_name(
    name: str, owner: str, minutes: int, keepalive: bool
) -> None:
    text, blocks = ws_messages.expiring_message(name, owner, minutes, keepalive)
    assert_message(text, blocks)
    (buttons,) = [block["elements"] for block in blocks if block["type"] == "actions"]
    assert [button["value"] for button in buttons] == [name, name]  # what the Extend and Stop listeners read


@given(every=events())
@example(every=WORST_EVENTS)
@EXTREMES
def test_every_event_reads_as_a_message_that_fits(every: list[Any]) -> None:
    for event in every:
        text = message_text(event)
        assert text is not None
        assert_text(text, type(event).__name__)
        if isinstance(event, BudgetAlert):
            assert_message(*budgets.budget_alert_message(event))
        if isinstance(event, BudgetGuardChanged):
            assert_message(*budgets.guard_changed_message(event))


@given(
    name=NAMES,
    action=st.sampled_from(["start", "stop", "keepalive", "extend"]),
    on=st.booleans(),
)
@EXTREMES
def test_workstation_changes_fit(name: str, action: str, on: bool) -> None:
    change = Change(action, name, timedelta(hours=4), timedelta(hours=2), on)
    text = ws_messages.change_text(change)
    assert_message(text, [section(text)])


@given(
    file_id=st.sampled_from(["F0SCENE", "F0123456789ABC"]),
    name=people_text(4_000),
    channel=st.just("C0RENDERS"),
)
@EXTREMES
def test_the_render_modal_fits_any_file_name(file_id: str, name: str, channel: str) -> None:
    assert_modal(render_modal.render_modal(file_id, name, channel))


@given(
    words=st.lists(
        st.one_of(KEYS, st.sampled_from(["status", "list", "--page", "guard", "on", "help", "1-10"])),
        max_size=6,
    ),
    channels=st.integers(0, 300).map(lambda count: [f"C{index:09d}" for index in range(count)]),
)
@example(words=["&" * 1_024, "1-10"], channels=[])  # a render to check: the ack quotes its scene
@EXTREMES
def test_what_the_ack_says_fits(words: list[str], channels: list[str]) -> None:
    """Help, mistakes and refusals are answered in the ack; a render to check says so at once."""
    access = Access(allowed_channels=frozenset(channels))
    command = {"user_id": "U0ARTIST", "channel_id": "C0ELSEWHERE", "text": " ".join(words)}
    for listener in (workstations_command, budget_command):
        if answer := listener.immediate_answer(command, Settings(access=access)):
            assert_message(*answer)
    if answer := render_command.immediate_answer(command, Settings(access=access)):
        assert_message(*answer)
    else:  # work to do: the ack says what it checks
        said: list[dict[str, Any]] = []
        render_command.ack_render(lambda **reply: said.append(reply), command)  # type: ignore[arg-type]
        for reply in said:
            assert_text(reply.get("text", "(no text: a bare ack)"), "ack")
    if refusal := access.refusal("U0ARTIST", "C0ELSEWHERE"):
        assert_modal(render_modal.notice_modal("studiobot", sentence(refusal)))


@given(text=people_text(5_000))
@EXTREMES
def test_any_mistake_fits_and_is_escaped(text: str) -> None:
    assert_message(*error_message(text))


def test_the_help_texts_fit() -> None:
    assert_message(*render.help_message())
    assert_message(*budgets.budget_help())
    assert_message(ws_messages.WORKSTATIONS_HELP, [section(ws_messages.WORKSTATIONS_HELP)])
    for on in (True, False):
        assert_text(budgets.guard_turned_text(on))
