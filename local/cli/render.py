"""`studiobot render …`: submit, watch the bar, print the channel's notice, download the frames."""

from __future__ import annotations

import dataclasses
import os
import shlex
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

import boto3
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from backend.aws.s3 import S3Store
from backend.commands import Caller, Refused, Reply
from backend.config import Settings
from backend.errors import StudiobotError
from backend.event_wire import parse_event
from backend.events import JobApproved, JobCompleted, JobEstimated, NodesNotStarted
from backend.names import under
from backend.render.desk_replies import DryRun, JobSent, MovieAsked, RetrySent, StatusShown
from backend.render.grammar import JobCommand, RenderCommand, RenderJob, parse_render, render_subcommand
from backend.render.layer_previews import is_layer_proxy, layer_rows, layered_sheet
from backend.render.links import LinkSettings
from backend.render.ports import JobQueries
from backend.render.previews import contact_sheet
from backend.render.queue_position import ActiveJobs, position_of
from backend.render.records import JobStatus
from backend.render.tasks import PROXIES
from bot.messages import message_text
from bot.messages.job_facts import facts_lines, facts_text
from bot.messages.queue import queue_line
from bot.messages.render_completion import failure_lines
from bot.messages.render_plan import plan_text
from bot.messages.render_replies import render_message
from bot.messages.text import plain
from entry.wiring import Services
from local.cli.desk import parsed_or_answered, terminal_caller
from local.cli.movie import finished_movie, write_movie
from local.cli.ship import ship
from local.cli.terminal import as_operator, console, fail, say, stack
from local.embedded.links import links_env
from local.embedded.stack import CLI_FEED_PREFIX, STACK_GONE, StackInfo, event_feed
from local.embedded.supervisor import home

RENDER_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}  # the words are Slack's
RENDER_HELP = (
    "Render: `studiobot render SCENE FRAMES [--res WxH] [--samples N] [--engine E] [--format F] "
    "[--chunk N] [--tiles 4x4|auto] [--on cpu|gpu] [--priority urgent|normal|low] [--blender 4.5|5.0] [--assets PREFIX] [--allow-missing] "
    "[--dry-run] [--as NAME]`; "
    "SCENE is a key in the scenes bucket or a local .blend file, shipped with every file it uses (as NAME, e.g. "
    "projB/sh010, instead of its folder's name)."
)


def render(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where finished frames are downloaded.")] = Path(
        "renders"
    ),
) -> None:
    """Submit a render (or a subcommand: status, list, cancel, retry, submit, costs, movie, help) with `/render`'s
    words."""
    info = stack()
    # The person at the terminal runs this farm: the budget guard does not hold their renders.
    settings = as_operator(info.settings())
    words = list(ctx.args)
    if render_subcommand(words):
        _subcommand(words, info, settings, out)
        return
    words, name = _shot_name(words)
    try:
        request = parse_render(words, settings.limits)
    except StudiobotError as error:
        raise fail(str(error)) from None
    services = Services(settings)
    local_scene = Path(request.scene)
    if local_scene.suffix == ".blend" and local_scene.is_file():
        # A shot, not a file: the .blend and everything it uses, checked before anything is sent or queued.
        typed = shlex.join(["studiobot", "render", *words])
        shipped = ship(settings, local_scene, allow_missing=request.allow_missing, name=name, command=typed)
        request = dataclasses.replace(request, scene=shipped.scene_key)
    elif name:
        raise fail(
            f"`--as {name}` names a local shot as it is shipped, and `{request.scene}` is not a .blend file here: "
            f"give the shot's .blend (`studiobot render shots/sh010/shot.blend 1-24 --as {name}`), or the name it "
            f"was shipped as (`studiobot render {name}/shot.blend 1-24`)."
        )
    command = RenderJob(request)
    _submit_and_watch(info, services, out, lambda: services.desk.run(command, terminal_caller(words)))


def _shot_name(words: list[str]) -> tuple[list[str], str]:
    """The words without `--as NAME` (the shot's name in the bucket, as `upload --as` takes it), and the name."""
    for index, word in enumerate(words):
        if word == "--as" or word.startswith("--as="):
            name = (
                word.partition("=")[2]
                if "=" in word
                else (words[index + 1] if index + 1 < len(words) else "")
            )
            if not name or name.startswith("--"):
                raise fail("`--as` needs the shot's name in the bucket, e.g. `--as projB/sh010`.")
            rest = words[:index] + words[index + (1 if "=" in word else 2) :]
            return rest, name
    return words, ""


