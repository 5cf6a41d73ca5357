"""`Answering`, a command's `respond`: a table where the workspace takes tables, code blocks (remembered once) where
Slack refuses them, and a chart that Slack refuses or that cannot be uploaded never costs the answer or the table."""

from __future__ import annotations

from typing import Any

from slack_sdk.webhook import WebhookResponse

from bot.messages.tables import Tabled, table_block
from bot.slack_limits import Answering

TEXT = "2 budgets"
TABLE = table_block(["budget", "used"], [["prod", "80 %"]])
CODE = [{"type": "section", "text": {"type": "mrkdwn", "text": "```\nbudget used\nprod   80 %\n```"}}]


class Refusals:
    """Refusals in memory, counting the reads."""

    def __init__(self) -> None:
        self.teams: set[str] = set()
        self.reads = 0

    def refused(self, team: str) -> bool:
        self.reads += 1
        return team in self.teams

    def remember(self, team: str) -> None:
        self.teams.add(team)


class Slack:
    """A response_url that refuses tables and/or file images (HTTP 400 `invalid_blocks`), recording each post."""

    def __init__(self, tables: bool = True, images: bool = True) -> None:
        self.tables, self.images = tables, images
        self.posts: list[list[str]] = []

    def __call__(self, **message: Any) -> WebhookResponse:
        kinds = [block["type"] for block in message["blocks"]]
        self.posts.append(kinds)
        refused = ("table" in kinds and not self.tables) or ("image" in kinds and not self.images)
        status, body = (400, "invalid_blocks") if refused else (200, "ok")
        return WebhookResponse(url="https://hooks.test", status_code=status, body=body, headers={})


class Files:
    """`files_upload_v2` answering one file, or failing; `files_info` saying it is processed after `polls` asks."""

    def __init__(self, fails: bool = False, polls: int = 1) -> None:
        self.fails, self.polls = fails, polls
        self.uploads: list[bytes] = []
        self.asked = 0

    def files_info(self, file: str) -> dict[str, Any]:
        self.asked += 1
        return {"file": {"id": file, "mimetype": "image/png" if self.asked > self.polls else ""}}

    def files_upload_v2(self, **upload: Any) -> dict[str, Any]:
        if self.fails:
            raise ConnectionError("no route to Slack")
        self.uploads.append(upload["content"])
        return {"files": [{"id": "F000001"}]}


def _answer(slack: Slack, refusals: Refusals, files: Files | None = None, chart: bool = True) -> None:
    message = Tabled(TEXT, [TABLE], (TEXT, CODE), (lambda: b"png") if chart else None, "Budgets")
    answering = Answering(slack, files, lambda: refusals, "T0001")  # type: ignore[arg-type]
    answering.sleep = lambda seconds: None
    answering.answer(message)


def test_a_workspace_that_takes_tables_gets_one_post_with_its_chart() -> None:
    slack, refusals, files = Slack(), Refusals(), Files()
    _answer(slack, refusals, files)
    assert slack.posts == [["image", "table"]] and files.uploads == [b"png"] and refusals.teams == set()


def test_a_refused_table_is_remembered_once_and_the_next_answer_goes_as_code_blocks() -> None:
    slack, refusals = Slack(tables=False), Refusals()
    _answer(slack, refusals, Files())
    assert slack.posts == [["image", "table"], ["table"], ["section", "image"]]  # the chart was not to blame
    assert refusals.teams == {"T0001"}
    slack.posts.clear()
    _answer(slack, refusals, Files())
    assert slack.posts == [["section", "image"]]


def test_a_refused_chart_leaves_the_table_and_blames_nothing() -> None:
    slack, refusals = Slack(images=False), Refusals()
    _answer(slack, refusals, Files())
    assert slack.posts == [["image", "table"], ["table"]] and refusals.teams == set()


def test_a_chart_slack_is_still_processing_is_waited_for_then_left_out() -> None:
    slack, files = Slack(), Files(polls=2)
    _answer(slack, Refusals(), files)
    assert slack.posts == [["image", "table"]] and files.asked == 3
    slack, files = Slack(), Files(polls=99)
    _answer(slack, Refusals(), files)
    assert slack.posts == [["table"]] and files.asked == 5  # a few seconds, then the answer goes without it


def test_a_chart_that_cannot_be_uploaded_is_left_out() -> None:
    slack, refusals = Slack(), Refusals()
    _answer(slack, refusals, Files(fails=True))
    assert slack.posts == [["table"]]


def test_a_message_without_a_table_never_asks_whether_tables_are_refused() -> None:
    slack, refusals = Slack(), Refusals()
    Answering(slack, None, lambda: refusals, "T0001").answer((TEXT, CODE))  # type: ignore[arg-type]
    assert slack.posts == [["section"]] and refusals.reads == 0
