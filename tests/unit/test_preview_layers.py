"""Previews of a shot with several view layers say which they show: the composite when the scene composites, else
the first layer, named (the scene as bpy hands it, imitated: no Blender needed)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from blender_image.layers import shown_layer
from bot.messages.job_facts import facts_lines


def _scene(names: list[str], compositing: bool = False, nodes: tuple[str, ...] = ()) -> Any:
    layers = [SimpleNamespace(name=name, use=True) for name in names]
    tree = SimpleNamespace(nodes=[SimpleNamespace(type=kind, mute=False) for kind in nodes])
    return SimpleNamespace(
        view_layers=layers,
        render=SimpleNamespace(use_compositing=compositing),
        compositing_node_group=tree if nodes else None,
    )


def test_one_view_layer_needs_no_word() -> None:
    assert shown_layer(_scene(["ViewLayer"])) == ""


def test_several_layers_without_a_compositor_name_the_first_and_how_many_there_are() -> None:
    said = shown_layer(_scene(["Foreground", "Background"]))
    assert said == "view layer `Foreground` (the first of 2: the scene composites nothing)"


def test_several_layers_composited_show_the_composite() -> None:
    scene = _scene(
        ["Foreground", "Background"], compositing=True, nodes=("R_LAYERS", "R_LAYERS", "GROUP_OUTPUT")
    )
    assert shown_layer(scene) == "composite of 2 view layers"


def test_the_facts_say_which_layer_the_previews_show() -> None:
    job = Job(
        job_id="r1",
        status=JobStatus.DONE,
        scene_bucket="b",
        scene_key="s/shot.blend",
        scene_etag="e",
        frames_spec="1",
        total=1,
        task_count=1,
        settings=RenderSettings(),
        output_bucket="o",
        output_prefix="o/r1/",
        preview_layer="view layer `Foreground` (the first of 2: the scene composites nothing)",
    )
    assert "🖼️ Previews show the view layer `Foreground` (the first of 2: the scene composites nothing)" in (
        facts_lines(job)
    )
