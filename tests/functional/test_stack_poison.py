"""`studiobot up` with poison on every topic and queue it consumes: a job rendered afterwards ends and its notice
reaches Slack; each unreadable message is said once in the stack log and nothing is restarted for it."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from backend.commands import split_words
from backend.render.grammar import parse_render
from testing.slack import FakeSlack

from .test_local_stack import TINY, _services, _wait, studiobot
from .test_poison import POISON

pytestmark = [pytest.mark.slow, pytest.mark.bpy]


def test_poison_on_every_topic_and_queue_stops_no_job_and_no_notice(
    tmp_path: Path, sample_scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / ".studiobot"
    with FakeSlack() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-poison")
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
        started = studiobot(home, "up", "--workers", "1", "--visibility-timeout", "4")
        assert started.returncode == 0, started.stdout + started.stderr
        try:
            state = json.loads((home / "stack.json").read_text())
            info, service, jobs = _services(state, monkeypatch)
            sns, sqs = boto3.client("sns"), boto3.client("sqs")
            queues = [
                info.render_queue_url,
                info.render_dlq_url,
                info.gpu_queue_url,
                info.gpu_dlq_url,
                info.notifications_queue_url,
            ]
            for body in POISON:  # GIVEN one message of each poison kind on the topic and on every queue
                sns.publish(TopicArn=info.events_topic_arn, Message=body)
                for queue_url in queues:
                    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            sent = len(POISON) * (1 + len(queues))
            # WHEN a job is rendered afterwards
            boto3.client("s3").upload_file(str(sample_scene), info.scenes_bucket, "scenes/turntable.blend")
            request = parse_render(split_words(f"turntable.blend 1-2 {TINY}"))
            job = service.submit(request, requested_by="U0ARTIST", channel="C0RENDERS").job
            assert job is not None
            final = _wait(jobs, job.job_id, lambda job: job.status.is_final, timeout=120)
            # THEN it ends, and its card and completion reply reach Slack
            assert (final.done, final.failed) == (2, 0)
            (complete,) = slack.wait_for("files.completeUploadExternal", timeout=60)
            assert "all 2 frames of `scenes/turntable.blend` rendered" in complete.args["initial_comment"]
            log = (home / "stack.log").read_text()
            # each message the notifier could not read was said once (the topic's copy and the queue's own)
            assert log.count("cannot be read") == 2 * len(POISON), log
            assert "exited with" not in log and sent == 36
        finally:
            studiobot(home, "down")
