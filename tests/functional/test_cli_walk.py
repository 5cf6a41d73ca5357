"""Every refusal and error path of every `studiobot` command says a sentence, never a Python traceback.

Each case runs the console entry (`local.cli.main:main`) in its own process, as a person would: no stack running, a
stack running (moto in this process, no workers: nothing renders), and a stack that stopped answering."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.functional.cli_stack import cli_stack, studiobot

pytestmark = [pytest.mark.slow]


@dataclass(frozen=True)
class Case:
    """A command line, the stack it meets, and words its answer must hold."""

    args: tuple[str, ...]
    says: str
    stack: str = (
        "up"  # "up", "none" (not running), "gone" (stopped answering), "unreadable" (a torn stack.json)
    )
    code: int | None = 1  # None: any exit code


NO_STACK = "The local stack is not running: start it with `studiobot up`."
GONE = "The local stack stopped answering"
CASES = [
    # no stack running
    Case(("render", "shot/shot.blend", "1-24"), NO_STACK, "none"),
    Case(("render", "list"), NO_STACK, "none"),
    Case(("upload", "{shot}"), NO_STACK, "none"),
    Case(("upload", "nowhere/shot.blend"), "is not a .blend file here", "none"),
    Case(("down",), "The local stack is not running.", "none", code=0),
    Case(("down", "--forget"), "The local stack is not running.", "none", code=0),
    Case(("workstations", "status"), NO_STACK, "none"),
    Case(("budget",), NO_STACK, "none"),
    Case(("keepalive", "run", "--wait", "0"), NO_STACK, "none"),
    Case(("doctor", "--local"), NO_STACK, "none"),
    Case(("node", "--class", "nope"), "nope", "none", code=None),
    Case(("nonsense",), "No such command", "none", code=2),
    Case(("up", "--workers", "many"), "valid integer", "none", code=2),
    Case(("keepalive", "run", "--wait", "soon"), "valid integer", "none", code=2),
    # a stack running
    Case(("render",), "/render SCENE FRAMES", code=None),
    Case(("render", "nosuch/shot.blend"), "frame"),
    Case(("render", "nosuch/shot.blend", "1-240x0"), "1-240x0"),
    Case(("render", "nosuch/shot.blend", "1-99999999"), "last frame"),
    Case(("render", "nosuch/shot.blend", "1-x"), "1-x"),
    Case(("render", "nosuch/shot.blend", "1", "--res", "big"), "big"),
    Case(("render", "nosuch/shot.blend", "1", "--tiles", "0x0"), "0x0"),
    Case(("render", "nosuch/shot.blend", "1", "--on", "tpu"), "tpu"),
    Case(("render", "nosuch/shot.blend", "1"), "There is no scene `scenes/nosuch/shot.blend`"),
    Case(("render", "{shot}", "1", "--as"), "`--as` needs the shot's name"),
    Case(("render", "{shot}", "1", "--as", "../../etc"), "shot's name"),
    Case(("render", "nosuch/shot.blend", "1", "--as", "a/b"), "is not a .blend file here"),
    Case(("render", "{broken}", "1"), "could not be read"),
    Case(("render", "{shot}", "1", "--on", "gpu"), "No GPU render node is running"),
    Case(("render", "status", "nojob1"), "nojob1"),
    Case(("render", "cancel", "nojob1"), "nojob1"),
    Case(("render", "retry", "nojob1"), "nojob1"),
    Case(("render", "submit", "nojob1"), "nojob1"),
    Case(("render", "cancel"), "which job"),
    Case(("render", "submit"), "which job"),
    Case(("render", "retry"), "Say which job to retry"),
    Case(("upload", "{missing}"), "not found next to `shot.blend`"),
    Case(("upload", "{broken}"), "could not be read"),
    Case(("upload", "{notblend}"), "is not a .blend file here"),
    Case(("upload", "{shot}", "--as", "../x"), "shot's name"),
    Case(("workstations", "start", "anim-01"), "There is no workstation `anim-01`"),
    Case(("workstations", "frobnicate"), "/workstations"),
    Case(("budget", "guard", "sideways"), "/budget"),
    Case(("up",), "The local stack is already up", code=0),
    # a stack that stopped answering
    Case(("render", "list"), GONE, "gone"),
    Case(("render", "status", "nojob1"), GONE, "gone"),
    Case(("upload", "{shot}"), GONE, "gone"),
    Case(("workstations", "status"), GONE, "gone"),
    Case(("budget",), GONE, "gone"),
    Case(("keepalive", "run", "--wait", "0"), GONE, "gone"),
    # a state file torn by a crash
    Case(("render", "list"), "stack.json", "unreadable"),
    Case(("down",), "stack.json", "unreadable"),
]


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A home per kind of stack; the `up` one names a deployed stack."""
    root = tmp_path_factory.mktemp("walk")
    gone, torn = root / "gone" / ".studiobot", root / "torn" / ".studiobot"
    with cli_stack(root / "up" / ".studiobot") as running:
        state = json.loads((running.home / "stack.json").read_text())
        state["stack"]["endpoint"] = "http://127.0.0.1:9"  # discard: nothing answers there
        gone.mkdir(parents=True)
        (gone / "stack.json").write_text(json.dumps(state))
        torn.mkdir(parents=True)
        (torn / "stack.json").write_text(json.dumps(state)[:40])
        (root / "none").mkdir()
        yield {"up": running.home, "none": root / "none" / ".studiobot", "gone": gone, "unreadable": torn}


