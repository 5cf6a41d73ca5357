"""`studiobot`'s commands: the local stack (up, down, sample, demo), workstations, budgets and the keep-alive; `render` is
in `local/cli/render.py`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from backend.errors import StudiobotError
from backend.render.blenders import DEFAULT_BLENDER, parse_versions
from bot.messages import message_text
from entry.wiring import Services
from local.blender_envs import UnknownBlender, ensure
from local.cli.desk import message_blocks_text, run_words
from local.cli.render import RENDER_CONTEXT, RENDER_HELP, render
from local.cli.ship import upload
from local.cli.terminal import (
    app,
    as_operator,
    console,
    fail,
    run_guarded,
    say,
    stack,
)
from local.deployer.doctor import doctor
from local.embedded import persistence, unsaved
from local.embedded.stack import REPO_ROOT, StackInfo
from local.embedded.supervisor import home, read_state, state_folder

SAMPLE_SCENE = Path(".studiobot") / "samples" / "turntable.blend"
DEMO_SETTINGS = ("--res", "480x270", "--samples", "8")  # a preview that renders in well under a minute


@app.command()
def up(
    workers: Annotated[int, typer.Option(help="Render worker processes.")] = os.cpu_count() or 1,
    foreground: Annotated[bool, typer.Option(help="Stay attached and print every channel message.")] = False,
    visibility_timeout: Annotated[
        int, typer.Option(help="Seconds before a silent worker's task is retried.")
    ] = 120,
    nodes: Annotated[int, typer.Option(help="Render nodes (`studiobot node`) on the --class queue.")] = 0,
    node_class: Annotated[str, typer.Option("--class", help="The render class the nodes serve.")] = "gpu",
    blender: Annotated[
        str,
        typer.Option(
            help="The Blenders to render with, a worker pool each: `4.5,5.0` (4.5 LTS installs once)."
        ),
    ] = DEFAULT_BLENDER,
) -> None:
    """Start moto as AWS on 127.0.0.1, deploy the resources, bring back the last run's state, start the workers."""
    state = read_state()
    if state is not None:
        console.print(f"The local stack is already up (AWS at {state['stack']['endpoint']}).")
        return
    try:
        blenders = parse_versions(blender)
        for version in blenders:  # each in its own environment, made here with a progress bar the first time
            ensure(version, console=console)
    except (StudiobotError, UnknownBlender) as error:
        raise fail(str(error)) from error
    command = [
        sys.executable,
        "-m",
        "local.embedded.supervisor",
        "--workers",
        str(workers),
        "--visibility-timeout",
        str(visibility_timeout),
        "--nodes",
        str(nodes),
        "--class",
        node_class,
        "--blender",
        ",".join(blenders),
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
            kept = f"; {state['kept']}" if state.get("kept") else ""
            console.print(
                f"✓ Local stack up: AWS (moto) at {state['stack']['endpoint']}, {workers} render worker(s). "
                f"State: {state['state']}{kept}. Log: {log_path}",
                markup=False,
            )
            if state.get("unsaved"):
                console.print(f"✗ {state['unsaved']}", markup=False)
            return
        if process.poll() is not None:
            raise fail(f"The local stack did not start (exit {process.returncode}): see {log_path}.")
        time.sleep(0.2)
    process.terminate()
    raise fail(f"The local stack did not start within 2 minutes: see {log_path}.")


@app.command()
def down(
    forget: Annotated[
        bool,
        typer.Option(
            "--forget", help="Also delete the kept state (jobs, scenes, frames): the next `up` starts empty."
        ),
    ] = False,
) -> None:
    """Stop the local stack (workers finish the frame in hand; its state is kept for the next `up`)."""
    state = read_state()
    in_time = state is None or _stop(int(state["pid"]))
    not_saved = None if forget else unsaved.read(state_folder())
    if state is None:
        console.print("The local stack is not running.")
    elif not in_time:
        console.print("The local stack did not stop in time and was killed (its last snapshot is kept).")
    elif not_saved is not None:
        console.print("Local stack stopped.")
    elif forget:
        console.print("[green]✓[/green] Local stack stopped.")
    else:
        console.print("[green]✓[/green] Local stack stopped; its state is saved for the next `studiobot up`.")
    if not_saved is not None:
        console.print(f"✗ {not_saved.sentence()}", markup=False)
    if forget and persistence.forget(state_folder()):
        console.print(f"Forgot the kept state ({state_folder()}): the next `studiobot up` starts empty.")


def _stop(pid: int) -> bool:
    """Stop the stack; False when it had to be killed."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    return False


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


app.command(context_settings=RENDER_CONTEXT, help=RENDER_HELP)(
    render
)  # `studiobot render …` lives in local/cli/render.py
app.command()(upload)  # `studiobot upload SHOT.blend` lives in local/cli/ship.py
app.command()(doctor)  # `studiobot doctor` lives in local/deployer/doctor.py


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Workstations, with the words of Slack's `/workstations`: status | start NAME | stop NAME | "
    "keepalive NAME on|off | extend NAME 4h | help.",
)
def workstations(ctx: typer.Context) -> None:
    from bot.listeners.commands.workstations import WORKSTATIONS

    run_words(WORKSTATIONS, ctx.args, as_operator(stack().settings()), shown=message_blocks_text)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Budgets, with the words of Slack's `/budget`: status | guard on [WHY] | guard off | help. "
    "The local stack's operator is an admin.",
)
def budget(ctx: typer.Context) -> None:
    from bot.listeners.commands.budget import BUDGET

    run_words(BUDGET, ctx.args, as_operator(stack().settings()))


keepalive_app = typer.Typer(help="The daily keep-alive, on demand.", no_args_is_help=True)
app.add_typer(keepalive_app, name="keepalive")


@keepalive_app.command("run")
def keepalive_run(
    wait: Annotated[
        int, typer.Option(help="Seconds between starting and stopping (the schedule uses 1200).")
    ] = 1200,
) -> None:
    """Run the keep-alive's steps in the state machine's order: start due sessions, wait, stop those, report."""
    keep = Services(stack().settings()).keepalive
    started = keep.start_due()
    console.print(f"Started {len(started.started)} workstation(s); waiting {wait} s before stopping them…")
    time.sleep(wait)
    report = keep.report(started.started, keep.stop_started(started.started))
    say(message_text(report) or "")


@app.command()
def node(
    render_class: Annotated[
        str, typer.Option("--class", help="The render class whose queue it serves.")
    ] = "gpu",
    idle_exit: Annotated[
        float, typer.Option(help="Leave after this many seconds with the queue empty (0: never).")
    ] = 300,
) -> None:
    """Run a render node on this machine: it takes the class's tasks (an artist's GPU workstation joins overnight).
    With the local stack up it serves the local stack; otherwise the AWS account its credentials reach."""
    from entry.node import main as run_node

    state = read_state()
    if state is not None:
        os.environ.update({**StackInfo(**state["stack"]).environ(), "AWS_EC2_METADATA_DISABLED": "true"})
    raise typer.Exit(run_node(["--class", render_class, "--idle-exit", str(idle_exit)]))


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
        command = [
            sys.executable,
            "-m",
            "local.cli.main",
            "render",
            str(SAMPLE_SCENE),
            "1-24",
            *DEMO_SETTINGS,
        ]
        if subprocess.run(command).returncode != 0:
            raise typer.Exit(code=1)
    finally:
        if started_here:
            down()


def main() -> None:
    """The `studiobot` script: every command, and never a traceback in the terminal (`local.cli.terminal`)."""
    run_guarded(app)


if __name__ == "__main__":
    main()
