"""A job's life reads from one place: the table and its diagram agree, the fan-out and progress do not reach into
each other, and each render service takes only the part of the job store it uses."""

from __future__ import annotations

import ast
from pathlib import Path

from backend.render import lifecycle
from backend.render.lifecycle import TRANSITIONS, Event, JobStatus

REPO = Path(__file__).resolve().parents[2]
RENDER = REPO / "backend" / "render"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_diagram_names_every_state_and_every_event_of_the_table() -> None:
    diagram = lifecycle.__doc__ or ""
    assert [status for status in JobStatus if status.name not in diagram] == []
    assert [event for event in Event if event.name not in diagram] == []
    assert len(TRANSITIONS) == len(Event)  # one row per event


def test_fanout_and_progress_do_not_reach_into_each_other() -> None:
    assert "backend.render.progress" not in _imports(RENDER / "fanout.py")
    assert "backend.render.fanout" not in _imports(RENDER / "progress.py")
    assert "backend.render.job_life" not in _imports(RENDER / "fanout.py") | _imports(RENDER / "progress.py")


def test_no_render_service_takes_the_whole_job_store() -> None:
    whole = {}
    for path in sorted(RENDER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                for argument in node.args.args:
                    if argument.annotation is not None and "JobStore" in ast.unparse(argument.annotation):
                        whole[str(path.relative_to(REPO))] = argument.arg
    assert whole == {}
