"""The one composition root: every service is built here from `Settings`, and nowhere else.

The bot, every Lambda handler, the CLI, the local supervisor and the tests ask `Services` for what they need. Each
part is built the first time it is asked for, so the Slack ack path never imports boto3, and a handler builds only
the parts it uses. A test (or the CLI) may hand in any part ready-made: `Services(settings, queue=recording_queue)`.
A container's Slack notifier, render worker and render node are built here too, each importing the bot or
`blender_image` inside the function that builds it: a zip function never loads bpy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache, cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.config import Settings

if TYPE_CHECKING:
    from backend.aws.s3 import S3Store
    from backend.budgets.guard import BudgetGuard
    from backend.budgets.provider import AwsBudgets
    from backend.budgets.service import BudgetService
    from backend.render.announce import Announcer
    from backend.render.desk import JobDesk
    from backend.render.fanout import Fanout
    from backend.render.job_life import JobLifecycle
    from backend.render.lanes import LaneQueues
    from backend.render.links import Links
    from backend.render.outbox import Outbox
    from backend.render.ports import EventPublisher, JobStore, NodeLauncher, NodePrices, TaskQueue
    from backend.render.store.roster import NodeRoster
    from backend.render.submit import SubmissionService
    from backend.workstations.asking import SessionAsker
    from backend.workstations.ec2 import Ec2Workstations
    from backend.workstations.keepalive import KeepAlive
    from backend.workstations.leases import DynamoLeases
    from backend.workstations.service import WorkstationService
    from blender_image.node import RenderNode
    from blender_image.worker import RenderWorker
    from bot.notifier import SlackNotifier


class Services:
    """The services of one process, each built on first use and shared after."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time, **given: Any) -> None:
        self.settings = settings
        self.clock = clock
        for name, part in given.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"Services has no part called {name!r}")
            self.__dict__[name] = part  # what cached_property would have stored

    def __deepcopy__(self, memo: dict[int, object]) -> Services:
        # Bolt deep-copies the context for each lazy listener: the services (and their AWS clients, which are
        # thread-safe) are shared, not copied per request.
        return self

    # -- adapters ----------------------------------------------------------------------------------------------

    @cached_property
    def store(self) -> S3Store:
        """The scenes and outputs buckets."""
        from backend.aws.s3 import S3Store

        return S3Store()

    @cached_property
    def jobs(self) -> JobStore:
        """The job store (DynamoDB)."""
        from backend.render.store import DynamoJobs

        return DynamoJobs(self.settings.table_name, history_days=self.settings.limits.job_history_days)

    @cached_property
    def events(self) -> EventPublisher:
        """The studio-events topic (SNS)."""
        from backend.aws.sns import SnsPublisher

        return SnsPublisher(self.settings.events_topic_arn)

    @cached_property
    def queue(self) -> TaskQueue:
        """The render queue (SQS)."""
        from backend.aws.sqs import SqsQueue

        return SqsQueue(self.settings.render_queue_url)

    @cached_property
    def gpu_queue(self) -> TaskQueue | None:
        """The `gpu` render class's queue (SQS), read by render nodes; None where none is deployed."""
        from backend.aws.sqs import SqsQueue

        return SqsQueue(self.settings.gpu_queue_url) if self.settings.gpu_queue_url else None

    @cached_property
    def gpu_nodes(self) -> NodeLauncher | None:
        """Starts GPU nodes on AWS Batch (Spot); None where the deployment has no Batch (own machines only)."""
        from backend.aws.batch import BatchNodes

        queue, definition = self.settings.gpu_job_queue, self.settings.gpu_job_definition
        return BatchNodes(queue, definition) if queue else None

    @cached_property
    def gpu_prices(self) -> NodePrices:
        """The Spot price of a GPU node, from EC2's price history (cached an hour), for gpu jobs' estimates."""
        from backend.aws.spot_prices import SpotPrices

        return SpotPrices(self.settings.costs.gpu_fallback_usd_per_hour)

    @cached_property
    def guard(self) -> BudgetGuard:
        """The budget guard (an item in the jobs table)."""
        from backend.budgets.guard import BudgetGuard

        return BudgetGuard(self.settings.table_name, clock=self.clock)

    @cached_property
    def ec2(self) -> Ec2Workstations:
        """The studio's workstations (EC2)."""
        from backend.workstations.ec2 import Ec2Workstations

        return Ec2Workstations()

    @cached_property
    def leases(self) -> DynamoLeases:
        """Workstation session leases (DynamoDB)."""
        from backend.workstations.leases import DynamoLeases

        return DynamoLeases(self.settings.table_name, clock=self.clock)

    @cached_property
    def budget_provider(self) -> AwsBudgets:
        """The account's AWS Budgets."""
        from backend.budgets.provider import AwsBudgets

        return AwsBudgets()

    # -- render ------------------------------------------------------------------------------------------------

    @cached_property
    def fanout(self) -> Fanout:
        """Queues a job's phases and moves it past its gates (probes, Submit, expiry)."""
        from backend.render.fanout import Fanout

        return Fanout(
            self.jobs, self.queue, self.settings, outbox=self.outbox, guard=self.guard, clock=self.clock,
            gpu_queue=self.gpu_queue, gpu_nodes=self.gpu_nodes, lanes=self.lanes,
            gpu_prices=self.gpu_prices if self.settings.gpu_queue_url else None,
        )  # fmt: skip

    @cached_property
    def lanes(self) -> LaneQueues:
        """Each class's priority lanes (SQS); on AWS the scheduler that switches the render function's sources."""
        from backend.aws.event_sources import LambdaEventSources
        from backend.aws.queue_depths import QueueDepths
        from backend.aws.sqs import SqsQueue
        from backend.render.lanes import LaneQueues

        return LaneQueues.of(self.settings, SqsQueue, QueueDepths(), LambdaEventSources())

    @cached_property
    def outbox(self) -> Outbox:
        """Publishes what a job's transitions recorded as to be announced, once per fact; sweeps up the rest."""
        from backend.render.outbox import Outbox

        return Outbox(self.jobs, self.events, clock=self.clock)

    @cached_property
    def lifecycle(self) -> JobLifecycle:
        """Drives each job's life: frames counted, probes followed up, Submit, cancel, the end announced once."""
        from backend.render.job_life import JobLifecycle
        from backend.render.progress import Progress

        progress = Progress(self.jobs, self.events, self.settings.progress_interval_s)
        return JobLifecycle(self.jobs, self.fanout, progress, self.outbox)

    @cached_property
    def reporter(self) -> JobLifecycle:
        """What a render worker (or the dead-letter handler) reports to: the lifecycle."""
        return self.lifecycle

    @cached_property
    def submissions(self) -> SubmissionService:
        """Checks a render request and stores and queues it."""
        from backend.render.submit import SubmissionService

        return SubmissionService(
            self.store, self.jobs, self.fanout, self.settings, clock=self.clock, nodes=self.roster
        )

    @cached_property
    def roster(self) -> NodeRoster:
        """Which render nodes are there (each node keeps its own item fresh)."""
        from backend.render.store.roster import NodeRoster

        return NodeRoster(self.settings.table_name, clock=self.clock)

    @cached_property
    def desk(self) -> JobDesk:
        """The service behind `/render` and `studiobot render`."""
        from backend.render.desk import JobDesk

        access, budgets = self.settings.access, self.budget_provider  # budgets: beside `/render costs`
        return JobDesk(self.jobs, self.submissions, self.lifecycle, access, self.clock, budgets=budgets)

    @cached_property
    def announcer(self) -> Announcer:
        """What the notifier asks before it says anything about a job."""
        from backend.render.announce import Announcer

        return Announcer(self.jobs)

    @cached_property
    def links(self) -> Links:
        """Signs the download links studiobot posts, and answers them when followed (`GET /links/{token}`)."""
        from backend.render.links import Links, signing_key

        settings, local = self.settings.links, self.settings.stage == "local"
        key = partial(signing_key, settings, local)  # read on use: SSM is asked only where a link is made
        return Links(settings, self.settings.outputs_bucket, self.store, key, self.clock)

    # -- workstations ------------------------------------------------------------------------------------------

    @cached_property
    def workstations(self) -> WorkstationService:
        """The service behind `/workstations`, and the expiry sweep."""
        from backend.workstations.service import WorkstationService

        return WorkstationService(
            self.ec2, self.leases, self.events, self.settings.access, clock=self.clock, asker=self.asker
        )

    @cached_property
    def asker(self) -> SessionAsker:
        """Asks workstations who is connected (Systems Manager Run Command), at the moment of stopping them."""
        from backend.workstations.asking import SessionAsker
        from backend.workstations.document import document_name
        from backend.workstations.ssm import SsmCommands

        commands = SsmCommands(document=document_name(self.settings.stage))
        return SessionAsker(commands, self.settings.sessions, clock=self.clock)

    @cached_property
    def keepalive(self) -> KeepAlive:
        """The daily keep-alive's steps."""
        from backend.workstations.keepalive import KeepAlive

        return KeepAlive(self.ec2, self.leases, self.events, asker=self.asker)

    # -- budgets -----------------------------------------------------------------------------------------------

    @cached_property
    def budgets(self) -> BudgetService:
        """The service behind `/budget`, and what `budget_action` does to the jobs still going."""
        from backend.budgets.service import BudgetService, FarmStopper

        stop = FarmStopper(self.settings.budget_action, self.jobs, self.reporter, self.clock)
        return BudgetService(self.budget_provider, self.guard, self.events, self.settings.access, stop)


