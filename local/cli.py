"""`studiobot`: run the embedded local stack and use it with the same words as Slack's `/render`."""

from __future__ import annotations

import dataclasses
import getpass
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import boto3
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backend.aws.s3 import S3Store
from backend.budgets.grammar import parse_budget
from backend.commands import render_subcommand
from backend.config import CLI_CHANNEL, Access, Settings
from backend.errors import StudiobotError
from backend.events import JobApproved, JobCompleted, JobEstimated, parse_event
from backend.render.grammar import parse_render
from backend.render.ports import JobQueries
from backend.render.previews import contact_sheet
from backend.render.records import JobStatus
from backend.render.submit import Submission
from backend.wiring import Services
from backend.workstations.grammar import parse_workstations
from bot.messages import message_text
from local.stack import REPO_ROOT, StackInfo, event_feed, use_local_aws
from local.supervisor import home, read_state

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console(highlight=False)
SAMPLE_SCENE = Path(".studiobot") / "samples" / "turntable.blend"
CLI_USER = f"cli:{getpass.getuser()}"
DEMO_SETTINGS = ("--res", "480x270", "--samples", "8")  # a preview that renders in well under a minute


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]✗[/red] {message}")
    return typer.Exit(code=1)


def _stack() -> StackInfo:
    state = read_state()
    if state is None:
        raise _fail("The local stack is not running: start it with `studiobot up`.")
    info = StackInfo(**state["stack"])
    use_local_aws(info.endpoint)
    return info


@app.command()
def up(
    workers: Annotated[int, typer.Option(help="Render worker processes.")] = os.cpu_count() or 1,
    foreground: Annotated[bool, typer.Option(help="Stay attached and print every channel message.")] = False,
    visibility_timeout: Annotated[
        int, typer.Option(help="Seconds before a silent worker's task is retried.")
    ] = 120,
) -> None:
    """Start moto as AWS on 127.0.0.1, deploy the resources, start the workers."""
    state = read_state()
    if state is not None:
        console.print(f"The local stack is already up (AWS at {state['stack']['endpoint']}).")
        return
    command = [
        sys.executable,
        "-m",
        "local.supervisor",
        "--workers",
        str(workers),
        "--visibility-timeout",
        str(visibility_timeout),
    ]
    if foreground:
        os.execv(sys.executable, command)
    log_path = home() / "stack.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=log,
            cwd=REPO_ROOT,
            start_new_session=True,
            env={**os.environ, "STUDIOBOT_HOME": str(home().resolve())},
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = read_state()
        if state is not None and state.get("ready"):
            console.print(
                f"[green]✓[/green] Local stack up: AWS (moto, in memory) at {state['stack']['endpoint']}, "
                f"{workers} render worker(s). Log: {log_path}"
            )
            return
        if process.poll() is not None:
            raise _fail(f"The local stack did not start (exit {process.returncode}): see {log_path}.")
        time.sleep(0.2)
    process.terminate()
    raise _fail(f"The local stack did not start within 2 minutes: see {log_path}.")


@app.command()
def down() -> None:
    """Stop the local stack (workers finish the frame in hand; moto's in-memory state is dropped)."""
    state = read_state()
    if state is None:
        console.print("The local stack is not running.")
        return
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not _alive(pid):
            console.print("[green]✓[/green] Local stack stopped.")
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    console.print("The local stack did not stop in time and was killed.")


