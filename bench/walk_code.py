"""Where the code each walk (bench/walks.py) drives lives: its imports, one small function per part of a flow.
When modules move, re-point these, and only these; each takes and returns the same things as before the move."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

SECRET, TOKEN = "bench-signing-secret", "xoxb-bench"  # the fake Slack's signing secret and bot token


def embedded_aws() -> tuple[Callable[[], None], Callable[[str | None], Any]]:
    """The embedded stack: moto's fixes, and the deployer of the stack's resources (None: in-process moto)."""
    from local.embedded import moto_patches
    from local.embedded.stack import deploy

    return moto_patches.apply, deploy


def composition_root(settings: Any, **parts: Any) -> Any:
    """The one composition root's services for `settings` (`clock=` and ready-made parts may be handed in)."""
    from entry.wiring import Services

    return Services(settings, **parts)


def fake_slack() -> Any:
    """The loopback fake of Slack's Web API and the signed-request helpers the tests use (tests/fakes/slack.py)."""
    import testing.slack as slack

    return slack


def render_listener(settings: Any, services: Any) -> Any:
    """Flow 1's entry: the Bolt app every Slack entry point serves, whose `/render` listener takes the command."""
    from backend.config import SlackCredentials
    from bot.app import build_app, web_client

    client = web_client(settings, TOKEN)
    return build_app(settings, SlackCredentials(TOKEN, SECRET), client=client, services=services)


def render_worker(services: Any, work_dir: Path) -> Callable[[str], Any]:
    """Flow 2, first half: the render worker (the real one, a stand-in renderer), running one SQS task body."""
    from backend.render.tasks import RenderTask
    from blender_image.scene_cache import SceneCache
    from blender_image.worker import RenderWorker
    from testing.renderer import PillowRenderer

    scenes = SceneCache(services.store, work_dir / "scenes", services.settings.scenes_prefix)
    worker = RenderWorker(
        jobs=services.jobs,
        reporter=services.reporter,
        scenes=scenes,
        renderer=PillowRenderer(),
        uploader=services.store,
        work_dir=work_dir,
    )
    return lambda body: worker.run(RenderTask.from_json(body))


def notifier(settings: Any, services: Any) -> Callable[[str], None]:
    """Flow 2, second half: the notifier Lambda's notifier, handed one SNS message (an event's JSON)."""
    from backend.event_wire import parse_event
    from bot.app import web_client
    from bot.notifier import SlackNotifier

    notifier = SlackNotifier(web_client(settings, TOKEN), services)
    return lambda message: notifier.handle(parse_event(message))


def sweep(settings: Any, clock: Any) -> tuple[Any, Callable[[], Any], dict[str, str]]:
    """Flow 3's entry, the sweep Lambda's call (`Services.workstations.sweep`), and the workstation tags. Run
    Command goes to moto; only what the presence script prints (moto runs nothing) says "nobody connected"."""
    from backend.workstations.asking import Invocation, SessionAsker
    from backend.workstations.document import document_name
    from backend.workstations.ec2 import TAG_NAME, TAG_OWNER
    from backend.workstations.ssm import SsmCommands

    class NobodyConnected(SsmCommands):
        def results(self, command_id: str) -> dict[str, Invocation]:
            output = '{"studiobot_presence": 1, "dcv": true, "connections": [], "idle_s": 600}'
            return {iid: Invocation(i.status, output) for iid, i in super().results(command_id).items()}

    runner = NobodyConnected(document=document_name(settings.stage))
    asker = SessionAsker(runner, clock=clock, sleep=clock.sleep)
    services = composition_root(settings, clock=clock, asker=asker)
    return services, services.workstations.sweep, {"name": TAG_NAME, "owner": TAG_OWNER}
