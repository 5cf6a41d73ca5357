"""A multilayer EXR shot with two view layers and no compositor: each frame gets a proxy per layer, and the contact
sheet the thread and the CLI get has a row per layer, labelled; a shot that composites keeps one composite sheet.
Real bpy shots, built at test time at 32×18."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.events import JobCompleted
from backend.render.grammar import parse_render
from backend.render.layer_previews import GAP, LABEL_HEIGHT
from backend.render.shipping import ShotShipper, shot_key
from backend.render.shots import hash_files, trace_shot
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from local.cli.render import _download
from testing.slack import FakeSlack

from .conftest import Stack, build_with_bpy

pytestmark = pytest.mark.bpy

CHANNEL = "C0RENDERS"
THUMB = (240, 135)  # the sheet's thumbnails of a 32×18 frame
LAYER_KEYS = (
    "01-Fore%2Fground%20%C3%A9",
    "02-Background",
)  # `Fore/ground é`, `Background`, in the scene's order


@pytest.fixture(scope="module")
def layered_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_with_bpy("tests.shots.build_layered", tmp_path_factory.mktemp("layered"))


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _render_and_announce(stack: Stack, slack: FakeSlack, scene: Path, tmp_path: Path) -> str:
    """Ship the shot, submit frames 1-2 with a card, render them with real Blender, and let the notifier tell it."""
    from blender_image.blender import BlenderRenderer

    settings = replace(stack.settings, slack_api_url=slack.base_url)
    services = Services(settings)
    services.__dict__["jobs"] = stack.jobs
    trace = trace_shot(scene)
    shipper = ShotShipper(stack.store, settings.scenes_bucket, settings.scenes_prefix)
    key = shipper.ship(
        trace, trace.manifest(hash_files(trace)), shot_key(scene, settings.scenes_prefix)
    ).scene_key
    request = parse_render(split_words(f"{key.removeprefix('scenes/')} 1-2"))
    job = services.submissions.submit(request, "U0ARTIST", CHANNEL).job
    assert job is not None
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    post_card(client, services, job.job_id, CHANNEL)
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "cache", settings.scenes_prefix),
        renderer=BlenderRenderer(),
        uploader=stack.store,
        work_dir=tmp_path / "work",
    )
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    for event in stack.events():
        notifier.handle(event)
    return job.job_id


def _posted_sheet(slack: FakeSlack) -> Image.Image:
    (sheet, _gif) = slack.calls_to("upload")
    return Image.open(io.BytesIO(sheet.body)).convert("RGB")


def _rows(sheet: Image.Image) -> list[tuple[tuple[int, int, int], int]]:
    """Each row of a layered sheet: the colour of its first picture's middle, and how many label pixels it has."""
    row_height = LABEL_HEIGHT + THUMB[1] + LABEL_HEIGHT + GAP
    rows = []
    for top in range(GAP, sheet.height - GAP, row_height):
        middle = sheet.getpixel((GAP + THUMB[0] // 2, top + LABEL_HEIGHT + THUMB[1] // 2))
        band = sheet.crop((GAP, top, sheet.width, top + LABEL_HEIGHT)).convert("L")
        rows.append((middle, sum(1 for value in band.get_flattened_data() if value > 128)))
    return rows  # type: ignore[return-value]


def test_two_view_layers_without_a_compositor_show_a_labelled_row_each(
    stack: Stack, slack: FakeSlack, layered_shots: Path, tmp_path: Path
) -> None:
    # GIVEN a shot whose first view layer sees a red plane and its second a blue one, nothing composited
    job_id = _render_and_announce(stack, slack, layered_shots / "layered" / "shot.blend", tmp_path)
    # THEN every frame has a proxy per layer beside its own, under keys made safely from the layers' names
    listed = stack.s3.list_objects_v2(
        Bucket=stack.settings.outputs_bucket, Prefix=f"outputs/{job_id}/proxies/"
    )
    keys = {item["Key"].removeprefix(f"outputs/{job_id}/proxies/") for item in listed["Contents"]}
    assert keys == {"shot_0001.png", "shot_0002.png"} | {
        f"layers/{layer}/shot_{frame:04d}.png" for layer in LAYER_KEYS for frame in (1, 2)
    }
    # AND the sheet in the thread has two rows, labelled, whose pictures are the layers' own colours
    sheet = _posted_sheet(slack)
    assert sheet.size == (2 * (THUMB[0] + GAP) + GAP, 2 * (2 * LABEL_HEIGHT + THUMB[1] + GAP) + GAP)
    (first, first_label), (second, second_label) = _rows(sheet)
    assert first[0] > 150 and first[2] < 60  # red: `Fore/ground é`
    assert second[2] > 150 and second[0] < 60  # blue: `Background`
    assert first_label > 20 and second_label > 20 and first_label != second_label  # two different names
    # AND the card says what the previews show
    card = "\n".join(str(block) for block in slack.calls_to("chat.update")[-1].args["blocks"])
    assert "2 view layers, a row each on the contact sheet" in card
    # AND the CLI's download makes the same sheet
    event = JobCompleted(
        job_id=job_id,
        status="done",
        scene_key="scenes/layered/shot.blend",
        done=2,
        failed=0,
        total=2,
        output_bucket=stack.settings.outputs_bucket,
        output_prefix=f"outputs/{job_id}/",
    )
    folder = _download(stack.store, event, tmp_path / "renders")
    assert folder is not None
    assert sorted(path.name for path in folder.iterdir()) == [
        "contact_sheet.png",
        "shot_0001.exr",
        "shot_0002.exr",
    ]
    with Image.open(folder / "contact_sheet.png") as downloaded:
        assert list(downloaded.convert("RGB").get_flattened_data()) == list(sheet.get_flattened_data())


def test_two_view_layers_composited_show_one_composite_sheet(
    stack: Stack, slack: FakeSlack, layered_shots: Path, tmp_path: Path
) -> None:
    job_id = _render_and_announce(stack, slack, layered_shots / "composited" / "shot.blend", tmp_path)
    listed = stack.s3.list_objects_v2(
        Bucket=stack.settings.outputs_bucket, Prefix=f"outputs/{job_id}/proxies/"
    )
    assert sorted(item["Key"].rsplit("/", 1)[-1] for item in listed["Contents"]) == [
        "shot_0001.png",
        "shot_0002.png",
    ]
    sheet = _posted_sheet(slack)
    assert sheet.height == THUMB[1] + LABEL_HEIGHT + 2 * GAP  # one row: the composite, as before
    red, _green, blue = sheet.getpixel((GAP + THUMB[0] // 2, GAP + THUMB[1] // 2))  # type: ignore[misc]
    assert red > 150 and blue < 60  # the compositor shows the first layer