def _submit_and_watch(info: StackInfo, services: Services, out: Path, submit: Callable[[], Reply]) -> None:
    """Submit (a render or a retry), show progress until the job ends, print the channel's notice, download frames
    and contact sheet."""
    jobs = services.jobs
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    # Subscribed before submitting, so the completion notice cannot be missed.
    with event_feed(sqs, sns, info.events_topic_arn, _feed_name()) as events_url:
        try:
            reply = submit()
        except StudiobotError as error:
            raise fail(str(error)) from None
        if isinstance(reply, DryRun):
            console.print("[bold]Dry run[/bold]: nothing was queued. This is what would run:")
            say(plan_text(reply.plan))
            return
        if not isinstance(reply, JobSent | RetrySent):  # a refusal: said as Slack says it
            raise fail(render_message(reply, services.settings.costs)[0])
        job = reply.job
        if job.status is JobStatus.AWAITING_APPROVAL:
            console.print(
                f"Render [bold]{job.job_id}[/bold] waits for {'an admin' if job.approval == 'admin' else 'you'} "
                f"to submit it ({job.approval_reason}): `studiobot render submit {job.job_id}`."
            )
            return
        plan = f": {escape(plain(plan_text(reply.plan)))}" if reply.plan is not None else ""
        console.print(f"Render [bold]{job.job_id}[/bold] queued{plan}")
        completed = _watch(jobs, sqs, events_url, job.job_id, job.total)
    _finished(services.store, out, completed)


def _feed_name() -> str:
    """A queue of its own for this command's events (`local.embedded.persistence` drops those of an earlier run)."""
    return f"{CLI_FEED_PREFIX}{uuid.uuid4().hex[:8]}"


def _finished(store: S3Store, out: Path, completed: JobCompleted | None) -> None:
    """Print the channel's notice and download the frames, unless the job stopped to wait for Submit."""
    if completed is None:
        return
    services = Services(stack().settings())
    reasons = services.announcer.failures(completed.job_id) if completed.failed else {}
    facts = facts_text(services.jobs.get(completed.job_id))
    say(f"#renders ▸ {message_text(completed)}{failure_lines(reasons)}{facts}")
    folder = _download(store, completed, out)
    if folder is not None:
        movie = ", movie" if finished_movie(services, completed.job_id, out) else ""
        sheet = f"{movie} and contact sheet" if (folder / "contact_sheet.png").exists() else movie
        console.print(f"Frames{sheet}: [bold]{folder}[/bold]")


def _subcommand(words: list[str], info: StackInfo, settings: Settings, out: Path) -> None:
    """`status`, `list`, `cancel`, `retry`, `submit`, `help`: the render desk's answers, as Slack shows them; a
    submitted or retried job is followed to its end."""
    from bot.listeners.commands.render import RENDER

    # Links it prints (`status`) are signed with the stack's key and point at its bot server.
    links = LinkSettings.from_env({**os.environ, **links_env(home(), os.environ)})
    settings = dataclasses.replace(as_operator(settings), links=links)
    try:
        command = parsed_or_answered(RENDER, words, settings)
    except StudiobotError as error:
        raise fail(str(error)) from None
    if command is None:
        return
    services, caller = Services(settings), terminal_caller(words)
    if isinstance(command, JobCommand) and command.action == "retry":
        _submit_and_watch(info, services, out, lambda: services.desk.run(command, caller))
        return
    if isinstance(command, JobCommand) and command.action == "submit":
        jobs = services.jobs
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        with event_feed(sqs, sns, info.events_topic_arn, _feed_name()) as url:
            _say(services, _run(services, command, caller))
            assert command.job_id is not None  # the grammar asks for it
            job = jobs.get(command.job_id)
            completed = _watch(jobs, sqs, url, job.job_id, job.total)
        _finished(services.store, out, completed)
        return
    reply = _run(services, command, caller)
    _say(services, reply)
    if isinstance(reply, MovieAsked):  # `render movie JOB`: into `renders/<job>/`, as the frames are
        console.print(f"Movie: [bold]{write_movie(services, reply, out).path}[/bold]")


def _run(services: Services, command: RenderCommand, caller: Caller) -> Reply:
    """The desk's answer; our errors as their sentence (exit 1)."""
    try:
        return services.desk.run(command, caller)
    except StudiobotError as error:
        raise fail(str(error)) from None