@cache
def from_env() -> Services:
    """The services of a Lambda container, from its environment, built once per container."""
    return Services(Settings.from_env())


@cache
def slack_notifier() -> SlackNotifier:
    """The notifier of a Lambda container (and its redrive): its services and a Slack client with the bot token."""
    from backend.config import slack_credentials
    from bot.app import web_client
    from bot.notifier import SlackNotifier

    services = from_env()
    return SlackNotifier(web_client(services.settings, slack_credentials().bot_token), services)


@cache
def render_worker() -> RenderWorker:
    """The render worker of a process (a render Lambda's container, a node), built once: it keeps Blender, the open
    scene and the cache warm across tasks. Only here is `blender_image` imported, so no zip function loads it."""
    from blender_image.blender import BlenderRenderer  # bpy loads here, on the first task, not at import
    from blender_image.scene_cache import SceneCache
    from blender_image.worker import RenderWorker

    services, settings = from_env(), from_env().settings
    work_dir = Path(settings.work_dir)
    shot_bytes = settings.limits.max_shot_bytes
    scenes = SceneCache(
        services.store, work_dir / "scenes", settings.scenes_prefix, max_shot_bytes=shot_bytes
    )
    return RenderWorker(
        jobs=services.jobs, reporter=services.reporter, scenes=scenes, renderer=BlenderRenderer(),
        uploader=services.store, work_dir=work_dir, limit_s=settings.render_timeout_s,
        stitch_lease_s=settings.stitch_lease_s,
    )  # fmt: skip


def render_node(render_class: str, name: str, idle_exit_s: float) -> RenderNode | None:
    """A render node taking `render_class`'s tasks with this process's render worker; None where the deployment
    has no queue for that class."""
    import boto3

    from backend.render.store.blocklist import DynamoBlocklist
    from backend.render.tasks import GPU
    from blender_image.node import RenderNode

    services, settings = from_env(), from_env().settings
    queue_url = settings.gpu_queue_url if render_class == GPU else settings.render_queue_url
    if not queue_url:
        return None
    lanes = list(settings.lanes.urls(queue_url, gpu=render_class == GPU).values())  # urgent first
    return RenderNode(
        boto3.client("sqs"), lanes, render_worker(), services.jobs, services.events, name=name,
        render_class=render_class, idle_exit_s=idle_exit_s, limit_s=settings.render_timeout_s,
        blocklist=DynamoBlocklist(settings.table_name),
    )  # fmt: skip
