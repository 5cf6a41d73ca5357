"""The layout holds: dependencies point one way, services are built in one place, every module stays readable."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("backend", "bot", "blender_image", "entry", "local")
TEST_DOUBLES = ("tests", "testing")  # the suite, and the doubles bench/ may use too: never shipped
BELOW_ENTRY = ("backend", "bot", "blender_image")  # what the entry points build from, and never import back
NOT_LAMBDA_CODE = (
    "local",
    "bench",
    "tests",
    "testing",
)  # the CLI and embedded stack, the benchmarks, the tests
BACKEND_TOP = {"__init__.py", "aws", "budgets", "commands.py", "config.py", "errors.py", "events.py"}
BACKEND_TOP |= {"render", "workstations"}
BACKEND_TOP |= {"names.py"}  # the one function that turns a name into a path
BACKEND_TOP |= {"limits.py"}  # what a job may ask for and what it costs (plain settings `config` reads)
BACKEND_TOP |= {"doctor"}  # `studiobot doctor`: the preflight of an account and a workspace
BACKEND_TOP |= {"people.py"}  # how a sentence names a person, for each edge to write its way
BACKEND_TOP |= {"event_wire.py"}  # reading an event off the wire (what cannot be read is a value)
CONSTRUCTED = re.compile(
    r"\b(DynamoJobs|SqsQueue|SnsPublisher|S3Store|Ec2Workstations|DynamoLeases|BudgetGuard|AwsBudgets|Fanout|"
    r"JobLifecycle|SubmissionService|WorkstationService|KeepAlive|BudgetService|JobDesk|Announcer|RenderWorker|"
    r"SceneCache|RenderNode)\("
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
        str(path.relative_to(REPO)): _imports_of(path, ("bot", "local", "blender_image", *TEST_DOUBLES))
        for path in _modules("backend")
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_render_image_needs_only_the_backend() -> None:
    wrong = {
        str(path.relative_to(REPO)): _imports_of(path, ("bot", "local", *TEST_DOUBLES))
        for path in _modules("blender_image")
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_no_shipped_code_imports_test_doubles() -> None:
    wrong = {str(path.relative_to(REPO)): _imports_of(path, TEST_DOUBLES) for path in _modules(*SHIPPED)}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_no_package_the_stack_deploys_carries_the_test_doubles() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = re.findall(r"^COPY\s+(\S+)", (REPO / "blender_image" / "Dockerfile").read_text(), re.MULTILINE)
    patterns = re.findall(
        r"^\s*- \"(\.\./[^\"]+)\"", (REPO / "infra" / "serverless.yml").read_text(), re.MULTILINE
    )
    for double in TEST_DOUBLES:
        assert not [pattern for pattern in included if fnmatch.fnmatch(double, pattern)], included
        assert double not in copied
        assert not [pattern for pattern in patterns if pattern.startswith(f"../{double}/")], patterns


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
    for init in _modules("backend", "bot", "blender_image", "entry"):
        if init.name == "__init__.py" and init.parent.name != "sample":
            assert ast.get_docstring(ast.parse(init.read_text())), (
                f"{init.relative_to(REPO)} has no docstring"
            )
    long = {
        str(path.relative_to(REPO)): lines
        for path in _modules("backend", "bot", "blender_image", "entry")
        if (lines := len(path.read_text().splitlines())) > 320
    }
    assert long == {}


def test_nothing_below_the_entry_points_imports_them_or_the_composition_root() -> None:
    wrong = {
        str(path.relative_to(REPO)): [
            name for name in _imported(path) if name.split(".")[0] == "entry" or name == "backend.wiring"
        ]
        for path in _modules(*BELOW_ENTRY)
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_every_lambda_handler_and_the_node_main_is_a_thin_module_of_the_entry_points() -> None:
    infra = REPO / "infra"
    handlers = re.findall(r"^\s+handler:\s*(\S+)$", (infra / "serverless.yml").read_text(), re.M)
    (cmd,) = re.findall(r'^CMD \["python", "-m", "awslambdaric", "([\w.]+)"\]$', _dockerfile(), re.M)
    (node,) = re.findall(r"^\s+Command: \[python, -m, ([\w.]+),", (infra / "batch.yml").read_text(), re.M)
    modules = {handler.rsplit(".", 1)[0] + ".py" for handler in handlers}
    modules |= {cmd.rsplit(".", 1)[0].replace(".", "/") + ".py", node.replace(".", "/") + ".py"}
    assert len(handlers) >= 12 and {module.split("/")[0] for module in modules} == {"entry"}
    long = {
        module: lines for module in modules if (lines := len((REPO / module).read_text().splitlines())) > 60
    }
    assert long == {}


def _dockerfile() -> str:
    return (REPO / "blender_image" / "Dockerfile").read_text()


def _reads_the_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "getenv"}
        ):
            return True
    return False


def test_the_environment_is_read_only_by_the_config_module() -> None:
    shipped = [top for top in SHIPPED if top not in NOT_LAMBDA_CODE]
    readers = {str(path.relative_to(REPO)) for path in _modules(*shipped) if _reads_the_environment(path)}
    assert readers == {"backend/config.py"}