def _paths(folder: Path, shots: Path) -> dict[str, str]:
    (folder / "walkshot").mkdir(parents=True, exist_ok=True)
    shutil.copytree(shots / "textured", folder / "walkshot", dirs_exist_ok=True)
    shutil.copytree(shots / "missing", folder / "walkmissing", dirs_exist_ok=True)
    (folder / "broken").mkdir(exist_ok=True)
    (folder / "broken" / "shot.blend").write_bytes(b"not a blend file at all")
    (folder / "notes.txt").write_text("not a shot")
    return {
        "shot": str(folder / "walkshot" / "shot.blend"),
        "missing": str(folder / "walkmissing" / "shot.blend"),
        "broken": str(folder / "broken" / "shot.blend"),
        "notblend": str(folder / "notes.txt"),
    }


def _invoke(home: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`studiobot ARGS` in this process, through the console entry (`local.cli.main:main`): its exit code and words."""
    from local.cli.main import main

    environ, argv, hook = dict(os.environ), sys.argv, threading.excepthook
    os.environ["STUDIOBOT_HOME"] = str(home)
    sys.argv = ["studiobot", *args]
    try:
        main()
        code = 0
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.argv, threading.excepthook = argv, hook
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _wrong(case: Case, code: int, output: str) -> str | None:
    """Why an answer is not a sentence (None when it is)."""
    said = " ".join(output.split())
    if (
        "Traceback" not in said
        and "❱" not in said  # rich's traceback, without its title
        and case.says.lower() in said.lower()
        and (case.code is None or code == case.code)
        and len(re.findall(r"\b[A-Za-z]{2,}\b", said)) >= 5  # words, not a stack dump
    ):
        return None
    return f"{' '.join(case.args)} [{case.stack}] → exit {code}: {said[-600:]}"


@pytest.mark.bpy
def test_every_refusal_and_error_says_a_sentence_and_no_traceback(
    homes: dict[str, Path], shots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _paths(tmp_path, shots)
    wrong = []
    for case in CASES:
        code, output = _invoke(homes[case.stack], [arg.format(**paths) for arg in case.args], capsys)
        wrong.append(_wrong(case, code, output))
    assert not [why for why in wrong if why], "\n\n".join(why for why in wrong if why)


@pytest.mark.bpy
def test_the_studiobot_script_itself_says_a_sentence(
    homes: dict[str, Path], shots: Path, tmp_path: Path
) -> None:
    """A few of the cases again in their own process, as the installed `studiobot` script runs them."""
    paths = _paths(tmp_path, shots)
    chosen = [case for case in CASES if case.args[:2] in {("render", "{broken}"), ("render", "list")}]
    chosen += [case for case in CASES if case.args[0] in ("nonsense", "up")][:2]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda case: studiobot(homes[case.stack], *[arg.format(**paths) for arg in case.args]), chosen
            )
        )
    wrong = [
        _wrong(case, result.returncode, result.stdout + result.stderr)
        for case, result in zip(chosen, results, strict=True)
    ]
    assert len(chosen) >= 5 and not [why for why in wrong if why], "\n\n".join(why for why in wrong if why)