def _say(services: Services, reply: Reply) -> None:
    """Print a reply as Slack shows it to whoever asked (a status with its download link)."""
    from bot.listeners.commands.render import status_answer

    if isinstance(reply, StatusShown):
        say(status_answer(services, reply)[0])
    elif isinstance(reply, Refused):  # what the operator may not do: said, and exit 1
        raise fail(reply.text)
    else:
        say(render_message(reply, services.settings.costs)[0])


class WatchedJobs(JobQueries, ActiveJobs, Protocol):
    """What the watch reads: the job, and its class's active jobs (what is ahead of it)."""


def _watch(jobs: WatchedJobs, sqs: Any, events_url: str, job_id: str, total: int) -> JobCompleted | None:
    """A live progress bar from the job record, until this job's JobCompleted event arrives (None: the job
    waits for Submit, and the way to give it is printed)."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(f"Rendering {job_id}", total=total, failed="")
        try:
            return _follow(jobs, sqs, events_url, job_id, progress, bar)
        except STACK_GONE:
            progress.stop()
            raise fail(
                f"The local stack went away while watching job `{job_id}`: the job is kept and carries on after "
                f"`studiobot up` (`studiobot render status {job_id}` shows it)."
            ) from None


def _follow(
    jobs: WatchedJobs, sqs: Any, events_url: str, job_id: str, progress: Progress, bar: TaskID
) -> JobCompleted | None:
    """Update the bar until the job's JobCompleted arrives (None: it waits for Submit), each event told once and
    each of the job's facts (`bot.messages.job_facts`: re-planned tiles, the device) as it becomes true."""
    told: list[str] = []
    # What is ahead of it is said once, as the watch begins (`studiobot render status JOB` says it fresh).
    first = True
    while True:
        job = jobs.get(job_id)
        if first and (line := queue_line(position_of(job, jobs, time.time()))):
            progress.console.print(plain(line), markup=False)
        first = False
        progress.update(
            bar,
            completed=job.done + job.failed,
            failed=f"[red]{job.failed} failed[/red]" if job.failed else "",
        )
        for fact in facts_lines(job):
            if fact not in told:
                told.append(fact)
                progress.console.print(plain(fact), markup=False)
        response = sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            # Read once: left on the queue, SQS would hand it over again when its visibility timeout ran out.
            sqs.delete_message(QueueUrl=events_url, ReceiptHandle=message["ReceiptHandle"])
            event = parse_event(message["Body"])
            if isinstance(event, JobCompleted) and event.job_id == job_id:
                progress.update(bar, completed=event.done + event.failed)
                return event
            text = plain(message_text(event) or "")
            if not isinstance(event, JobEstimated | JobApproved | NodesNotStarted):
                continue
            if event.job_id != job_id or text in told:
                continue
            told.append(text)
            progress.console.print(text, markup=False)
            if isinstance(event, JobEstimated) and event.approval:
                now = jobs.get(job_id)
                progress.update(bar, completed=now.done + now.failed)
                progress.console.print(f"Here: `studiobot render submit {job_id}` submits it.")
                return None


def _download(store: S3Store, event: JobCompleted, out: Path) -> Path | None:
    """The job's frames into `out/<job>/`, and a contact sheet made from their proxies (EXR jobs too)."""
    objects = store.list_prefix(event.output_bucket, event.output_prefix)
    if not objects:
        return None
    folder = under(out, event.job_id, "The job's id")
    prefix = event.output_prefix + PROXIES
    layers = layer_rows((item.key for item in objects), prefix)  # a multilayer job's rows, one per view layer
    with tempfile.TemporaryDirectory(prefix="studiobot-proxies-") as scratch:
        proxies = []
        for item in sorted(objects, key=lambda item: item.key):
            if is_layer_proxy(item.key, prefix):
                continue  # only a few of each layer's, for the sheet, below
            relative = item.key.removeprefix(event.output_prefix)
            is_proxy = relative.startswith(PROXIES)  # only for the sheet: the folder holds the frames
            path = under(Path(scratch) if is_proxy else folder, relative.rsplit("/", 1)[-1], "A frame's name")
            store.download(event.output_bucket, item.key, path)
            if is_proxy:
                proxies.append(path)
        if proxies:
            sheet = folder / "contact_sheet.png"
            if layers:
                layered_sheet(store, event.output_bucket, layers, Path(scratch) / "layers", sheet)
            else:
                contact_sheet(proxies, sheet)
            console.print(f"Contact sheet: {sheet}")
    return folder
