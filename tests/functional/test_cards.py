"""The notifier's own store of where each job's card lives: one card a job, its updates throttled, kept apart
from the job record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from backend.render.records import Job
from bot.cards import Card, DynamoCards, card_key
from local.embedded.stack import deploy


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cards() -> Iterator[tuple[DynamoCards, Clock]]:
    clock = Clock()
    with mock_aws():
        yield DynamoCards(deploy(None).settings().table_name, clock=clock, history_days=30), clock


def test_a_job_keeps_the_first_card_posted_for_it(cards: tuple[DynamoCards, Clock]) -> None:
    store, clock = cards
    assert store.card("r1") is None
    assert store.attach("r1", "C1", "1.0") == Card("C1", "1.0", clock.now)
    clock.now += 1
    assert store.attach("r1", "C1", "2.0") == Card(
        "C1", "1.0", clock.now - 1
    )  # a second post is not the card
    assert store.card("r1") == Card("C1", "1.0", clock.now - 1)
    assert store.card("r2") is None


def test_a_card_is_updated_at_most_once_an_interval(cards: tuple[DynamoCards, Clock]) -> None:
    store, clock = cards
    assert store.claim_update("r1", 5.0) is None  # no card yet: nothing to update
    store.attach("r1", "C1", "1.0")
    assert store.claim_update("r1", 5.0) is None  # it was just posted
    clock.now += 6
    assert store.claim_update("r1", 5.0) == Card("C1", "1.0", clock.now)
    assert store.claim_update("r1", 5.0) is None
    clock.now += 1
    store.mark_updated("r1")  # the final update is spaced, not throttled
    assert store.card("r1") == Card("C1", "1.0", clock.now)
    store.mark_updated("r2")  # a job with no card has nothing to mark
    assert store.card("r2") is None


def test_the_card_is_not_in_the_job_record_and_goes_with_the_job_history(
    cards: tuple[DynamoCards, Clock],
) -> None:
    store, clock = cards
    store.attach("r1", "C1", "1.0")
    item = store.client.get_item(TableName=store.table_name, Key=card_key("r1"))["Item"]
    assert item["pk"]["S"] == "CARD#r1" and int(item["purge_at"]["N"]) == int(clock.now + 30 * 86_400)
    assert not {"card_channel", "card_ts", "card_updated_at"} & set(Job.__dataclass_fields__)
