"""`/workstations` in Slack: the table, owner/admin rules, mistakes answered privately."""

from __future__ import annotations

import json

import boto3

from testing.slack import dispatch_signed, interaction_body

from .conftest import ADMIN, CHANNEL, SECRET, Bot
from .test_workstation_provider import launch


def _fleet() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, 3, "anim", "U0ARTIST")
    launch(ec2, 2, "comp", "U0OTHER")


def test_help_and_mistakes_are_answered_in_the_ack(bot: Bot) -> None:
    assert "/workstations extend NAME 4h" in json.loads(bot.command_as("/workstations", "help").body)["text"]
    answer = json.loads(bot.command_as("/workstations", "reboot anim-00").body)["text"]
    assert "`reboot` is not something `/workstations` does" in answer


def test_status_is_a_table_of_every_workstation(bot: Bot) -> None:
    _fleet()
    bot.command_as("/workstations", "status")
    (reply,) = bot.replies()
    (cells,) = [
        [[cell.get("text") for cell in row] for row in b["rows"]]
        for b in reply["blocks"]
        if b["type"] == "table"
    ]
    assert (
        cells[0][0] == "name"
        and [cells[1][0], cells[-1][0]] == ["anim-00", "comp-01"]
        and cells[1][4] == "11 h 30 min"
    )
    bot.slack.tables_refused = True  # where Slack refuses table blocks: today's code block
    bot.command_as("/workstations", "status", trigger="t2")
    table = bot.replies(3)[-1]["blocks"][0]["text"]["text"]  # (no chart: refused once, then code blocks)
    assert (
        table.startswith("```\nname") and "anim-00" in table and "comp-01" in table and "11 h 30 min" in table
    )


def test_someone_elses_workstation_is_refused_and_an_admin_only_stops_one_nobody_may_be_using(
    bot: Bot,
) -> None:
    _fleet()
    bot.command_as("/workstations", "stop comp-00")
    assert "Only <@U0OTHER> (its owner) or an admin can stop `comp-00`." in bot.replies()[0]["text"]
    # an instance without an instance profile has no Systems Manager agent: it cannot say, so it is not stopped
    bot.command_as("/workstations", "stop comp-00", user=ADMIN)
    assert bot.replies(2)[-1]["text"] == (
        "`comp-00` was not stopped: studiobot cannot tell whether anyone is connected (no Systems Manager agent "
        "answers on it). Ask <@U0OTHER> to stop it, or to save and disconnect first."
    )
    bot.command_as("/workstations", "stop comp-00", user="U0OTHER")  # its owner knows
    assert bot.replies(3)[-1]["text"] == "⏹️ Stopping `comp-00`."


def test_a_bad_duration_is_answered_in_the_ack_with_what_works(bot: Bot) -> None:
    _fleet()
    response = bot.command_as("/workstations", "extend anim-00 4x")
    assert "`4x` is not a duration: try `4h`, `90m` or `1h30m`." in json.loads(response.body)["text"]


def test_a_duration_past_thirty_days_is_answered_in_the_ack_not_with_an_apology(bot: Bot) -> None:
    response = bot.command_as("/workstations", "extend x 99999999999d")
    assert response.status == 200
    assert json.loads(response.body)["text"] == (
        "`99999999999d` is too long: a duration can be at most 30 days, e.g. `4h`."
    )


def test_the_extend_button_on_a_warning_extends_by_two_hours(bot: Bot) -> None:
    _fleet()
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ARTIST"},
        "channel": {"id": CHANNEL},
        "team": {"id": "T0001"},
        "trigger_id": "t",
        "response_url": bot.slack.response_url("warn"),
        "actions": [
            {"action_id": "ws_extend", "value": "anim-01", "type": "button", "block_id": "ws:anim-01"}
        ],
    }
    assert dispatch_signed(bot.app, interaction_body(payload), SECRET).status == 200
    assert "Extended `anim-01` by 2 h: it now expires in 13 h 30 min." in bot.replies()[0]["text"]
