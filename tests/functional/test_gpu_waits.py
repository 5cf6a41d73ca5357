"""A gpu job that nodes could take but none did within 10 minutes: its thread and the CLI hear it once."""

from __future__ import annotations

from dataclasses import replace

from backend.commands import split_words
from backend.events import NodesNotStarted
from backend.render.grammar import parse_render
from bot.messages import message_text
from entry.expiry import sweep
from entry.wiring import Services
from tests.functional.conftest import Stack


def test_a_gpu_job_no_node_took_in_ten_minutes_is_told_once_with_what_to_do(stack: Stack) -> None:
    # GIVEN a node was there at submission, then went without taking a frame
    now = [1_000_000.0]
    services = Services(replace(stack.settings), clock=lambda: now[0])
    services.__dict__["jobs"] = stack.jobs
    stack.put_scene()
    services.roster.seen("gpu", "anna-ws")
    job = services.submissions.submit(parse_render(split_words("shot.blend 1-4 --on gpu")), "U1", "C1").job
    assert job is not None
    services.roster.left("gpu", "anna-ws")
    # WHEN the sweep runs before and after 10 minutes, twice
    now[0] += 300
    assert sweep(services)["gpu_untaken"] == []
    now[0] += 301
    assert sweep(services)["gpu_untaken"] == [job.job_id]
    now[0] += 300
    assert sweep(services)["gpu_untaken"] == []
    # THEN one notice says it, and what to do
    (told,) = [event for event in stack.events() if isinstance(event, NodesNotStarted)]
    assert told.job_id == job.job_id and told.batch_job_id == "" and told.waited_s == 601
    assert message_text(told) == (
        f"⏳ No GPU node has taken a frame of `{job.job_id}` in 10 min: start one (`studiobot node --class gpu` "
        "on a machine with a GPU, or `studiobot up --nodes 1 --class gpu` on the local stack), or "
        f"`/render cancel {job.job_id}`; the frames wait on the gpu queue until a node comes."
    )


def test_a_gpu_job_a_node_took_is_never_told(stack: Stack) -> None:
    now = [1_000_000.0]
    services = Services(stack.settings, clock=lambda: now[0])
    services.__dict__["jobs"] = stack.jobs
    stack.put_scene()
    services.roster.seen("gpu", "anna-ws")
    job = services.submissions.submit(parse_render(split_words("shot.blend 1 --on gpu")), "U1", "C1").job
    assert job is not None
    assert stack.jobs.start(job.job_id)  # a node took its frame
    now[0] += 700
    assert sweep(services)["gpu_untaken"] == []
    assert services.roster.waiting_before(now[0]) == []  # forgotten: nothing to tell, ever
