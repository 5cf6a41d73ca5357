"""What the fake Slack (`testing.slack`) checks of a message's table blocks and file images, as Slack does: the
table block reference's limits (100 rows, 20 cells a row, `raw_text` or `rich_text` cells, one table a message) and
images of files that were uploaded; and, switched on (`FakeSlack.tables_refused`), a workspace refusing tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testing.slack import FakeSlack

POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.update")
TABLE_ROWS, TABLE_CELLS = 100, 20  # the table block reference's limits, written out here on purpose
_ALIGN = ("left", "center", "right")


def blocks_refusal(fake: FakeSlack, blocks: Any) -> str | None:
    """The error Slack answers for a message's table blocks and file images (None: it takes them):
    `only_one_table_allowed` past one table, `invalid_blocks` for a table out of limits, a cell of another type, an
    image of a file never uploaded, or any table while `tables_refused` is set."""
    if not isinstance(blocks, list):
        return None
    tables = [block for block in blocks if isinstance(block, dict) and block.get("type") == "table"]
    if tables and fake.tables_refused:
        return "invalid_blocks"
    if len(tables) > 1:
        return "only_one_table_allowed"
    if any(not _table_valid(table) for table in tables):
        return "invalid_blocks"
    images = [block for block in blocks if isinstance(block, dict) and block.get("type") == "image"]
    if any("slack_file" in image and not _uploaded(fake, image["slack_file"]) for image in images):
        return "invalid_blocks"
    return None


def _table_valid(table: dict[str, Any]) -> bool:
    rows, settings = table.get("rows"), table.get("column_settings", [])
    if not isinstance(rows, list) or not 1 <= len(rows) <= TABLE_ROWS:
        return False
    if not isinstance(settings, list) or len(settings) > TABLE_CELLS:
        return False
    for setting in settings:
        if setting is None:
            continue
        if not isinstance(setting, dict) or set(setting) - {"align", "is_wrapped"}:
            return False
        if setting.get("align", "left") not in _ALIGN or not isinstance(
            setting.get("is_wrapped", False), bool
        ):
            return False
    return all(
        isinstance(row, list) and 1 <= len(row) <= TABLE_CELLS and all(_cell_valid(cell) for cell in row)
        for row in rows
    )


def _cell_valid(cell: Any) -> bool:
    if not isinstance(cell, dict):
        return False
    if cell.get("type") == "raw_text":
        return isinstance(cell.get("text"), str) and bool(cell["text"])
    if cell.get("type") == "rich_text":
        elements = cell.get("elements")
        return isinstance(elements, list) and bool(elements) and all(isinstance(e, dict) for e in elements)
    return False


def _uploaded(fake: FakeSlack, slack_file: Any) -> bool:
    """An image's `slack_file` names a file hosted in this fake, or one uploaded and processed (Slack processes an
    upload after `files.completeUploadExternal` answers: until then an image of it is `invalid_blocks`)."""
    file_id = slack_file.get("id", "") if isinstance(slack_file, dict) else ""
    return file_id in fake.hosted or _done(fake, file_id)


def _done(fake: FakeSlack, file_id: str) -> bool:
    """Whether an uploaded file is processed: the fake's stand-in for time passing is `files.info` asked about it
    more than `processing_polls` times (a file never uploaded never is)."""
    if not any(call.args.get("file_id") == file_id for call in fake.calls_to("upload")):
        return False
    return (
        sum(call.args.get("file") == file_id for call in fake.calls_to("files.info")) > fake.processing_polls
    )


def processed(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """What `files.info` adds for an uploaded file: its size, and its type once processed (empty until then)."""
    file_id = str(args.get("file", ""))
    upload = next((call for call in fake.calls_to("upload") if call.args.get("file_id") == file_id), None)
    if upload is None:
        return {}
    png = upload.body.startswith(b"\x89PNG")
    mimetype = ("image/png" if png else "application/octet-stream") if _done(fake, file_id) else ""
    return {"mimetype": mimetype, "size": len(upload.body)}
