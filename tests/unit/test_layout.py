"""The layout holds: dependencies point one way, services are built in one place, every module stays readable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("backend", "bot", "blender_image", "local")
BACKEND_TOP = {"__init__.py", "aws", "budgets", "commands.py", "config.py", "errors.py", "events.py"}
BACKEND_TOP |= {"render", "workstations"}
BACKEND_TOP |= {"names.py"}  # the one function that turns a name into a path
BACKEND_TOP |= {"limits.py"}  # what a job may ask for and what it costs (plain settings `config` reads)
BACKEND_TOP |= {"doctor"}  # `studiobot doctor`: the preflight of an account and a workspace
CONSTRUCTED = re.compile(
    r"\b(DynamoJobs|SqsQueue|SnsPublisher|S3Store|Ec2Workstations|DynamoLeases|BudgetGuard|AwsBudgets|Fanout|"
    r"JobReporter|SubmissionService|WorkstationService|KeepAlive|BudgetService|JobDesk|Announcer)\("
)


def _modules(*tops: str) -> list[Path]:
    return sorted(
        path for top in tops for path in (REPO / top).rglob("*.py") if "__pycache__" not in path.parts
    )


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imports_of(path: Path, packages: tuple[str, ...]) -> list[str]:
    return sorted(name for name in _imported(path) if name.split(".")[0] in packages)


def test_the_backend_never_imports_the_bot_the_image_or_the_local_stack() -> None:
    wrong = {
        str(path.relative_to(REPO)): _imports_of(path, ("bot", "local", "blender_image", "tests"))
        for path in _modules("backend")
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_render_image_needs_only_the_backend() -> None:
    wrong = {
        str(path.relative_to(REPO)): _imports_of(path, ("bot", "local", "tests"))
        for path in _modules("blender_image")
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_no_shipped_code_imports_test_doubles() -> None:
    wrong = {str(path.relative_to(REPO)): _imports_of(path, ("tests",)) for path in _modules(*SHIPPED)}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_backend_top_level_holds_the_domains_the_adapters_the_contracts_and_the_root() -> None:
    top = {path.name for path in (REPO / "backend").iterdir() if path.name != "__pycache__"}
    assert top == BACKEND_TOP


def test_services_and_adapters_are_built_only_in_the_composition_root() -> None:
    builders = {
        str(path.relative_to(REPO))
        for path in _modules(*SHIPPED)
        if path.name != "wiring.py"
        for line in path.read_text().splitlines()
        if CONSTRUCTED.search(line) and not line.lstrip().startswith("class ")
    }
    assert builders == set()


def test_every_package_says_what_lives_there_and_no_module_grows_past_300_lines() -> None:
    for init in _modules("backend", "bot", "blender_image"):
        if init.name == "__init__.py" and init.parent.name != "sample":
            assert ast.get_docstring(ast.parse(init.read_text())), (
                f"{init.relative_to(REPO)} has no docstring"
            )
    long = {
        str(path.relative_to(REPO)): lines
        for path in _modules("backend", "bot", "blender_image")
        if (lines := len(path.read_text().splitlines())) > 320
    }
    assert long == {}
