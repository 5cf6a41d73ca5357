"""Per-layer proxies: keys made safely from any view layer's name, grouped back into rows in the scene's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.render.layer_previews import (
    layer_folder,
    layer_label,
    layer_rows,
    layer_segment,
    upload_layer_proxies,
)
from blender_image.layers import layer_rows_of, shown_layer
from tests.unit.test_preview_layers import _scene

PROXIES = "outputs/r1/proxies/"


@pytest.mark.parametrize(
    "name", ["Background", "Fore/ground é", "..", "../../etc", "a\\b", "x\ty", "%41", "  "]
)
def test_any_layer_name_becomes_one_plain_segment_and_reads_back(name: str) -> None:
    segment = layer_segment(3, name)
    assert "/" not in segment and "\\" not in segment and segment.startswith("03-")
    assert segment not in (".", "..") and all(ord(char) > 32 for char in segment)
    assert layer_label(segment) == name


def test_rows_keep_the_scenes_order_and_ignore_the_frames_own_proxies() -> None:
    keys = [
        f"{PROXIES}shot_0001.png",
        f"{PROXIES}layers/02-Background/shot_0002.png",
        f"{PROXIES}layers/01-Fore/shot_0002.png",
        f"{PROXIES}layers/02-Background/shot_0001.png",
        f"{PROXIES}layers/01-Fore/shot_0001.png",
        f"{PROXIES}layers/01-Fore/deeper/shot_0001.png",  # not a layer's proxy: never put on the sheet
    ]
    assert layer_rows(keys, PROXIES) == [
        ("01-Fore", [f"{PROXIES}layers/01-Fore/shot_0001.png", f"{PROXIES}layers/01-Fore/shot_0002.png"]),
        (
            "02-Background",
            [f"{PROXIES}layers/02-Background/shot_0001.png", f"{PROXIES}layers/02-Background/shot_0002.png"],
        ),
    ]


class Uploads:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        assert path.exists() and content_type == "image/png"
        self.keys.append(key)


def test_the_workers_upload_puts_each_layer_beside_the_frames_proxy_and_cleans_up(tmp_path: Path) -> None:
    frame = tmp_path / "shot_0001.exr"
    folder = layer_folder(frame)
    folder.mkdir()
    for index, name in enumerate(["Fore/ground é", "Background"], start=1):
        (folder / f"{layer_segment(index, name)}.png").write_bytes(b"png")
    uploads = Uploads()
    keys = upload_layer_proxies(uploads, "outputs", f"{PROXIES}shot_0001.png", frame)
    assert (
        keys
        == uploads.keys
        == [
            f"{PROXIES}layers/01-Fore%2Fground%20%C3%A9/shot_0001.png",
            f"{PROXIES}layers/02-Background/shot_0001.png",
        ]
    )
    assert not folder.exists()
    assert (
        upload_layer_proxies(uploads, "outputs", f"{PROXIES}shot_0002.png", tmp_path / "shot_0002.exr") == []
    )


def test_rows_only_for_several_layers_that_nothing_composites() -> None:
    assert layer_rows_of(_scene(["A", "B"])) == ["A", "B"]
    assert layer_rows_of(_scene(["A"])) == []
    assert layer_rows_of(_scene(["A", "B"], compositing=True, nodes=("R_LAYERS", "GROUP_OUTPUT"))) == []


def test_a_multilayer_job_says_its_sheet_has_a_row_per_layer() -> None:
    said = shown_layer(_scene(["Foreground", "Background"]), multilayer=True)
    assert said == (
        "2 view layers, a row each on the contact sheet (the scene composites nothing; the animation shows "
        "`Foreground`)"
    )
