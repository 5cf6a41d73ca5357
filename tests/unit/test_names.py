"""Names are data, never paths: whatever a key, a shot's name or a manifest path says, nothing lands outside its root."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.names import UnsafeName, check, under

HOSTILE = [
    "",
    ".",
    "..",
    "../x",
    "a/../../x",
    "a/./b",
    "a//b",
    "a/",
    "/etc/passwd",
    "//server/share/x",
    "..\\..\\x",
    "a\\b",
    "C:/Windows/x",
    "c:x",
    "a/D:/x",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    "a\u202eb",  # right-to-left override
    "a\u200bb",  # zero-width space
    "\u2215etc\u2215passwd",  # DIVISION SLASH
    "..\u2044x",  # FRACTION SLASH
    "\uff0e\uff0e/x",  # FULLWIDTH FULL STOP
    "\u2024\u2024/x",  # ONE DOT LEADER
    "\u2025/x",  # TWO DOT LEADER
    "a\uff0fb",  # FULLWIDTH SOLIDUS
    "a\uff3cb",  # FULLWIDTH REVERSE SOLIDUS
    "C\uff1a/x",  # FULLWIDTH COLON
    "x" * 256,
    "a/" * 600 + "b",
]
PIECES = st.sampled_from(
    [
        ".",
        "..",
        "/",
        "\\",
        ":",
        "C:",
        "~",
        " ",
        "a",
        "b",
        "\x00",
        "\n",
        "\u2215",
        "\u2044",
        "\uff0f",
        "\uff0e",
        "\u2024",
        "\u2025",
        "\u202e",
        "\u200b",
        "\ufe52",
        "é",
        "e\u0301",
        "wood.png",
        "%2e%2e",
        "$HOME",
    ]
)
NAMES = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=40))


@pytest.mark.parametrize("name", HOSTILE)
def test_every_hostile_name_is_refused_with_a_sentence(name: str) -> None:
    with pytest.raises(
        UnsafeName, match=r"^The shot name .*: give a plain relative path such as `projB/sh010`\.$"
    ):
        under(Path("/tmp/cache"), name, "The shot name", "projB/sh010")


@pytest.mark.parametrize(
    "name", ["shot.blend", "projB/sh010/shot.blend", "textures/wood.1001.png", "_outside/home/anna/tex.png"]
)
def test_plain_names_are_paths_inside_the_root(name: str) -> None:
    assert under(Path("/tmp/cache"), name) == Path("/tmp/cache", *name.split("/"))


def test_accents_in_either_unicode_form_are_plain_names() -> None:
    assert check("scène/café.png") and check("sce\u0300ne/cafe\u0301.png")


def test_a_name_that_is_not_text_is_refused() -> None:
    with pytest.raises(UnsafeName, match="must be text"):
        check(["a"])


def test_a_link_inside_the_root_that_leads_out_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path)
    with pytest.raises(UnsafeName, match="leads outside its folder"):
        under(root, "escape/x")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_nothing_the_function_returns_is_outside_its_root_even_when_written(name: str) -> None:
    with tempfile.TemporaryDirectory() as sentinel:
        root = Path(sentinel) / "deep" / "er" / "cache"
        root.mkdir(parents=True)
        try:
            path = under(root, name)
        except UnsafeName as refused:
            assert str(refused).endswith(".")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        written = [Path(folder, file) for folder, _, files in os.walk(sentinel) for file in files]
        assert written and all(root in file.parents for file in written)
