"""`python -m bench [render|fanout|ack|slack_calls|keepalive|package|estimate|assets|faults|scale|tiles|nodes|sharing]
[--repeats N]` (`make bench`): run them, print a table, write bench/results/*.json; exit 1 if a value is noisy."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import (
    ack,
    assets,
    estimate,
    fanout,
    faults,
    keepalive,
    nodes,
    package,
    render,
    rows,
    rows_jobs,
    scale,
    sharing,
    slack_calls,
    tiles,
)
from bench.verdict import Rows, Verdict

RESULTS = Path(__file__).resolve().parent / "results"
console = Console(highlight=False, width=120)  # one row per line, also when piped to a file
COLOURED = {
    Verdict.NONE: "",
    Verdict.MET: "[green]yes[/green]",
    Verdict.MISSED: "[red]no[/red]",
    Verdict.NOISY: f"[yellow]{Verdict.NOISY}[/yellow]",
}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "bpy": version("bpy"),
        "moto": version("moto"),
        # Other work on the machine slows every number here: the load before we start says how busy it is.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: what it says it does, how it runs, its table rows and the log it leaves, if any."""

    name: str
    says: str
    run: Callable[[argparse.Namespace], dict[str, Any]]
    rows: Callable[[Rows, dict[str, Any]], None]
    log: str | None = None


BENCHMARKS = (
    Benchmark(
        "render",
        "Render: calibrate; warm limit and pipeline (1 and 2 workers) interleaved, best of {repeats}; fresh processes…",
        lambda args: render.run(RESULTS / "pipeline.log", repeats=args.repeats),
        rows.render_rows,
        "pipeline.log",
    ),
    Benchmark(
        "fanout",
        "Fan-out: a 10,000-frame submit, then one message per frame…",
        lambda args: fanout.run(),
        rows.fanout_rows,
    ),
    Benchmark(
        "ack",
        "Ack: cold imports in fresh interpreters (bot vs bare Bolt), then 1,000 signed /render acks…",
        lambda args: ack.run(),
        rows.ack_rows,
    ),
    Benchmark(
        "slack_calls",
        "Slack: a 240-frame job on the local stack, Slack calls recorded by a loopback fake…",
        lambda args: slack_calls.run(),
        rows.slack_rows,
    ),
    Benchmark(
        "keepalive",
        "Keep-alive: one expiry sweep over 1,000 workstations in moto, batched vs one at a time…",
        lambda args: keepalive.run(),
        rows.keepalive_rows,
    ),
    Benchmark(
        "package",
        "Package: osls package offline, three times; sizes of what the bot's Lambda loads…",
        lambda args: package.run_or_skip(),
        rows.package_rows,
    ),
    Benchmark(
        "estimate",
        "Estimate: probe frames vs the whole job, sample scene at two resolutions, one worker…",
        lambda args: estimate.run(),
        rows.estimate_rows,
    ),
    Benchmark(
        "assets",
        "Assets: a 500-texture shot traced and shipped; again unchanged; a shot sharing 90 %…",
        lambda args: assets.run(),
        rows.assets_rows,
    ),
    Benchmark(
        "faults",
        "Faults: a 48-frame job through 10 worker kills, 50 duplicates and 3 failed publishes…",
        lambda args: faults.run(),
        rows_jobs.faults_rows,
    ),
    Benchmark(
        "scale",
        "Scale: 200 then 2,000 frames from Slack on the local stack, the notifier on each; "
        "/workstations status over 1,000…",
        lambda args: scale.run(RESULTS / "scale.log"),
        rows_jobs.scale_rows,
        "scale.log",
    ),
    Benchmark(
        "tiles",
        "Tiles: one heavy frame whole vs 2×2 and 4×4 tiles, stitched, without then with denoising "
        "(about 5–8 min)…",
        lambda args: tiles.run(RESULTS / "tiles.log"),
        rows_jobs.tiles_rows,
        "tiles.log",
    ),
    Benchmark(
        "nodes",
        "Nodes: a render node vs the render Lambda's handler on the same frames; a Spot notice…",
        lambda args: nodes.run(),
        rows_jobs.nodes_rows,
    ),
    Benchmark(
        "sharing",
        "Sharing: a 10-frame job 10 s behind a 2,000-frame one at 2 workers, alone then fair, urgent, FIFO "
        "(about 6 min)…",
        lambda args: sharing.run(RESULTS / "sharing.log"),
        sharing.sharing_rows,
        "sharing.log",
    ),
)


def judged(results: dict[str, dict[str, Any]]) -> Rows:
    """Every row of the chosen benchmarks' results, judged against its target and its physical bounds."""
    table = Rows()
    for benchmark in BENCHMARKS:
        if benchmark.name in results:
            benchmark.rows(table, results[benchmark.name])
    return table


def report(judged_rows: Rows, info: dict[str, Any]) -> Table:
    """One row per metric: value, target where there is one, and whether it was met (or the value is noisy)."""
    title = (
        f"studiobot bench · {info['cpu_count']} CPUs ({info['cpu_model']}) · "
        f"load {info['load_average_1m_at_start']} at start"
    )
    table = Table(title=title)
    for column in ("metric", "value", "target", "met"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in judged_rows.rows:
        table.add_row(row.metric, row.value, row.target, COLOURED[row.verdict])
    return table


def _write(name: str, data: dict[str, Any]) -> None:
    # Written as soon as each benchmark ends, so a later failure does not lose it.
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    """Run the chosen benchmarks (all by default), write their JSON, print the table; exit 1 on a noisy value."""
    names = [benchmark.name for benchmark in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    # Checked by hand: argparse rejects a list default for a `nargs="*"` positional that has choices.
    parser.add_argument("which", nargs="*", metavar="|".join(names), help="default: all")
    parser.add_argument(
        "--repeats",
        type=int,
        default=render.REPEATS,
        help=f"render: rounds of the warm limit and the pipeline, interleaved; the best of each counts "
        f"(default {render.REPEATS})",
    )
    args = parser.parse_args()
    args.which = args.which or names
    if not set(args.which) <= set(names):
        parser.error(f"choose from {', '.join(names)}")
    if args.repeats < 1:
        parser.error("--repeats takes 1 or more")
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    results: dict[str, dict[str, Any]] = {}
    for benchmark in BENCHMARKS:
        if benchmark.name in args.which:
            console.print(benchmark.says.format(repeats=args.repeats))
            results[benchmark.name] = {"machine": info, **benchmark.run(args)}
            _write(benchmark.name, results[benchmark.name])
    judged_rows = judged(results)
    console.print(report(judged_rows, info))
    logs = [benchmark.log for benchmark in BENCHMARKS if benchmark.name in results and benchmark.log]
    written = [f"{name}.json" for name in results] + logs
    console.print(f"Results in {RESULTS}: {', '.join(written)}")
    if judged_rows.noisy:
        noisy = ", ".join(row.metric for row in judged_rows.noisy)
        console.print(f"Noisy: {noisy}. Other work shared the cores: rerun on a quiet machine.")
        sys.exit(1)


if __name__ == "__main__":
    main()
