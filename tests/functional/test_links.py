"""Download links that last as long as they say: studiobot signs them, `GET /links/{token}` on the local bot server
(the links function's own code) checks them and redirects to a fresh presigned URL on moto's server."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path

import boto3
import pytest

from backend.aws.s3 import S3Store
from backend.aws.sqs import SqsQueue
from backend.config import SlackCredentials
from backend.render.links import LinkSettings
from backend.render.store import DynamoJobs
from bot.app import build_app
from bot.notifier import SlackNotifier
from entry.wiring import Services
from local.embedded.slack_http import BotServer
from local.embedded.stack import deploy, start_moto_server
from testing.slack import FakeSlack

from .conftest import SECRET, Bot, Stack
from .test_notifier import _deliver, _setup

DAY_S = 24 * 3600
EVENT = Path(__file__).resolve().parents[1] / "events" / "http_api_link.json"


@dataclass
class Served:
    """A completed job's thread reply, with the local bot server answering its links."""

    stack: Stack
    notifier: SlackNotifier
    bot: Bot
    job_id: str
    base_url: str

    @property
    def clock(self):  # type: ignore[no-untyped-def]
        return self.notifier.services.clock

    def reply_link(self) -> str:
        (complete,) = self.bot.slack.calls_to("files.completeUploadExternal")
        found = re.search(r"<([^|>]+)\|Download the frames>", complete.args["initial_comment"])
        assert found, complete.args["initial_comment"]
        return found.group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    moto = start_moto_server()
    try:
        info = deploy(moto.endpoint)
        for name, value in info.environ().items():
            monkeypatch.setenv(name, value)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = info.settings(links=LinkSettings(base_url=base_url, key="test-link-signing-key"))
        store, jobs = S3Store(), DynamoJobs(settings.table_name)
        services = Services(settings, store=store, jobs=jobs, queue=SqsQueue(settings.render_queue_url))
        stack = Stack(
            info, settings, boto3.client("s3"), boto3.client("sqs"), store, jobs, services.queue,
            services.reporter, services.submissions,
        )  # fmt: skip
        with FakeSlack() as slack:
            notifier, bot_services, _, job_id = _setup(stack, slack)
            app = build_app(
                bot_services.settings, SlackCredentials("xoxb-test", SECRET), services=bot_services
            )
            server = BotServer(app, port, SECRET, links=bot_services.links).start()
            try:
                stack.render_frames(job_id, [1, 2, 3, 4])
                _deliver(notifier, stack)
                yield Served(stack, notifier, Bot(app, slack, stack, bot_services), job_id, base_url)
            finally:
                server.stop()
    finally:
        moto.stop()


