"""The cards of jobs waiting in the queue: each says what is ahead of it and when it should start
(`backend.render.queue_position`), and is refreshed as the jobs ahead move on, at the card's usual rate; the line
goes once the job's first frame starts. No boto3 here: the listeners import it before their ack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from backend.render.queue_position import QueuePosition, is_waiting, nothing_in_yet, position, position_of
from backend.render.records import Job
from bot.messages import Blocks
from bot.messages.queue import with_queue_line
from bot.messages.render import job_card

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.cards import CardStore
    from bot.services import Services

logger = Logger(service="studiobot-cards")


def card_message(services: Services, job: Job) -> tuple[str, Blocks]:
    """The job's card as it stands now, with where it waits in the queue while it waits."""
    now = services.clock()
    where: QueuePosition | None = None
    try:
        where = position_of(job, services.jobs, now)
    except Exception as error:  # where it stands is a courtesy: the card itself must still change
        logger.warning("queue position not read", job_id=job.job_id, error=repr(error))
    return with_queue_line(job_card(job, now, services.settings.costs), where)


def refresh_waiting(
    client: WebClient, services: Services, cards: CardStore, moved: Job, interval_s: float
) -> int:
    """`moved` moved on: the cards of its class's waiting jobs show where they stand now, each at most once an
    interval (one Query of the class's active jobs for all of them); how many were updated."""
    now = services.clock()
    try:
        active = services.jobs.active_jobs(moved.settings.render_class)
    except Exception as error:  # no line this time: the next progress tries again
        logger.warning(
            "jobs in the queue not read", render_class=moved.settings.render_class, error=repr(error)
        )
        return 0
    updated = 0
    for job in active:
        if job.job_id == moved.job_id or not (is_waiting(job) or nothing_in_yet(job)):
            continue  # a job started with nothing in yet: its card loses the line now, not at its first frame
        card = cards.claim_update(job.job_id, interval_s)
        if card is None:  # no card (a CLI job), or it changed within the interval
            continue
        text, blocks = with_queue_line(
            job_card(job, now, services.settings.costs), position(job, active, now)
        )
        try:
            client.chat_update(channel=card.channel, ts=card.ts, text=text, blocks=blocks)
        except Exception as error:  # another job's card: never a reason to tell `moved`'s progress again
            logger.warning("waiting card not updated", job_id=job.job_id, error=repr(error))
            continue
        cards.mark_updated(job.job_id)
        updated += 1
    return updated