def _alive(pid: int) -> bool:
    """True while the process runs (a finished child of ours is reaped, not mistaken for alive)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: `studiobot up` ran in another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Render: `studiobot render SCENE FRAMES [--res WxH] [--samples N] [--engine E] [--format F] "
    "[--chunk N] [--assets PREFIX] [--dry-run]`; SCENE is a key in the scenes bucket or a local .blend file.",
)
def render(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where finished frames are downloaded.")] = Path(
        "renders"
    ),
) -> None:
    info = _stack()
    # The person at the terminal runs this farm: the budget guard does not hold their renders.
    settings = _as_operator(info.settings())
    words = list(ctx.args)
    if render_subcommand(words):
        _subcommand(words, info, settings, out)
        return
    try:
        request = parse_render(words, settings.limits)
    except StudiobotError as error:
        raise _fail(str(error)) from None
    services = Services(settings)
    store = services.store
    local_scene = Path(request.scene)
    if local_scene.suffix == ".blend" and local_scene.is_file():
        key = f"{settings.scenes_prefix}{local_scene.name}"
        store.upload(local_scene, settings.scenes_bucket, key)
        console.print(f"Uploaded {local_scene} to s3://{settings.scenes_bucket}/{key}")
        request = dataclasses.replace(request, scene=key)
    _submit_and_watch(
        info,
        services,
        out,
        lambda: services.submissions.submit(request, requested_by=CLI_USER, channel=CLI_CHANNEL),
    )


def _submit_and_watch(
    info: StackInfo, services: Services, out: Path, submit: Callable[[], Submission]
) -> None:
    """Submit, show progress until the job ends, print the channel's notice, download frames and contact sheet."""
    jobs = services.jobs
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    # Subscribed before submitting, so the completion notice cannot be missed.
    with event_feed(sqs, sns, info.events_topic_arn, f"studiobot-cli-{uuid.uuid4().hex[:8]}") as events_url:
        try:
            submission = submit()
        except StudiobotError as error:
            raise _fail(str(error)) from None
        if submission.job is None:
            console.print("[bold]Dry run[/bold]: nothing was queued. This is what would run:")
            console.print(submission.describe())
            return
        job = submission.job
        if job.status is JobStatus.AWAITING_APPROVAL:
            console.print(
                f"Render [bold]{job.job_id}[/bold] waits for {'an admin' if job.approval == 'admin' else 'you'} "
                f"to submit it ({job.approval_reason}): `studiobot render submit {job.job_id}`."
            )
            return
        console.print(f"Render [bold]{job.job_id}[/bold] queued: {submission.describe()}")
        completed = _watch(jobs, sqs, events_url, job.job_id, job.total)
    _finished(services.store, out, completed)


def _finished(store: S3Store, out: Path, completed: JobCompleted | None) -> None:
    """Print the channel's notice and download the frames, unless the job stopped to wait for Submit."""
    if completed is None:
        return
    console.print(f"#renders ▸ {message_text(completed)}")
    folder = _download(store, completed, out)
    if folder is not None:
        console.print(f"Frames and contact sheet: [bold]{folder}[/bold]")


def _as_operator(settings: Settings) -> Settings:
    """On the local stack the person at the terminal is its operator: an admin of every job and workstation."""
    return dataclasses.replace(settings, access=Access(admins=frozenset({CLI_USER})))


def _answered_without_work(
    immediate_answer: Callable[[dict[str, Any], Settings], tuple[str, Any] | None],
    words: list[str],
    settings: Settings,
) -> bool:
    """Print what Slack's ack would say (help, a mistake); a mistake exits 1. False when there is work to do."""
    command = {"user_id": CLI_USER, "channel_id": CLI_CHANNEL, "text": shlex.join(words)}
    answer = immediate_answer(command, settings)
    if answer is None:
        return False
    console.print(answer[0], markup=False)
    if words[:1] and words[0].lower() != "help":
        raise typer.Exit(code=1)
    return True


def _subcommand(words: list[str], info: StackInfo, settings: Settings, out: Path) -> None:
    """`status`, `list`, `cancel`, `retry`, `help`: the very functions behind Slack's `/render`, printed here."""
    from bot.listeners.commands import render as slash
    from bot.messages.render import job_list

    settings = _as_operator(settings)
    if _answered_without_work(slash.immediate_answer, words, settings):
        return
    services = Services(settings)

    def respond(text: str = "", **_: Any) -> None:
        console.print(text, markup=False)

    sub = words[0].lower()
    try:
        if sub == "status":
            slash.status_reply(respond, services, CLI_USER, CLI_CHANNEL, words[1] if len(words) > 1 else None)
        elif sub == "list":
            console.print(job_list(services.jobs.recent(CLI_CHANNEL), CLI_USER, time.time())[0], markup=False)
        elif sub == "cancel":
            slash.cancel_job(respond, services, CLI_USER, words[1])
        elif sub == "submit":
            jobs = services.jobs
            sqs, sns = boto3.client("sqs"), boto3.client("sns")
            with event_feed(sqs, sns, info.events_topic_arn, f"studiobot-cli-{uuid.uuid4().hex[:8]}") as url:
                slash.submit_job(respond, services, CLI_USER, words[1])
                job = jobs.get(words[1])
                completed = _watch(jobs, sqs, url, job.job_id, job.total)
            _finished(services.store, out, completed)
        elif sub == "retry":
            _submit_and_watch(
                info, services, out, lambda: services.desk.retry(CLI_USER, CLI_CHANNEL, words[1])[1]
            )
    except StudiobotError as error:
        raise _fail(str(error)) from None


