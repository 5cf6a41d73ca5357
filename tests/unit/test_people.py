"""The backend names people by id and never writes Slack's markup; Slack shows a mention, the terminal the id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from backend.budgets.service import guard_refusal
from backend.config import Access
from backend.people import mention, name_people
from bot.messages import error_message
from bot.messages.text import plain, sentence
from local.cli.terminal import fail

REPO = Path(__file__).resolve().parents[2]
ADMINS = Access(admins=frozenset({"U0ADMIN", "U0BOSS"}))
SLACK_MENTION = re.compile(r"<@")


def test_no_backend_module_writes_a_slack_mention() -> None:
    wrong = sorted(
        f"{path.relative_to(REPO)}:{number}"
        for path in (REPO / "backend").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SLACK_MENTION.search(line)
    )
    assert wrong == []


def test_a_person_is_named_by_id_and_each_edge_writes_the_name_its_way() -> None:
    said = f"Ask {mention('U0ANNA')} or {mention('anna')}."
    assert name_people(said, lambda user: f"[{user}]") == "Ask [U0ANNA] or [anna]."


def test_words_people_typed_are_left_as_typed() -> None:
    typed = f"There is no scene `scenes/{mention('U0X')}.blend`: ask {mention('U0OWNER')}."
    assert name_people(typed, str) == f"There is no scene `scenes/{mention('U0X')}.blend`: ask U0OWNER."
    slack = sentence(typed)
    assert slack.endswith("ask <@U0OWNER>.") and "<@U0X>" not in slack


def test_slack_shows_a_user_id_as_a_mention_and_any_other_name_escaped() -> None:
    assert sentence(f"Ask {mention('U0ANNA')} to stop `a<b`.") == "Ask <@U0ANNA> to stop `a&lt;b`."
    assert sentence(f"Ask {mention('ann<a')} first.") == "Ask ann&lt;a first."


def test_a_backend_refusal_mentions_the_admins_in_slack() -> None:
    refusal = guard_refusal(ADMINS, "U0ARTIST")
    assert refusal is not None and "<@" not in refusal
    text, blocks = error_message(refusal)
    assert "ask <@U0ADMIN>, <@U0BOSS>." in text and "<@U0ADMIN>" in blocks[0]["text"]["text"]


def test_the_terminal_prints_the_id_never_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    refusal = guard_refusal(ADMINS, "U0ARTIST")
    assert refusal is not None
    assert isinstance(fail(refusal), typer.Exit)
    printed = capsys.readouterr().out
    assert "ask U0ADMIN, U0BOSS." in printed
    assert "@{" not in printed and "<@" not in printed
    # what the bot wrote for Slack reads the same way in the terminal
    said = plain(error_message(refusal)[0])
    assert "ask U0ADMIN, U0BOSS." in said and "<@" not in said
    assert plain("see <#C0RENDERS>") == "see #C0RENDERS"
