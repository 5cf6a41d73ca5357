"""Round trips of the flows bench.walks counts, kept from growing back: the last frame recorded to its job's end
published, and the completion notice, each read the job no more often than it must (DynamoDB on moto)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from backend.events import JobCompleted
from testing.slack import FakeSlack

from .conftest import Stack
from .test_notifier import _setup


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _count(*clients: Any) -> Counter[str]:
    """DynamoDB operations these clients send from now on, by name."""
    sent: Counter[str] = Counter()

    def note(model: Any, **_: Any) -> None:
        sent[model.name] += 1

    for client in clients:
        client.meta.events.register("before-call.dynamodb", note)
    return sent


def test_the_last_frame_ends_its_job_with_one_read_and_no_query(stack: Stack, slack: FakeSlack) -> None:
    _, services, _, job_id = _setup(stack, slack, "1-2")
    services.reporter.frame_done(job_id, 1, 1.0, "out/1.png", 1.0)
    sent = _count(stack.jobs.client)
    services.reporter.frame_done(job_id, 2, 1.0, "out/2.png", 1.0)
    assert stack.jobs.get(job_id).status.is_final
    assert [type(event) for event in stack.events()].count(JobCompleted) == 1
    # the record's transaction and the job after it; FINISH returns the job it wrote; the outbox publishes from it
    assert sent["GetItem"] == 1 + 1 and sent["Query"] == 0 and sent["TransactWriteItems"] == 1
    assert sent["UpdateItem"] == 2  # FINISH, and the one fact published with the job leaving the outbox index


def test_one_completion_notice_reads_only_the_card(stack: Stack, slack: FakeSlack) -> None:
    notifier, _, clock, job_id = _setup(stack, slack, "1-2")
    clock.now += 6
    stack.render_frames(job_id, [1, 2])
    completed = [event for event in stack.events() if isinstance(event, JobCompleted)]
    for event in stack.events():
        if not isinstance(event, JobCompleted):
            notifier.handle(event)
    sent = _count(stack.jobs.client, notifier.cards.client)  # type: ignore[attr-defined]
    notifier.handle(completed[0])
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    # the claim returns the job; no frame failed, so no frames are read; the card is read once and marked
    assert sent == Counter({"UpdateItem": 2, "GetItem": 1})
    notifier.handle(completed[0])  # SNS delivers it again: nothing is said twice
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
