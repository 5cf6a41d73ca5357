"""The `/render` grammar, shared by Slack and the CLI."""

from __future__ import annotations

import pytest

from backend.budgets.grammar import BudgetCommand, parse_budget
from backend.commands import split_words
from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.tasks import RenderSettings
from bot.messages.render_plan import settings_text


def test_scene_and_frames_with_every_option() -> None:
    words = split_words(
        "shot010/shot.blend 1-240 --res 1920x1080 --samples 64 --engine cycles --format=jpeg --chunk 4 "
        "--assets shot010/tex --dry-run"
    )
    request = parse_render(words)
    assert request.scene == "shot010/shot.blend"
    assert request.frames == "1-240"
    assert request.settings == RenderSettings(
        resolution=(1920, 1080), samples=64, engine="CYCLES", file_format="JPEG", chunk=4
    )
    assert request.assets_prefix == "shot010/tex"
    assert request.dry_run


def test_a_render_class_is_chosen_per_job() -> None:
    gpu = parse_render(split_words("shot.blend 1-10 --on GPU --tiles 2x2"))
    assert gpu.settings.render_class == "gpu" and gpu.settings.tiles == (2, 2)
    assert settings_text(gpu.settings).endswith("· on GPU nodes · 2×2 tiles per frame")
    assert parse_render(split_words("shot.blend 1")).settings.render_class == "cpu"


def test_defaults_keep_the_scene_settings() -> None:
    request = parse_render(["a.blend", "1"])
    assert request.settings == RenderSettings()
    assert settings_text(request.settings) == "scene resolution · scene engine · scene samples · scene format"


def test_quoted_scene_names_keep_their_spaces() -> None:
    assert parse_render(split_words('"my shot/final v2.blend" 1-3')).scene == "my shot/final v2.blend"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "Say which scene and frames"),
        ("shot.blend", "Say which frames of `shot.blend`"),
        ("shot.blend 1-10 extra", "`extra` is not a frame range"),
        ("shot.blend 1-10 20-3O", "`20-3O` is not a frame range"),
        ("shot.blend 1-10 --res 1920", "`--res 1920` is not a resolution"),
        ("shot.blend 1-10 --res 99999x10", "outside 1x1 to 7680x4320"),
        ("shot.blend 1-10 --samples 0", "`--samples 0` must be a whole number from 1"),
        ("shot.blend 1-10 --samples lots", "must be a whole number"),
        ("shot.blend 1-10 --engine octane", "`--engine octane` is not one of CYCLES"),
        ("shot.blend 1-10 --format tiff", "`--format tiff` is not one of PNG"),
        ("shot.blend 1-10 --chunk 1000", "from 1 to 100"),
        ("shot.blend 1-10 --on tpu", "`--on tpu` is not one of CPU, GPU"),
        ("shot.blend 1-10 --tiles 3", "`--tiles 3` is not a grid"),
        ("shot.blend 1-10 --fast", "Unknown option `--fast`"),
        ("shot.blend 1-10 --samples", "`--samples` needs a value"),
        ("shot.blend 1-10 --samples 4 --samples 8", "given twice"),
        ('"shot.blend 1-10', "check your quotes"),
    ],
)
def test_mistakes_get_a_sentence_with_something_that_works(text: str, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_render(split_words(text))
    assert said in str(raised.value)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", BudgetCommand("status")),
        ("STATUS", BudgetCommand("status")),
        ("help", BudgetCommand("help")),
        ("guard on", BudgetCommand("guard", on=True)),
        ("guard ON end of month crunch", BudgetCommand("guard", on=True, reason="end of month crunch")),
        ("guard off", BudgetCommand("guard", on=False)),
    ],
)
def test_budget_words(text: str, parsed: BudgetCommand) -> None:
    assert parse_budget(split_words(text)) == parsed


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("spend", "`spend` is not something `/budget` does. Usage: `/budget status`"),
        ("guard", "Say `on` or `off`, e.g. `/budget guard on end of month` or `/budget guard off`"),
        ("guard maybe", "Say `on` or `off`"),
        ("guard off now please", "`/budget guard off` takes nothing more: try `/budget guard off`."),
        ("status all", "`/budget status` takes nothing more than `--page N`, e.g. `/budget status --page 2`"),
    ],
)
def test_budget_mistakes_get_a_sentence_with_something_that_works(text: str, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_budget(split_words(text))
    assert said in str(raised.value)