def _follow(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body after following redirects, as a browser would."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), refused.read()


def test_the_completion_link_is_ours_and_followed_now_gives_the_zip_of_the_frames(served: Served) -> None:
    link = served.reply_link()
    assert link.startswith(f"{served.base_url}/links/"), "the reply links our route, not a presigned S3 URL"
    assert "X-Amz" not in link
    status, _, body = _follow(link)
    assert status == 200
    with zipfile.ZipFile(BytesIO(body)) as bundle:
        assert sorted(bundle.namelist()) == [f"shot_{frame:04d}.png" for frame in range(1, 5)]


def test_eight_days_later_the_link_gets_a_plain_403_page_and_a_fresh_link_works(served: Served) -> None:
    link = served.reply_link()
    served.clock.now += 8 * DAY_S  # type: ignore[attr-defined]
    status, content_type, body = _follow(link)
    page = body.decode()
    assert (status, content_type) == (403, "text/html; charset=utf-8")
    assert "This link expired on" in page and f"/render status {served.job_id}" in page
    assert "<?xml" not in page and "AccessDenied" not in page
    # a fresh link: `/render status JOB` posts one for the job's frames
    served.bot.command(f"status {served.job_id}")
    (answer,) = served.bot.replies()
    fresh = re.search(r"<([^|>]+)\|Download the frames>", answer["text"])
    assert fresh, answer["text"]
    status, _, body = _follow(fresh.group(1))
    assert status == 200 and zipfile.ZipFile(BytesIO(body)).namelist()


def test_an_altered_link_gets_a_403_page_never_s3s_xml(served: Served) -> None:
    link = served.reply_link()
    token = link.rsplit("/", 1)[-1]
    payload, mac = token.split(".")
    altered = {
        "a payload character": f"{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{mac}",
        "the mac": f"{payload}.{mac[:-2]}",
        "cut short": token[: len(token) // 2],
        "not a token": "..%2F..%2Fscenes%2Fshot.blend",
    }
    for why, token_sent in altered.items():
        status, content_type, body = _follow(f"{served.base_url}/links/{token_sent}")
        assert (status, content_type) == (403, "text/html; charset=utf-8"), why
        assert "not one studiobot made" in body.decode(), why


def test_the_outputs_button_links_each_frame_through_the_route(served: Served) -> None:
    served.bot.click("job_outputs", served.job_id)
    (answer,) = served.bot.replies()
    links = re.findall(r"<([^|>]+)\|([^>]+)>", answer["text"])
    assert links and all(url.startswith(f"{served.base_url}/links/") for url, _ in links)
    status, _, body = _follow(links[0][0])
    assert status == 200 and body.startswith(b"\x89PNG")


def test_the_frame_index_past_the_zip_size_bakes_in_our_links(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.archive

    monkeypatch.setattr(bot.archive, "MAX_ZIP_BYTES", 100)
    job = served.notifier.services.jobs.get(served.job_id)
    frames, _ = bot.archive.outputs_of(served.stack.store, job)
    made = bot.archive.archive(served.stack.store, job, frames, served.notifier.services.links)
    assert made.link and made.link.startswith(f"{served.base_url}/links/")
    status, _, index = _follow(made.link)
    listed = re.findall(r'href="([^"]+)"', index.decode())
    assert status == 200 and len(listed) == 4
    assert all(url.startswith(f"{served.base_url}/links/") for url in listed)
    status, _, frame = _follow(listed[0].replace("&amp;", "&"))
    assert status == 200 and frame.startswith(b"\x89PNG")


def test_the_links_function_answers_api_gateways_event_with_a_redirect_or_a_page(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entry.links import handler

    # GIVEN the links function's environment on AWS: the stack's resources and the key (here given, not in SSM)
    for name, value in served.stack.settings.links.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STUDIOBOT_STAGE", "ci")  # no key of its own: the configured one or nothing
    token = served.reply_link().rsplit("/", 1)[-1]
    event = json.loads(EVENT.read_text().replace("TOKEN", token))
    # WHEN API Gateway hands it a followed link
    answer = handler(event, None)
    # THEN a redirect to a 10-minute SigV4 URL of the zip, which S3 (moto) serves
    assert answer["statusCode"] == 302 and answer["headers"]["Cache-Control"] == "no-store"
    location = answer["headers"]["Location"]
    assert "X-Amz-Expires=600" in location and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in location
    with urllib.request.urlopen(location, timeout=10) as response:
        assert len(zipfile.ZipFile(BytesIO(response.read())).namelist()) == 4
    # and an altered link a page, never S3's XML
    refused = handler(json.loads(EVENT.read_text().replace("TOKEN", "x" + token[1:])), None)
    assert refused["statusCode"] == 403 and refused["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "not one studiobot made" in refused["body"]


def test_the_key_comes_from_its_ssm_parameter_on_aws_and_is_never_shown() -> None:
    from moto import mock_aws

    from backend.render.links import NoLinkKey, signing_key

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/studiobot/ci/link-signing-key", Value="k3y-from-ssm", Type="SecureString")
        settings = LinkSettings.from_env(
            {"STUDIOBOT_LINK_SIGNING_KEY_PARAMETER": "/studiobot/ci/link-signing-key"}
        )
        assert signing_key(settings) == b"k3y-from-ssm"
        assert "k3y" not in repr(replace(settings, key="k3y-from-env"))
    with pytest.raises(NoLinkKey, match="STUDIOBOT_LINK_SIGNING_KEY_PARAMETER"):
        signing_key(LinkSettings())  # on AWS, a missing key is said, never a key made up


@pytest.mark.slow
def test_studiobot_up_keeps_its_key_in_its_home_and_serves_the_links_it_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from local.embedded.links import KEY_FILE
    from local.embedded.supervisor import Supervisor

    home, port = tmp_path / ".studiobot", _free_port()
    with FakeSlack() as slack:
        for name, value in {
            "STUDIOBOT_HOME": str(home),
            "STUDIOBOT_BOT_PORT": str(port),
            "SLACK_BOT_TOKEN": "xoxb-links",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url,
            "AWS_ENDPOINT_URL": "",  # the supervisor points this process at its moto: put back after the test
        }.items():
            monkeypatch.setenv(name, value)
        for name in (
            "STUDIOBOT_LINKS_URL",
            "STUDIOBOT_LINK_SIGNING_KEY",
            "STUDIOBOT_LINK_SIGNING_KEY_PARAMETER",
        ):
            monkeypatch.delenv(name, raising=False)
        supervisor = Supervisor(0, io.StringIO())
        supervisor.start()
        try:
            # GIVEN a frame in the stack's outputs bucket, linked the way its notifier links it
            key = "outputs/r0000000ab/shot_0001.png"
            boto3.client("s3").put_object(
                Bucket=supervisor.info.outputs_bucket, Key=key, Body=b"\x89PNG frame"
            )
            link = supervisor.services.links.url(key)
            # THEN the link names the stack's bot server, signed with the key kept in its home folder
            assert link.startswith(f"http://127.0.0.1:{port}/links/")
            assert supervisor.env["STUDIOBOT_LINK_SIGNING_KEY"] == (home / KEY_FILE).read_text().strip()
            assert _follow(link)[::2] == (200, b"\x89PNG frame")
            assert _follow(link[:-1] + ("A" if link[-1] != "A" else "B"))[0] == 403
        finally:
            supervisor.stop()


def test_make_deploy_makes_the_stages_key_once_and_never_replaces_it() -> None:
    from moto import mock_aws

    from local.deployer.secrets import key_alias, onto_stack_key
    from local.embedded.links import ensure_link_key, link_key_parameter

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        assert ensure_link_key("prod", ssm) is True
        made = ssm.get_parameter(Name=link_key_parameter("prod"), WithDecryption=True)["Parameter"]
        assert made["Type"] == "SecureString" and len(made["Value"]) >= 40
        assert ensure_link_key("prod", ssm) is False  # a second deploy keeps it: the links posted stay valid
        again = ssm.get_parameter(Name=link_key_parameter("prod"), WithDecryption=True)["Parameter"]["Value"]
        assert again == made["Value"]
        # after the stack exists, the deploy moves it onto the stage's key, as it moves the Slack secrets
        kms = boto3.client("kms", region_name="us-east-1")
        kms.create_alias(AliasName=key_alias("prod"), TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        assert onto_stack_key(ssm, "prod", kms, lambda said: None) == [link_key_parameter("prod")]
        moved = ssm.get_parameter(Name=link_key_parameter("prod"), WithDecryption=True)["Parameter"]["Value"]
        assert moved == made["Value"]  # the links posted stay valid
