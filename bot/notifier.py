"""Events → Slack: the job card updated in place, and one thread reply with pictures when a job ends."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aws_lambda_powertools import Logger
from slack_sdk import WebClient

from backend.aws.s3 import ObjectInfo
from backend.config import CLI_CHANNEL
from backend.events import (
    BudgetAlert,
    BudgetGuardChanged,
    Event,
    FrameStopped,
    JobApproved,
    JobCompleted,
    JobEstimated,
    JobProgress,
    KeepAliveReport,
    MovieRequested,
    NodeBlocked,
    NodeReclaimed,
    NodesNotStarted,
    SessionExpiring,
    SessionExtended,
    SessionKept,
    SessionStopped,
    WorkstationAlert,
)
from backend.names import under
from backend.render.announce import ESTIMATE, Completion
from backend.render.layer_previews import is_layer_proxy, layer_rows, layered_sheet
from backend.render.previews import contact_sheet, evenly
from backend.render.records import Job
from backend.render.tasks import PROXIES
from bot.archive import archive, outputs_of
from bot.cards import Card, CardStore, card_store
from bot.dailies import post_movie, thread_preview
from bot.home_refresh import HomeTabs
from bot.messages import Blocks, message_text
from bot.messages.budgets import budget_alert_message, guard_changed_message
from bot.messages.nodes import blocked_text
from bot.messages.render import approval_request, approved_note, job_card
from bot.messages.render_completion import completion_reply
from bot.messages.workstations import expiring_message, kept_message
from bot.queue_cards import card_message, refresh_waiting
from bot.services import Services
from bot.undelivered import duration

logger = Logger(service="studiobot-notifier")
SPACING_MARGIN_S = 0.25  # clocks of Lambda and Slack differ a little: keep clear of the 5 s line
LATE_AFTER_S = (
    600  # a completion reply posted this long after the job ended says it is late (once: it is one reply)
)


class SlackNotifier:
    """Turns studio events into Slack messages; safe under SNS's at-least-once delivery."""

    def __init__(
        self,
        client: WebClient,
        services: Services,
        sleep: Callable[[float], None] = time.sleep,
        cards: CardStore | None = None,
    ) -> None:
        self.client = client
        self.services = services
        self.cards = cards or card_store(services)
        self.interval_s = services.settings.card_update_interval_s
        self.sleep = sleep
        self.home = HomeTabs(client, services, sleep=sleep)  # the Home of whose job or workstation it is

    def handle(self, event: Event) -> None:
        if isinstance(event, JobProgress):
            self._progress(event)
        elif isinstance(event, JobCompleted):
            self._completed(event)
        elif isinstance(event, JobEstimated | JobApproved):
            self._moved_on(event)
        elif isinstance(event, FrameStopped):
            self._stopped(event)
        elif isinstance(event, NodeReclaimed):  # under the job's card, once per node and task
            self._reclaimed(event)
        elif isinstance(event, NodesNotStarted):
            self._not_started(event)
        elif isinstance(event, NodeBlocked):  # under the job's card, once per node and job
            self._blocked(event)
        elif isinstance(event, SessionExpiring):
            self._expiring(event)
        elif isinstance(event, SessionKept):  # its owner decides, with the buttons; ops sees it too
            text, blocks = kept_message(event)
            for channel in dict.fromkeys((event.owner, self.services.settings.ops_channel)):
                self._post(channel, event, text, blocks)
        elif isinstance(event, WorkstationAlert) and event.kind == "spot-interruption" and event.owner:
            self._tell(event.owner, event)
            self._tell(self.services.settings.ops_channel, event)
        elif isinstance(event, SessionStopped | SessionExtended | KeepAliveReport | WorkstationAlert):
            self._tell(self.services.settings.ops_channel, event)
        elif isinstance(event, BudgetAlert):
            self._post(self.services.settings.ops_channel, event, *budget_alert_message(event))
        elif isinstance(event, BudgetGuardChanged):
            self._post(self.services.settings.ops_channel, event, *guard_changed_message(event))
        elif isinstance(
            event, MovieRequested
        ):  # `/render movie JOB`: made here, where there is time and memory
            post_movie(self.client, self.services, event)
        self.home.after(event)

    def _tell(self, channel: str, event: Event) -> None:
        text = message_text(event)
        if text:
            self._post(channel, event, text, None)

    def _post(self, channel: str, event: Event, text: str, message_blocks: Blocks | None) -> None:
        """Post to a channel; with none configured (no ops channel) the message goes to the log only."""
        if not channel:
            logger.info("no channel to tell", event_type=event.type, text=text)
            return
        self.client.chat_postMessage(channel=channel, text=text, blocks=message_blocks)

    def _stopped(self, event: FrameStopped) -> None:
        """A frame stopped at the time limit: said at once under the job's card (once per frame)."""
        self._under_card(event.job_id, f"stopped_{event.frame}", message_text(event) or "")

    def _not_started(self, event: NodesNotStarted) -> None:
        """Under the job's card, once per Batch job (an array: its parent); what the sweep found, on the card too
        (`bot.messages.render.untaken_line`), until a node takes a frame."""
        claim = "nodes_" + re.sub(r"\W", "_", event.batch_job_id)[:40]
        self._under_card(event.job_id, claim, message_text(event) or "")
        job = self.services.announcer.current(event.job_id)
        card = self.cards.card(job.job_id)
        if card is not None and job.untaken_s and not job.status.is_final:
            self._refresh_card(job, card)

    def _reclaimed(self, event: NodeReclaimed) -> None:
        """A node handed its task back: said under the job's card, once per node and task."""
        # the claim becomes an attribute name: letters, digits and underscores only (a host is `ip-10-0-1-7.ec2…`)
        node = re.sub(r"\W", "_", event.node)[:40]
        where = f"t{event.tile}" if event.tile >= 0 else "whole"
        claim = f"node_{node}_{event.frames[0] if event.frames else 0}_{where}"
        self._under_card(event.job_id, claim, message_text(event) or "")

    def _blocked(self, event: NodeBlocked) -> None:
        """A node on the job's blocklist: said under the job's card once; that the job waits when every node of
        its class heard from lately is on it."""
        try:
            present = self.services.roster.present(event.render_class)
        except Exception:  # unknown is never "none": the usual words
            present = []
        everyone = bool(present) and set(present) <= set(event.blocked)
        claim = "blocked_" + re.sub(r"\W", "_", event.node)[:40]
        self._under_card(event.job_id, claim, blocked_text(event, everyone))

    def _under_card(self, job_id: str, claim: str, text: str) -> None:
        """Say it once in the job's thread (else in its channel); a failed post gives the claim back for SNS's
        retry to say it."""
        if not self.services.announcer.first_telling_of(job_id, claim):
            return
        try:
            card = self.cards.card(job_id)
            if card is not None:
                self.client.chat_postMessage(channel=card.channel, thread_ts=card.ts, text=text)
            elif (channel := self.services.announcer.current(job_id).channel) not in ("", CLI_CHANNEL):
                self.client.chat_postMessage(channel=channel, text=text)
        except Exception:
            self.services.announcer.jobs.release_notice(job_id, claim)
            raise

    def _expiring(self, event: SessionExpiring) -> None:
        """DM the owner and tell the ops channel, with Extend 2 h / Stop now (the sweep claimed it once)."""
        minutes = max(0, round((event.expires_at - self.services.clock()) / 60))
        text, buttons = expiring_message(event.name, event.owner, minutes, event.keepalive)
        for channel in (event.owner, self.services.settings.ops_channel):
            if channel:
                self.client.chat_postMessage(channel=channel, text=text, blocks=buttons)

    def _progress(self, event: JobProgress) -> None:
        """The card shows the job's progress, at most once an interval, and so do the cards of the jobs waiting
        behind it (where they stand); the end is the completion's to show."""
        job = self.services.announcer.current(event.job_id)
        if job.status.is_final:
            return
        card = self.cards.claim_update(job.job_id, self.interval_s)
        if card is not None:
            self._update_card(job, card)
            self.cards.mark_updated(job.job_id)
        refresh_waiting(self.client, self.services, self.cards, job, self.interval_s)  # those behind it

    def _moved_on(self, event: JobEstimated | JobApproved) -> None:
        """Probes estimated, or Submit pressed: the card shows it at once (spaced), the thread says it once."""
        announcer = self.services.announcer
        card = self.cards.card(event.job_id)
        if card is None:
            return  # no card (yet): the card posted after this shows the job as it is then
        job = announcer.current(event.job_id)
        if job.status.is_final:
            return
        self._refresh_card(job, card)
        notice = announcer.notice(event)  # asked after the card: the job may have moved on meanwhile
        if notice is None:
            return
        if notice.kind == ESTIMATE:
            text = approval_request(notice.job, self.services.settings.access.admins)
        else:
            text = approved_note(notice.job, notice.by)
        try:
            self.client.chat_postMessage(channel=card.channel, thread_ts=card.ts, text=text)
        except Exception:
            announcer.notice_not_posted(notice)  # the redelivery will try again
            raise

    def _refresh_card(self, job: Job, card: Card) -> None:
        """Update the card now, but never sooner than the interval after the last update."""
        wait = (card.updated_at or 0.0) + self.interval_s + SPACING_MARGIN_S - self.services.clock()
        if wait > 0:
            self.sleep(wait)
            if not (job.status.is_final and job.remaining == 0):  # an ended job with every frame in stays so
                job = self.services.announcer.current(job.job_id)  # it may have moved on while we waited
        self._update_card(job, card)
        self.cards.mark_updated(job.job_id)

    def _completed(self, event: JobCompleted) -> None:
        completion = self.services.announcer.completion(event.job_id)
        if completion is None:
            return  # another delivery of this event already announced it
        try:
            self._announce(completion)
        except Exception:
            self.services.announcer.completion_not_posted(event.job_id)  # the redelivery will try again
            raise

    def _announce(self, completion: Completion) -> None:
        if not completion.has_channel:
            return  # submitted from the CLI: no channel to tell
        job = completion.job
        card = self.cards.card(job.job_id)
        if card is None:
            text, blocks = job_card(job, self.services.clock(), self.services.settings.costs)
            posted = self.client.chat_postMessage(channel=job.channel, text=text, blocks=blocks)
            card = self.cards.attach(job.job_id, posted["channel"], posted["ts"])
        else:
            self._refresh_card(job, card)  # the final state always lands, spaced like every update
        self._reply(job, card, completion.failed_frames, completion.reasons)

    def _update_card(self, job: Job, card: Card) -> None:
        text, blocks = card_message(self.services, job)
        self.client.chat_update(channel=card.channel, ts=card.ts, text=text, blocks=blocks)

    def _reply(self, job: Job, card: Card, failed: list[int], reasons: dict[int, str]) -> None:
        """The thread reply: a contact sheet, the dailies movie streamed from the proxies, the frames' link. If it
        cannot be made, the thread hears a short apology once, and the retry builds nothing twice (the zip is kept)."""
        try:
            self._post_reply(job, card, failed, reasons)
        except Exception:
            if self.services.announcer.first_telling_of(job.job_id, "reply_apology"):
                try:
                    self.client.chat_postMessage(
                        channel=card.channel,
                        thread_ts=card.ts,
                        text=f"The previews and the frames' link for `{job.job_id}` did not come through: "
                        "they will come here as soon as Slack takes them.",
                    )
                except Exception:  # Slack takes nothing now: the reply itself will say it is late
                    self.services.announcer.jobs.release_notice(job.job_id, "reply_apology")
                    logger.warning("could not apologise in the thread", job_id=job.job_id)
            raise

    def _post_reply(self, job: Job, card: Card, failed: list[int], reasons: dict[int, str]) -> None:
        store = self.services.store
        frames, proxies_listed = outputs_of(store, job)
        archived = archive(store, job, frames, self.services.links)
        costs = self.services.settings.costs
        valid_for = self.services.links.valid_for
        text = completion_reply(job, failed, archived.link, reasons, costs, archived.sync_command, valid_for)
        late_s = self.services.clock() - (job.finished_at or self.services.clock())
        if late_s >= LATE_AFTER_S:
            text += f"\n_This reply is {duration(late_s)} late: Slack did not take it earlier._"
        layers: list[tuple[str, list[str]]] = []
        if job.preview_layer:  # the renderer names it when the scene has several view layers: else no rows
            prefix = job.output_prefix + PROXIES
            layers = layer_rows((item.key for item in proxies_listed), prefix)
            proxies_listed = [item for item in proxies_listed if not is_layer_proxy(item.key, prefix)]
        with tempfile.TemporaryDirectory(prefix="studiobot-notify-") as folder:
            proxies = self._proxies(job, proxies_listed, Path(folder))
            if not proxies:
                self.client.chat_postMessage(channel=card.channel, thread_ts=card.ts, text=text)
                return
            sheet = under(Path(folder), f"{job.job_id}_contact_sheet.png")
            if layers:  # a row per view layer, labelled (a multilayer EXR job whose scene composites nothing)
                layered_sheet(store, job.output_bucket, layers, Path(folder) / "layers", sheet)
            else:
                contact_sheet(proxies, sheet)
            preview = thread_preview(store, job, proxies_listed, failed, reasons, proxies, Path(folder))
            self.client.files_upload_v2(
                channel=card.channel,
                thread_ts=card.ts,
                initial_comment=text,
                file_uploads=[
                    {"file": str(sheet), "filename": sheet.name, "title": f"Contact sheet · {job.job_id}"},
                    {"file": str(preview), "filename": preview.name, "title": f"Dailies · {job.job_id}"},
                ],
            )

    def _proxies(self, job: Job, listed: list[ObjectInfo], folder: Path) -> list[Path]:
        """The contact sheet's 24 of the listed proxies, spread over the job, downloaded: never the full frames."""
        store = self.services.store
        paths = []
        for item in evenly(listed, 24):
            path = under(folder / "proxies", item.key.rsplit("/", 1)[-1], "A preview's name")
            store.download(job.output_bucket, item.key, path)
            paths.append(path)
        return paths