def _watch(jobs: JobQueries, sqs: Any, events_url: str, job_id: str, total: int) -> JobCompleted | None:
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
        while True:
            job = jobs.get(job_id)
            progress.update(
                bar,
                completed=job.done + job.failed,
                failed=f"[red]{job.failed} failed[/red]" if job.failed else "",
            )
            response = sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in response.get("Messages", []):
                event = parse_event(message["Body"])
                if isinstance(event, JobCompleted) and event.job_id == job_id:
                    progress.update(bar, completed=event.done + event.failed)
                    return event
                if isinstance(event, JobEstimated) and event.job_id == job_id:
                    progress.console.print(message_text(event), markup=False)
                    if event.approval:
                        now = jobs.get(job_id)
                        progress.update(bar, completed=now.done + now.failed)
                        progress.console.print(f"Here: `studiobot render submit {job_id}` submits it.")
                        return None
                if isinstance(event, JobApproved) and event.job_id == job_id:
                    progress.console.print(message_text(event), markup=False)


def _download(store: S3Store, event: JobCompleted, out: Path) -> Path | None:
    objects = store.list_prefix(event.output_bucket, event.output_prefix)
    if not objects:
        return None
    folder = out / event.job_id
    frames = []
    for item in sorted(objects, key=lambda item: item.key):
        path = folder / item.key.rsplit("/", 1)[-1]
        store.download(event.output_bucket, item.key, path)
        frames.append(path)
    pictures = [path for path in frames if path.suffix in (".png", ".jpg")]
    if pictures:
        sheet = contact_sheet(pictures, folder / "contact_sheet.png")
        console.print(f"Contact sheet: {sheet}")
    return folder


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Workstations, with the words of Slack's `/workstations`: status | start NAME | stop NAME | "
    "keepalive NAME on|off | extend NAME 4h | help.",
)
def workstations(ctx: typer.Context) -> None:
    from bot.listeners.commands import workstations as slash

    settings = _as_operator(_stack().settings())
    if _answered_without_work(slash.immediate_answer, ctx.args, settings):
        return
    try:
        text, shown = slash.run(Services(settings), parse_workstations(ctx.args), CLI_USER)
    except StudiobotError as error:
        raise _fail(str(error)) from None
    console.print(shown[0]["text"]["text"].strip("`\n") if shown else text, markup=False)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Budgets, with the words of Slack's `/budget`: status | guard on [WHY] | guard off | help. "
    "The local stack's operator is an admin.",
)
def budget(ctx: typer.Context) -> None:
    from bot.listeners.commands import budget as slash

    settings = _as_operator(_stack().settings())
    if _answered_without_work(slash.immediate_answer, ctx.args, settings):
        return
    try:
        text, _ = slash.run(Services(settings), parse_budget(ctx.args), CLI_USER)
    except StudiobotError as error:
        raise _fail(str(error)) from None
    console.print(text, markup=False)


keepalive_app = typer.Typer(help="The daily keep-alive, on demand.", no_args_is_help=True)
app.add_typer(keepalive_app, name="keepalive")


@keepalive_app.command("run")
def keepalive_run(
    wait: Annotated[
        int, typer.Option(help="Seconds between starting and stopping (the schedule uses 1200).")
    ] = 1200,
) -> None:
    """Run the keep-alive's steps in the state machine's order: start due sessions, wait, stop those, report."""
    keep = Services(_stack().settings()).keepalive
    started = keep.start_due()
    console.print(f"Started {len(started.started)} workstation(s); waiting {wait} s before stopping them…")
    time.sleep(wait)
    report = keep.report(started.started, keep.stop_started(started.started))
    console.print(message_text(report) or "", markup=False)


@app.command()
def sample(path: Annotated[Path, typer.Argument()] = SAMPLE_SCENE) -> None:
    """Build the bundled sample scene (24 frames, no downloaded assets) with bpy."""
    subprocess.run(
        [sys.executable, "-m", "blender_image.sample.build_sample_scene", str(path.resolve())],
        check=True,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
    )
    console.print(f"Sample scene: {path}")


@app.command()
def demo(
    workers: Annotated[int, typer.Option(help="Render worker processes.")] = os.cpu_count() or 1,
) -> None:
    """Start the stack, render the sample scene's 24 frames, download them with a contact sheet, stop the stack."""
    if not SAMPLE_SCENE.exists():
        sample(SAMPLE_SCENE)
    started_here = read_state() is None
    if started_here:
        up(workers=workers, foreground=False, visibility_timeout=120)
    try:
        command = [sys.executable, "-m", "local.cli", "render", str(SAMPLE_SCENE), "1-24", *DEMO_SETTINGS]
        if subprocess.run(command).returncode != 0:
            raise typer.Exit(code=1)
    finally:
        if started_here:
            down()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
