"""`python -m bench [render|fanout|ack|slack_calls|keepalive|package|estimate|assets|faults|scale|tiles|nodes]` (`make bench`): run them, print a table, write bench/results/*.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections import Counter
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
    scale,
    slack_calls,
    tiles,
)

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = (
    "render",
    "fanout",
    "ack",
    "slack_calls",
    "keepalive",
    "package",
    "estimate",
    "assets",
    "faults",
    "scale",
    "tiles",
    "nodes",
)
console = Console(highlight=False, width=120)  # one row per line, also when piped to a file


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


def _row(table: Table, metric: str, value: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else "[green]yes[/green]" if met else "[red]no[/red]"
    table.add_row(metric, value, target, verdict)


def _workers(count: int) -> str:
    return f"{count} worker{'s' if count != 1 else ''}"


def _render_rows(table: Table, data: dict[str, Any]) -> None:
    _row(table, "render: samples (Cycles, 640×360)", str(data["samples"]))
    _row(table, "render: limit_per_frame_s", f"{data['limit_per_frame_s']:.3f}", "≈ 1 s")
    _row(table, f"render: limit_s ({data['frames']} frames, one warm Blender)", f"{data['limit_s']:.2f}")
    for run in data["pipeline_runs"]:
        _row(table, f"render: pipeline_s, {_workers(run['workers'])}", f"{run['seconds']:.2f}")
    scaled = "" if data["fresh_frames_measured"] == data["frames"] else ", scaled"
    _row(table, f"render: fresh_s (a process per frame{scaled})", f"{data['fresh_s']:.2f}")
    # The best worker count first: its numbers are the headline ones in render.json.
    for run in sorted(data["pipeline_runs"], key=lambda run: run["workers"] != data["workers"]):
        best = "best, " if run["workers"] == data["workers"] else ""
        label = best + _workers(run["workers"])
        efficiency, overhead = run["efficiency"], run["overhead_ratio"]
        _row(table, f"render: efficiency ({label})", f"{efficiency:.3f}", "≥ 0.85", efficiency >= 0.85)
        _row(table, f"render: overhead_ratio ({label})", f"{overhead:.3f}", "≤ 0.25", overhead <= 0.25)
    _row(table, "render: pipeline glue per frame (1 worker)", f"{data['glue_per_frame_s'] * 1000:.0f} ms")
    _row(table, "render: worker peak RSS (VmHWM)", f"{data['worker_peak_rss_mb']:.0f} MB")


def _fanout_rows(table: Table, data: dict[str, Any]) -> None:
    calls, target = data["sqs_calls"], data["sqs_calls_target"]
    _row(table, "fanout: sqs_calls", f"{calls:,}", f"≤ {target:,}", calls <= target)
    _row(table, f"fanout: batched_s ({data['frames']:,} frames, the submit)", f"{data['batched_s']:.2f}")
    _row(table, "fanout: single_s (send_message loop)", f"{data['single_s']:.2f}")
    _row(table, "fanout: speedup", f"{data['speedup']:.1f}×")


def _ack_rows(table: Table, data: dict[str, Any]) -> None:
    ratio, rss, p99, bpy = data["import_ratio"], data["rss_mb"], data["ack_p99_ms"], data["bpy_imported"]
    _row(table, "ack: import_ratio (entry.slack / bare Bolt)", f"{ratio:.3f}", "≤ 1.3", ratio <= 1.3)
    _row(
        table,
        f"ack: import_s, entry.slack (median of {len(data['bot_import_runs_s'])})",
        f"{data['bot_import_s']:.3f}",
    )
    _row(table, "ack: import_s, slack_bolt + Lambda adapter", f"{data['baseline_import_s']:.3f}")
    _row(table, "ack: bpy imported by entry.slack", "yes" if bpy else "no", "no", not bpy)
    _row(table, "ack: rss_mb after import entry.slack", f"{rss:.0f}", "≤ 120", rss <= 120)
    _row(table, "ack: ack_p50_ms", f"{data['ack_p50_ms']:.2f}")
    _row(table, "ack: ack_p99_ms", f"{p99:.2f}", "≤ 20", p99 <= 20)
    _row(table, "ack: first ack after build_app, ms", f"{data['ack_first_ms']:.1f}")
    _row(table, "ack: count (signed /render, in-process)", f"{data['count']:,}")


def _slack_rows(table: Table, data: dict[str, Any]) -> None:
    most = data["max_updates_in_any_5s_per_job"]
    _row(table, f"slack: chat_update_calls ({data['frames']}-frame job)", str(data["chat_update_calls"]))
    _row(table, "slack: max_updates_in_any_5s_per_job", str(most), "≤ 1", most <= 1)
    _row(table, "slack: total Slack calls", str(data["total_slack_calls"]))
    _row(table, "slack: render to completion reply, s", f"{data['render_s']:.1f}")


def _keepalive_rows(table: Table, data: dict[str, Any]) -> None:
    calls = data["ec2_calls"]
    _row(table, f"keepalive: ec2_calls (sweep of {data['workstations']:,})", str(calls), "≤ 5", calls <= 5)
    _row(table, "keepalive: dynamodb_calls", f"{data['dynamodb_calls']:,}")
    _row(table, f"keepalive: sweep_s ({data['stopped']:,} stopped)", f"{data['sweep_s']:.2f}")
    due, sends, most = data["due"], data["ssm_send_commands"], data["ssm_send_commands_target"]
    _row(
        table,
        f"keepalive: SendCommand calls ({due:,} due for a stop)",
        str(sends),
        f"≤ {most}",
        sends <= most,
    )
    _row(
        table,
        "keepalive: workstations asked that were not due",
        str(data["asked_not_due"]),
        "0",
        data["asked_not_due"] == 0,
    )
    _row(table, f"keepalive: left running, someone connected (of {due:,})", f"{data['left_in_use']:,}")
    _row(table, "keepalive: seed_style_ec2_calls", f"{data['seed_style_ec2_calls']:,}")
    _row(table, "keepalive: seed_style_s", f"{data['seed_style_s']:.2f}")
    _row(table, "keepalive: speedup", f"{data['speedup']:.1f}×")


def _package_rows(table: Table, data: dict[str, Any]) -> None:
    if "skipped" in data:
        _row(table, "package: skipped", data["skipped"])
        return
    size = data["bot_zip_mb"]
    _row(
        table,
        f"package: package_s (osls package, median of {len(data['package_runs_s'])})",
        f"{data['package_s']:.2f}",
    )
    _row(table, "package: bot_zip_mb (bot zip + dependencies layer)", f"{size:.2f}", "< 15", size < 15)
    _row(
        table,
        "package: bot code zip / layer zip, MB",
        f"{data['bot_code_zip_mb']:.3f} / {data['layer_zip_mb']:.2f}",
    )
    _row(table, "package: bot unzipped, MB (Lambda limit 250)", f"{data['bot_unzipped_mb']:.1f}")
    bundled = data["boto3_bundled"]
    _row(table, "package: boto3 bundled (else the runtime's)", "yes" if bundled else "no")
    _row(table, "package: bpy bundled", "yes" if data["bpy_bundled"] else "no", "no", not data["bpy_bundled"])
    _row(
        table,
        "package: resources (functions, roles)",
        f"{data['resources']} ({data['functions']}, {data['roles']})",
    )
    runtimes = sorted(set(data.get("runtimes", {}).values()))
    if runtimes:
        deprecated = "python3.11" in runtimes
        _row(table, "package: runtimes", ", ".join(runtimes), "no python3.11", not deprecated)
    if "iam_checked_calls" in data:
        denied = data["iam_denied_calls"]
        _row(table, "package: AWS calls checked against their role (tests)", f"{data['iam_checked_calls']:,}")
        _row(table, "package: AWS calls a role would refuse", str(denied), "0", denied == 0)


def _estimate_rows(table: Table, data: dict[str, Any]) -> None:
    for name in ("small", "large"):
        run = data["runs"][name]
        ratio = data[f"estimate_ratio_{name}"]
        label = f"estimate: estimate_ratio_{name} ({run['resolution']}, {run['frames']} frames)"
        _row(table, label, f"{ratio:.3f}", "0.75–1.25", 0.75 <= ratio <= 1.25)
        _row(
            table,
            f"estimate: render s estimated / measured ({name})",
            f"{run['estimated_render_s']:.1f} / {run['measured_render_s']:.1f}",
        )
        _row(table, f"estimate: billed_ratio ({name})", f"{run['billed_ratio']:.3f}")


def _assets_rows(table: Table, data: dict[str, Any]) -> None:
    megabytes = data["total_bytes"] / 1e6
    _row(
        table, f"assets: shot ({data['files']} files, {megabytes:.0f} MB): trace_s", f"{data['trace_s']:.2f}"
    )
    _row(table, "assets: hash_s (sha256, 4 threads)", f"{data['hash_s']:.2f}")
    first_mb = data["first_bytes_sent"] / 1e6
    _row(table, "assets: first shipment, MB sent / s", f"{first_mb:.0f} / {data['first_s']:.2f}")
    again = data["again_bytes_sent"]
    _row(table, "assets: unchanged shot again, bytes sent", f"{again:,}", "0", again == 0)
    ratio = data["shared_sent_ratio"]
    _row(
        table,
        "assets: shot sharing 90 %, share of bytes sent",
        f"{ratio:.3f}",
        "≈ 0.10",
        0.05 <= ratio <= 0.15,
    )
    if "one_texture_changed_bytes_sent" in data:
        changed, texture = data["one_texture_changed_bytes_sent"], data["texture_bytes"]
        _row(
            table,
            f"assets: one texture changed, bytes sent (+ {data['one_texture_changed_manifest_bytes']:,} manifest)",
            f"{changed:,}",
            f"≤ {texture + 10_000:,}",
            changed <= texture + 10_000,
        )
        other = data["same_blend_other_name_bytes_sent"]
        _row(table, "assets: same .blend under another name, bytes sent", f"{other:,}", "0", other == 0)


def _faults_rows(table: Table, data: dict[str, Any]) -> None:
    injected = f"{data['kills']} / {data['duplicate_deliveries']} / {data['publish_failures_met']}"
    _row(table, f"faults: {data['frames']}-frame job; kills / duplicates / failed publishes", injected)
    expected = data["frames_expected"]
    found = (data["frames_counted"], data["frames_recorded"], data["frame_objects"])
    _row(
        table,
        "faults: frames counted / recorded / stored",
        " / ".join(str(n) for n in found),
        f"{expected} each",
        all(n == expected for n in found),
    )
    told, wanted = data["notices_told"], data["notices_expected"]
    _row(table, "faults: notices told", str(told), str(wanted), told == wanted)
    _row(table, "faults: drain_s (submit to the last notice)", f"{data['drain_s']:.2f}")
    if "hostile_names_tried" in data:
        _trust_rows(table, data)


def _trust_rows(table: Table, data: dict[str, Any]) -> None:
    outside = data["files_outside_cache"]
    _row(
        table,
        f"faults: files outside a worker's cache ({data['hostile_names_tried']} hostile names)",
        str(outside),
        "0",
        outside == 0,
    )
    overwrites = data["upload_overwrites"]
    _row(
        table,
        f"faults: uploads overwritten ({data['concurrent_uploads']} at once)",
        str(overwrites),
        "0",
        overwrites == 0,
    )
    jobs, notices = data["jobs_after_poison"], data["notices_after_poison"]
    _row(
        table,
        f"faults: notices after {data['poison_messages_sent']} poison messages",
        f"{notices} of {jobs} jobs",
        f"{jobs} of {jobs}",
        notices == jobs,
    )
    lost = data["outage_notices_lost"]
    _row(
        table,
        f"faults: notices lost in a {data['outage_minutes']:.0f}-minute Slack outage",
        str(lost),
        "0",
        lost == 0,
    )
    restored, services = data["snapshot_services_restored"], data["snapshot_services"]
    _row(
        table,
        "faults: services a snapshot brought back",
        f"{restored} of {services}",
        f"{services} of {services}",
        restored == services,
    )


def _scale_rows(table: Table, data: dict[str, Any]) -> None:
    frames, small, seconds = data["frames"], data["small_frames"], data["job_s"]
    engine = data["engine"].removeprefix("BLENDER_").title()
    job = f"{engine} {data['resolution']}, chunk {data['chunk']}, {_workers(data['render_workers'])}"
    _row(table, f"scale: {frames:,}-frame job from Slack, s ({job})", f"{seconds:.1f}")
    updates, allowed = data["chat_update_calls"], data["updates_allowed"]
    _row(
        table, "scale: card updates (1 per 5 s of the job)", str(updates), f"≤ {allowed}", updates <= allowed
    )
    most = data["max_updates_in_any_5s"]
    _row(table, "scale: max card updates in any 5 s", str(most), "≤ 1", most <= 1)
    replies = data["completion_replies"]
    _row(table, "scale: completion replies", str(replies), "1", replies == 1)
    methods = Counter(data["slack_calls_by_method"])
    posts, updated = methods.pop("chat.postMessage", 0), methods.pop("chat.update", 0)
    _row(
        table,
        "scale: Slack calls per job: post / update / the rest",
        f"{posts} / {updated} / {methods.total()}",
    )
    _row(table, "scale: DynamoDB calls per frame", f"{data['dynamodb_calls_per_frame']:.2f}")
    sqs, receive = data["sqs_calls_per_frame"], data["sqs_receive_calls_per_frame"]
    _row(table, "scale: SQS calls per frame (ReceiveMessage)", f"{sqs:.2f} ({receive:.2f})")

    def both(name: str, spec: str) -> str:
        return f"{data[name][str(small)]:{spec}} / {data[name][str(frames)]:{spec}}"

    sizes = f"{small:,} / {frames:,} frames"
    _row(table, f"scale: notifier handle_s ({sizes})", both("notifier_handle_s", ".1f"))
    _row(table, f"scale: notifier peak RSS, MB ({sizes})", both("notifier_peak_rss_mb", ".0f"))
    ratio = data["notifier_peak_rss_ratio"]
    _row(table, "scale: notifier peak RSS ratio", f"{ratio:.3f}", "≤ 1.2", ratio <= 1.2)
    _row(table, f"scale: notifier bytes downloaded (proxies; {sizes})", both("notifier_proxy_bytes", ","))
    ratio = data["notifier_proxy_bytes_ratio"]
    _row(table, "scale: notifier bytes downloaded ratio", f"{ratio:.3f}", "≤ 1.2", ratio <= 1.2)
    _row(
        table,
        f"scale: notifier bytes streamed into the zip ({sizes})",
        both("notifier_zip_stream_bytes", ","),
    )
    stations = data["workstations"]
    label = f"scale: /workstations status ({stations['workstations']:,})"
    _row(table, f"{label}: messages / Slack calls", f"{stations['messages']} / {stations['slack_calls']}")
    sent, largest = stations["bytes_sent"], stations["largest_message_bytes"]
    _row(table, f"{label}: bytes sent / largest message", f"{sent:,} / {largest:,}")
    longest = stations["longest_section_chars"]
    _row(table, f"{label}: longest section, chars", f"{longest:,}", "≤ 3,000", longest <= 3000)
    _row(table, f"{label}: answer_s", f"{stations['answer_s']:.2f}")


def _tiles_rows(table: Table, data: dict[str, Any]) -> None:
    whole, busy = data["whole_s"], data["plain"]["whole_cores_busy"]
    scene = f"Cycles {data['resolution'].replace('x', '×')}, {data['samples']} samples; cores busy"
    _row(table, f"tiles: whole frame s ({scene})", f"{whole:.1f} ({busy:.2f})", "≥ 30", whole >= 30)
    for variant, label in (("plain", "no denoise"), ("denoised", "denoised")):
        grids = data[variant]["grids"]
        last = grids["4×4"]  # the cost and latency targets are set for 4×4: 16 workers on one frame
        overscan = last["overscan_px"]
        names = " / ".join(grids)

        def each(field: str, spec: str, grids: dict[str, Any] = grids) -> str:
            return " / ".join(format(result[field], spec) for result in grids.values())

        if variant == "denoised":
            denoised = data[variant]
            busy = denoised["whole_cores_busy"]
            _row(
                table,
                "tiles: whole frame s (denoised; cores busy)",
                f"{denoised['whole_s']:.1f} ({busy:.2f})",
            )
        worst = max(result["pixel_max_abs_diff_255"] for result in grids.values())
        diffs = " / ".join(f"{result['pixel_max_abs_diff_255']}/255" for result in grids.values())
        plain = variant == "plain"
        _row(
            table,
            f"tiles: {names} pixel_max_abs_diff ({label}, {overscan} px overscan)",
            diffs,
            "≤ 1/255" if plain else "",
            worst <= 1 if plain else None,
        )
        ratios = [result["psnr_db"] for result in grids.values()]
        psnr = " / ".join("∞" if ratio is None else f"{ratio:.1f}" for ratio in ratios)
        met = all(ratio is None or ratio >= 40 for ratio in ratios)
        _row(
            table, f"tiles: {names} PSNR dB ({label})", psnr, "" if plain else "≥ 40", None if plain else met
        )
        seams = each("seam_score", ".3f") + f" (whole frame {each('seam_score_whole', '.3f')})"
        worst_seam = max(result["seam_score"] for result in grids.values())
        _row(table, f"tiles: {names} seam score ({label})", seams, "≤ 1.1", worst_seam <= 1.1)
        cost = each("cost_ratio", ".3f") + f" (CPU {each('cpu_cost_ratio', '.3f')})"
        _row(table, f"tiles: {names} cost_ratio ({label})", cost, "≤ 1.25 at 4×4", last["cost_ratio"] <= 1.25)
        latency = last["latency_ratio"]
        _row(
            table,
            f"tiles: {names} latency_ratio ({label})",
            each("latency_ratio", ".3f"),
            "≤ 0.12 at 4×4",
            latency <= 0.12,
        )
    probe = data["probe"]
    error = probe["prediction_error"]
    looks = " + ".join(f"{seconds:.1f}" for seconds in probe["looks_s"])
    _row(
        table,
        f"tiles: probe prediction_error (looks {looks} s)",
        f"{error:+.1%}",
        "±25 %",
        abs(error) <= 0.25,
    )
    if "auto" in data:
        auto, ratio = data["auto"], data["auto"]["cost_ratio"]
        _row(
            table,
            f"tiles: --tiles auto planned {auto['grid']} (denoised), cost_ratio",
            f"{ratio:.3f}",
            "≤ 1.15",
            ratio <= 1.15,
        )


def _nodes_rows(table: Table, data: dict[str, Any]) -> None:
    node_s, handler_s, ratio = data["node_s_per_frame"], data["handler_s_per_frame"], data["overhead_ratio"]
    _row(
        table,
        f"nodes: s per frame, node / handler ({data['frames']} frames, {data['settings']})",
        f"{node_s:.3f} / {handler_s:.3f}",
    )
    _row(table, "nodes: overhead_ratio (node ÷ handler)", f"{ratio:.3f}", "≤ 1.05", ratio <= 1.05)
    _row(table, "nodes: overhead_ratio, renders equalised", f"{data['overhead_ratio_same_renders']:.3f}")
    node_glue, handler_glue = data["glue_ms_per_frame"]
    _row(
        table,
        "nodes: glue ms per frame, node / handler (its empty receive; poller's SQS)",
        f"{node_glue:.1f} / {handler_glue:.1f} ({data['node_empty_receive_ms']:.1f}; "
        f"{data['poller_sqs_ms_per_frame']:.1f})",
    )
    _row(table, "nodes: rendered by, node / handler", " / ".join(data["devices"]))
    spot = data["spot"]
    for trial in spot["trials"]:
        label = f"nodes: Spot notice {trial['notice_after_poll_s']:.1f} s after a poll: detect + hand back, s"
        if trial["handed_back"]:
            _row(table, label, f"{trial['detection_s']:.2f} + {trial['hand_back_s']:.2f}")
        else:
            _row(table, label, "the frame ended first", "handed back", False)
    worst, target = spot["notice_to_receivable_s_max"], spot["target_s"]
    _row(
        table,
        f"nodes: Spot notice to task receivable, worst (IMDS polled every {spot['poll_s']:.0f} s)",
        "—" if worst is None else f"{worst:.2f}",
        f"≤ {target}",
        worst is not None and worst <= target,
    )


def report(results: dict[str, dict[str, Any]], info: dict[str, Any]) -> Table:
    """One row per metric: value, target where there is one, and whether it was met (nothing fails the run)."""
    title = (
        f"studiobot bench · {info['cpu_count']} CPUs ({info['cpu_model']}) · "
        f"load {info['load_average_1m_at_start']} at start"
    )
    table = Table(title=title)
    for column in ("metric", "value", "target", "met"):
        table.add_column(column, justify="right" if column == "value" else "left")
    if "render" in results:
        _render_rows(table, results["render"])
    if "fanout" in results:
        _fanout_rows(table, results["fanout"])
    if "ack" in results:
        _ack_rows(table, results["ack"])
    if "slack_calls" in results:
        _slack_rows(table, results["slack_calls"])
    if "keepalive" in results:
        _keepalive_rows(table, results["keepalive"])
    if "package" in results:
        _package_rows(table, results["package"])
    if "estimate" in results:
        _estimate_rows(table, results["estimate"])
    if "assets" in results:
        _assets_rows(table, results["assets"])
    if "faults" in results:
        _faults_rows(table, results["faults"])
    if "scale" in results:
        _scale_rows(table, results["scale"])
    if "tiles" in results:
        _tiles_rows(table, results["tiles"])
    if "nodes" in results:
        _nodes_rows(table, results["nodes"])
    return table


def _write(name: str, data: dict[str, Any]) -> None:
    # Written as soon as each benchmark ends, so a later failure does not lose it.
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    """Run the chosen benchmarks (all by default), write their JSON and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    # Checked by hand: argparse rejects a list default for a `nargs="*"` positional that has choices.
    parser.add_argument("which", nargs="*", metavar="|".join(BENCHMARKS), help="default: all")
    args = parser.parse_args()
    args.which = args.which or list(BENCHMARKS)
    if not set(args.which) <= set(BENCHMARKS):
        parser.error(f"choose from {', '.join(BENCHMARKS)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    results: dict[str, dict[str, Any]] = {}
    if "render" in args.which:
        console.print("Render: calibrate, warm limit, pipeline (1 and 2 workers), fresh processes…")
        results["render"] = {"machine": info, **render.run(RESULTS / "pipeline.log")}
        _write("render", results["render"])
    if "fanout" in args.which:
        console.print("Fan-out: a 10,000-frame submit, then one message per frame…")
        results["fanout"] = {"machine": info, **fanout.run()}
        _write("fanout", results["fanout"])
    if "ack" in args.which:
        console.print(
            "Ack: cold imports in fresh interpreters (bot vs bare Bolt), then 1,000 signed /render acks…"
        )
        results["ack"] = {"machine": info, **ack.run()}
        _write("ack", results["ack"])
    if "slack_calls" in args.which:
        console.print("Slack: a 240-frame job on the local stack, Slack calls recorded by a loopback fake…")
        results["slack_calls"] = {"machine": info, **slack_calls.run()}
        _write("slack_calls", results["slack_calls"])
    if "keepalive" in args.which:
        console.print(
            "Keep-alive: one expiry sweep over 1,000 workstations in moto, batched vs one at a time…"
        )
        results["keepalive"] = {"machine": info, **keepalive.run()}
        _write("keepalive", results["keepalive"])
    if "package" in args.which:
        console.print("Package: osls package offline, three times; sizes of what the bot's Lambda loads…")
        results["package"] = {"machine": info, **package.run_or_skip()}
        _write("package", results["package"])
    if "estimate" in args.which:
        console.print("Estimate: probe frames vs the whole job, sample scene at two resolutions, one worker…")
        results["estimate"] = {"machine": info, **estimate.run()}
        _write("estimate", results["estimate"])
    if "assets" in args.which:
        console.print("Assets: a 500-texture shot traced and shipped; again unchanged; a shot sharing 90 %…")
        results["assets"] = {"machine": info, **assets.run()}
        _write("assets", results["assets"])
    if "faults" in args.which:
        console.print("Faults: a 48-frame job through 10 worker kills, 50 duplicates and 3 failed publishes…")
        results["faults"] = {"machine": info, **faults.run()}
        _write("faults", results["faults"])
    if "scale" in args.which:
        console.print(
            "Scale: 200 then 2,000 frames from Slack on the local stack, the notifier on each; "
            "/workstations status over 1,000…"
        )
        results["scale"] = {"machine": info, **scale.run(RESULTS / "scale.log")}
        _write("scale", results["scale"])
    if "tiles" in args.which:
        console.print(
            "Tiles: one heavy frame whole vs 2×2 and 4×4 tiles, stitched, without then with denoising "
            "(about 5–8 min)…"
        )
        results["tiles"] = {"machine": info, **tiles.run(RESULTS / "tiles.log")}
        _write("tiles", results["tiles"])
    if "nodes" in args.which:
        console.print(
            "Nodes: a render node vs the render Lambda's handler on the same frames; a Spot notice…"
        )
        results["nodes"] = {"machine": info, **nodes.run()}
        _write("nodes", results["nodes"])
    console.print(report(results, info))
    logs = [
        log
        for name, log in (("render", "pipeline.log"), ("scale", "scale.log"), ("tiles", "tiles.log"))
        if name in results
    ]
    written = [f"{name}.json" for name in results] + logs
    console.print(f"Results in {RESULTS}: {', '.join(written)}")


if __name__ == "__main__":
    main()
