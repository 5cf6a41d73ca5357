"""The Slack app manifest declares what the bot answers: every slash command and shortcut, one request URL."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _registered(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot" / "listeners").rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text()))
    return found


def test_the_manifest_declares_every_command_and_shortcut_the_bot_registers() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    features = manifest["features"]
    commands = {item["command"] for item in features["slash_commands"]}
    assert commands == _registered(r'app\.command\("(/[a-z]+)"\)')
    shortcuts = {item["callback_id"] for item in features["shortcuts"]}
    assert shortcuts == _registered(r'app\.shortcut\("([a-z_]+)"\)')
    urls = {item["url"] for item in features["slash_commands"]}
    urls.add(manifest["settings"]["interactivity"]["request_url"])
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")  # the bot's one HTTP API route


def test_the_manifest_subscribes_every_event_the_bot_listens_to_and_enables_the_home_tab() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    subscriptions = manifest["settings"]["event_subscriptions"]
    assert (
        set(subscriptions["bot_events"]) == _registered(r'app\.event\("([a-z_]+)"\)') == {"app_home_opened"}
    )
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    commands = manifest["features"]["slash_commands"]
    assert subscriptions["request_url"] == commands[0]["url"]  # the bot's one HTTP API route
