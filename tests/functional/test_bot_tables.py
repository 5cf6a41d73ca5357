"""Tables and charts end to end, through real slack_bolt against the fake Slack (which checks table blocks as Slack
does): `/workstations status`, `/budget` and `/render list` answer with a table block; a workspace whose Slack refuses
tables (`invalid_blocks`) is answered with code blocks, and remembered in DynamoDB so that later answers, in later
invocations too, go straight to code blocks; `/budget` and `/render costs` show a chart uploaded privately."""

from __future__ import annotations

import io
import time
from typing import Any

import boto3
from PIL import Image

from backend.config import SlackCredentials
from bot.app import build_app, web_client
from bot.table_refusals import DynamoTableRefusals, refusal_key
from entry.wiring import Services
from testing.slack import TEAM
from testing.slack_blocks import blocks_refusal

from .conftest import SECRET, Bot
from .test_bot_workstations import _fleet
from .test_budgets_provider import create_budget
from .test_render_costs import _job, _spent

PNG = b"\x89PNG\r\n\x1a\n"


def _types(reply: dict[str, Any]) -> list[str]:
    return [block["type"] for block in reply["blocks"]]


def _table(reply: dict[str, Any]) -> list[list[str]]:
    (table,) = [block for block in reply["blocks"] if block["type"] == "table"]
    return [[cell.get("text", "") for cell in row] for row in table["rows"]]


def _refusal_item(bot: Bot) -> dict[str, Any] | None:
    table = bot.services.settings.table_name
    return boto3.client("dynamodb").get_item(TableName=table, Key=refusal_key(TEAM["team_id"])).get("Item")


def _fresh_process(bot: Bot) -> Bot:
    """The same workspace, stack and fake Slack seen from a new Lambda invocation: new services, nothing in memory."""
    settings = bot.services.settings
    services = Services(settings)
    app = build_app(
        settings,
        SlackCredentials("xoxb-test", SECRET),
        client=web_client(settings, "xoxb-test"),
        services=services,
    )
    return Bot(app, bot.slack, bot.stack, services)


def test_workstations_status_is_a_table_block_slack_takes(bot: Bot) -> None:
    _fleet()
    bot.command_as("/workstations", "status")
    (reply,) = bot.replies()
    assert blocks_refusal(bot.slack, reply["blocks"]) is None
    rows = _table(reply)
    assert rows[0] == ["name", "owner", "state", "up for", "expires in", "keep-alive", "connected"]
    assert [row[0] for row in rows[1:]] == ["anim-00", "anim-01", "anim-02", "comp-00", "comp-01"]
    assert rows[1][4] == "11 h 30 min"
    assert _refusal_item(bot) is None  # nothing to remember where tables are taken


def test_render_list_is_a_table_block_of_the_channels_jobs(bot: Bot) -> None:
    now = time.time()
    for index in range(3):
        bot.stack.jobs.create(_job(f"rlist{index}", now - index))
    bot.command("list")
    (reply,) = bot.replies()
    rows = _table(reply)
    assert rows[0][:2] == ["job", "status"] and sorted(row[0] for row in rows[1:]) == [
        "rlist0",
        "rlist1",
        "rlist2",
    ]
    assert blocks_refusal(bot.slack, reply["blocks"]) is None


def test_a_workspace_that_refuses_tables_gets_code_blocks_and_is_asked_only_once(bot: Bot) -> None:
    # GIVEN a workspace whose Slack refuses table blocks
    _fleet()
    create_budget("studiobot-local-monthly", "500")
    bot.slack.tables_refused = True
    # WHEN the first table answer goes out: refused, then answered with today's code blocks
    bot.command_as("/workstations", "status")
    refused, answered = bot.replies(2)
    assert "table" in _types(refused) and "table" not in _types(answered)
    assert answered["blocks"][0]["text"]["text"].startswith("```\nname")
    assert "anim-00" in answered["blocks"][0]["text"]["text"]
    # THEN the refusal is remembered where the next invocation finds it
    assert _refusal_item(bot) is not None
    assert DynamoTableRefusals(bot.services.settings.table_name).refused(TEAM["team_id"])
    # AND later answers, from a fresh process too, go straight to code blocks: Slack is not asked again
    later = _fresh_process(bot)
    bot.slack.reset()
    later.command_as("/budget", "", trigger="t2")
    later.command("list", trigger="t3")
    replies = bot.slack.wait_for("response_url", 2)
    time.sleep(0.3)  # nothing more comes: no table was tried first
    replies = bot.slack.calls_to("response_url")
    assert len(replies) == 2 and all("table" not in _types(call.args) for call in replies)
    budget = next(call.args for call in replies if call.args["_name"] == "t2")
    table = budget["blocks"][0]["text"]["text"]
    assert table.splitlines()[1].split() == ["budget", "limit", "actual", "forecast", "used"]
    assert table.splitlines()[2].split() == ["studiobot-local-monthly", "$500.00", "$0.00", "$0.00", "0", "%"]


def test_budget_status_is_the_guard_a_chart_and_a_table(bot: Bot) -> None:
    create_budget("studiobot-local-monthly", "500")
    bot.command_as("/budget", "")
    (reply,) = bot.replies()
    assert _types(reply) == ["section", "image", "table"]
    assert (
        reply["blocks"][0]["text"]["text"]
        == "*Budget guard off*: new renders go ahead without an admin's approval."
    )
    assert _table(reply)[1] == ["studiobot-local-monthly", "$500.00", "$0.00", "$0.00", "0 %"]
    _assert_private_chart(bot, reply, (640, 300))


def test_render_costs_shows_spend_by_day_and_by_person_as_a_private_chart(bot: Bot) -> None:
    now = time.time()
    _spent(bot.stack.jobs, _job("r1", now - 1), 100.0, 200.0)
    _spent(bot.stack.jobs, _job("r2", now - 2, "U0OTHER"), 50.0)
    create_budget("studiobot-local-monthly", "500")
    bot.command("costs")
    (reply,) = bot.replies()
    assert _types(reply)[-2:] == ["context", "image"] and reply["text"].startswith("💰 Render spend in")
    _assert_private_chart(bot, reply, (640, 600))


def _assert_private_chart(bot: Bot, reply: dict[str, Any], size: tuple[int, int]) -> None:
    """The chart was uploaded into no channel (the answer is ephemeral) and, once Slack had processed it, the image
    block shows that file."""
    (complete,) = bot.slack.calls_to("files.completeUploadExternal")
    assert not {"channel_id", "channels", "channel"} & set(complete.args)
    (image,) = [block for block in reply["blocks"] if block["type"] == "image"]
    assert image["slack_file"] == {"id": complete.args["files"][0]["id"]} and image["alt_text"]
    assert len(bot.slack.calls_to("files.info")) == 2  # asked until Slack had processed it
    (upload,) = bot.slack.calls_to("upload")
    assert upload.body.startswith(PNG) and Image.open(io.BytesIO(upload.body)).size == size
