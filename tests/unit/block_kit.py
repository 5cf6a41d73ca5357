"""What Slack accepts, checked independently of the bot's own helpers: slack_sdk's Block Kit models, then the
documented limits measured in UTF-16 code units (never fewer than Slack counts), then mrkdwn escaping."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# Slack's documented limits (Block Kit reference, chat.postMessage, views.open), written out here on purpose:
# the test must not take the limits from the code it checks.
MESSAGE_BLOCKS, MODAL_BLOCKS, MESSAGE_TEXT, PRIVATE_METADATA = 50, 100, 4_000, 3_000
SECTION_TEXT, FIELDS, FIELD_TEXT, CONTEXT_ELEMENTS, IDS, BUTTON_VALUE = 3_000, 10, 2_000, 10, 255, 2_000
CONFIRM_TEXT = 300
TABLES, TABLE_ROWS, TABLE_CELLS = (
    1,
    100,
    20,
)  # one table block a message, 100 rows of 20 cells (table block reference)
PLAIN_TEXT = {  # a plain_text object's limit, by the key that holds it (and its holder's type)
    ("header", "text"): 150,
    ("button", "text"): 75,
    ("option", "text"): 75,
    ("confirm", "title"): 100,
    ("confirm", "confirm"): 30,
    ("confirm", "deny"): 30,
    ("modal", "title"): 24,
    ("modal", "submit"): 24,
    ("modal", "close"): 24,
    ("input", "label"): 2_000,
    ("element", "placeholder"): 150,
}
# Control sequences a message may mean, and what of each is text a person reads (checked for escaping in turn).
_MEANT = [
    (re.compile(r"<!date\^[0-9]+\^\{time\}\|([^<>]*)>"), r"\1"),
    (re.compile(r"<https?://[^\s<>|]+\|([^<>]*)>"), r"\1"),
    (re.compile(r"<@[UW][A-Z0-9]+>|<#C[A-Z0-9]+>"), ""),
    (re.compile(r"&(?:amp|lt|gt);"), ""),
]


def size(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_escaped(text: str, where: str) -> None:
    """No `&`, `<`, `>` in mrkdwn but Slack's entities and the control sequences the bot means."""
    rest = text
    for pattern, keep in _MEANT:
        rest = pattern.sub(keep, rest)
    raw = sorted({char for char in rest if char in "&<>"})
    assert not raw, f"{where}: raw {raw} in mrkdwn: {text[:300]!r}"


def assert_text(text: str, where: str = "text") -> None:
    """A message's top-level `text` (mrkdwn): present, within 4,000, escaped."""
    assert isinstance(text, str) and text.strip(), f"{where}: empty"
    assert size(text) <= MESSAGE_TEXT, f"{where}: {size(text):,} characters"
    assert_escaped(text, where)


def assert_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """A whole message Slack would post: its text, at most 50 blocks, each one valid."""
    assert_text(text)
    assert len(blocks) <= MESSAGE_BLOCKS, f"{len(blocks)} blocks"
    assert sum(block["type"] == "table" for block in blocks) <= TABLES, "only one table a message"
    for block in blocks:
        assert_block(block)


def assert_modal(view: dict[str, Any]) -> None:
    """A modal Slack would open: slack_sdk's View, at most 100 blocks, metadata within 3,000."""
    View(**view).validate_json()
    assert 1 <= len(view["blocks"]) <= MODAL_BLOCKS
    assert size(view.get("private_metadata", "")) <= PRIVATE_METADATA, "private_metadata"
    _walk(view, "modal", "view")
    for block in view["blocks"]:
        assert_block(block)


def assert_block(block: dict[str, Any]) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, f"slack_sdk does not know {block.get('type')}"
    parsed.validate_json()
    assert parsed.to_dict()
    if block["type"] == "section":
        assert size(block.get("text", {}).get("text", "x")) <= SECTION_TEXT
        assert len(block.get("fields", [])) <= FIELDS
        assert all(size(field["text"]) <= FIELD_TEXT for field in block.get("fields", []))
    if block["type"] == "context":
        assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS
    if block["type"] == "table":
        assert_table(block)
        return  # its cells are raw text (shown as typed, never escaped) or rich text, checked there
    _walk(block, block["type"], "block")


def assert_table(block: dict[str, Any]) -> None:
    """A table block: 1 to 100 rows of 1 to 20 cells, each `raw_text` with text or `rich_text` slack_sdk takes."""
    assert 1 <= len(block["rows"]) <= TABLE_ROWS, f"{len(block['rows'])} rows"
    assert len(block.get("column_settings", [])) <= TABLE_CELLS
    for row in block["rows"]:
        assert 1 <= len(row) <= TABLE_CELLS, f"{len(row)} cells"
        for cell in row:
            assert cell["type"] in ("raw_text", "rich_text"), cell["type"]
            if cell["type"] == "raw_text":
                assert isinstance(cell["text"], str) and cell["text"], "an empty raw_text cell"
            else:
                Block.parse(cell).validate_json()  # type: ignore[union-attr]


def _walk(node: Any, holder: str, key: str) -> None:
    """Every text object, id and value inside a block or view, against its own limit."""
    if isinstance(node, list):
        for item in node:
            _walk(item, holder, key)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type", "")
    if kind == "mrkdwn":
        assert node["text"].strip(), f"empty mrkdwn in {holder}"
        limit = CONFIRM_TEXT if (holder, key) == ("confirm", "text") else SECTION_TEXT
        assert size(node["text"]) <= limit, f"mrkdwn in {holder}.{key}: {size(node['text']):,}"
        assert_escaped(node["text"], f"{holder}.{key}")
    if kind == "plain_text":
        limit = PLAIN_TEXT.get((holder, key), SECTION_TEXT)
        assert node["text"] and size(node["text"]) <= limit, (
            f"{holder}.{key}: {size(node['text']):,} > {limit}"
        )
    for id_key in ("block_id", "action_id", "callback_id"):
        if id_key in node:
            assert size(node[id_key]) <= IDS and len(node[id_key].encode()) <= IDS, f"{id_key} too long"
    if kind == "button" and "value" in node:
        assert size(node["value"]) <= BUTTON_VALUE, "button value"
    for child_key, child in node.items():
        if isinstance(child, dict | list):
            child_holder = _holder(node, child_key, holder)
            _walk(child, child_holder, child_key)


def _holder(node: dict[str, Any], child_key: str, holder: str) -> str:
    kind = node.get("type", "")
    if child_key == "confirm" and isinstance(node.get("confirm"), dict) and "title" in node["confirm"]:
        return "confirm"
    if child_key in ("options", "initial_option"):
        return "option"
    if child_key == "element" or (child_key == "elements" and kind in ("actions", "input")):
        return "element"
    if kind in ("button", "header", "modal", "input"):
        return kind
    if kind and kind.endswith(("_select", "_input")):
        return "element"
    return holder
