"""A render node that keeps failing one job's tasks (moto SQS and DynamoDB): after 3 failures it is on the job's
blocklist, hands the job's tasks back at once for another node to render, says so once on its console, and the job's
thread hears it once (with the words for a farm whose every node is blocked)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.events import NodeBlocked
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.store.blocklist import DynamoBlocklist, NodeFailures
from backend.render.store.roster import NodeRoster
from blender_image.node import RenderNode
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.renderer import PillowRenderer
from testing.slack import FakeSlack

from .conftest import Stack

FRAMES = list(range(1, 9))


def _node(
    stack: Stack, folder: Path, renderer: PillowRenderer, name: str, said: list[str], idle_exit_s: float = 0.5
) -> RenderNode:
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, folder / name / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=folder / name,
    )
    return RenderNode(
        stack.sqs,
        stack.settings.gpu_queue_url,
        worker,
        stack.jobs,
        Services(stack.settings, store=stack.store, jobs=stack.jobs).events,
        name=name,
        render_class="gpu",
        idle_exit_s=idle_exit_s,
        visibility_s=60,
        wait_s=0,
        blocklist=DynamoBlocklist(stack.settings.table_name),
        say=said.append,
        retry_after_s=0,  # a failed task is back at once (30 s on a farm)
    )


def _submit(stack: Stack, *nodes: str) -> str:
    stack.put_scene()
    for node in nodes:
        NodeRoster(stack.settings.table_name).seen("gpu", node)
    job = stack.service.submit(
        parse_render(split_words("shot.blend 1-8 --res 32x18 --on gpu")), requested_by="U1", channel="C1"
    ).job
    assert job is not None
    return job.job_id


def test_a_node_that_failed_3_tasks_of_a_job_takes_no_more_and_another_node_renders_them(
    stack: Stack, tmp_path: Path
) -> None:
    job_id = _submit(stack, "bad-node", "good-node")
    said: list[str] = []
    bad = _node(stack, tmp_path, PillowRenderer(fail_frames=set(FRAMES)), "bad-node", said, idle_exit_s=0)
    assert bad.run() == 0
    assert said == [
        f"studiobot node bad-node: skipping job {job_id}'s tasks: this node failed 3 of them (last error: "
        "1 of 1 frames failed (frame 1: RuntimeError: Blender could not render frame 1: missing "
        "texture wood.png))"
    ]
    assert DynamoBlocklist(stack.settings.table_name).blocklist(job_id) == ["bad-node"]
    failed_before = stack.jobs.get(
        job_id
    ).failed  # the task it took after the third was handed back untouched
    good_renderer = PillowRenderer()
    assert _node(stack, tmp_path, good_renderer, "good-node", []).run() == len(FRAMES)
    done = stack.jobs.get(job_id)
    assert (done.status, done.done, done.failed) == (JobStatus.DONE, len(FRAMES), failed_before)
    assert sorted(good_renderer.rendered) == FRAMES
    blocked = [event for event in stack.events() if isinstance(event, NodeBlocked)]
    assert [(e.node, e.job_id, e.blocked, e.channel) for e in blocked] == [
        ("bad-node", job_id, ["bad-node"], "C1")
    ]


def test_the_thread_hears_once_and_is_told_when_every_node_is_blocked(stack: Stack, tmp_path: Path) -> None:
    with FakeSlack() as slack:
        settings = replace(stack.settings, slack_api_url=slack.base_url)
        services = Services(settings)
        job_id = _submit(stack, "only-node")
        client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
        post_card(client, services, job_id, "C1")
        said: list[str] = []
        _node(
            stack, tmp_path, PillowRenderer(fail_frames=set(FRAMES)), "only-node", said, idle_exit_s=0
        ).run()
        event = next(event for event in stack.events() if isinstance(event, NodeBlocked))
        notifier = SlackNotifier(client, services)
        notifier.handle(event)
        notifier.handle(event)  # SNS delivers at least once
        replies = [call.args for call in slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
        assert [reply["text"] for reply in replies] == [
            "🚫 GPU node `only-node` failed 3 of this job's tasks and takes no more of them (last error: "
            "1 of 1 frames failed (frame 1: RuntimeError: Blender could not render frame 1: "
            "missing texture wood.png)); every node there now is blocked for this job, so its tasks wait: start "
            f"another node (`studiobot node --class gpu` on another machine) or `/render cancel {job_id}`."
        ]
        NodeRoster(stack.settings.table_name).seen("gpu", "another-node")
        later = replace(event, job_id=job_id, node="node-2", blocked=["only-node", "node-2"])
        notifier.handle(later)
        assert slack.calls_to("chat.postMessage")[-1].args["text"].endswith("other nodes carry on.")


def test_failures_are_counted_per_job_and_node_and_one_call_blocks(stack: Stack) -> None:
    job_id, other = _submit(stack, "n1"), _submit(stack, "n1")
    blocklist = DynamoBlocklist(stack.settings.table_name)
    assert [blocklist.node_failed(job_id, "n1", "boom").count for _ in range(2)] == [1, 2]
    assert blocklist.node_failed(other, "n1", "boom") == NodeFailures(1)
    assert blocklist.node_failed(job_id, "ip-10-0-1-7.ec2.internal", "boom") == NodeFailures(1)
    assert blocklist.node_failed(job_id, "n1", "boom") == NodeFailures(3, True, ["n1"])
    assert blocklist.node_failed(job_id, "n1", "boom") == NodeFailures(4)  # blocked already: told once
    assert (blocklist.blocklist(job_id), blocklist.blocklist(other)) == (["n1"], [])
    assert stack.jobs.get(job_id).status is JobStatus.QUEUED  # a blocklist is no status change
