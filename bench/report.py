"""Markdown for ``python -m bench``: one part per section, each with its goals (met or missed),
the command that ran it and the ragft source it ran; and a ``goals`` part summing them up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import ack_latency, memory, paced
from bench.common import median
from bench.goals import (
    ACK_DEADLINE,
    ACK_P99_RATIO_GOAL,
    CPU_RATIO_GOAL,
    NAMES,
    SWEEP_GOAL,
    VISIBLE_GOAL,
    Goal,
    goal_lines,
    ms,
    verdict,
)


def ack_goals(result: dict[str, Any]) -> list[Goal]:
    goals: list[Goal] = []
    rounds = result["rounds"]
    level = ack_latency.ROUND_LEVEL
    for name in rounds[0] if rounds else []:
        if name == "bare Bolt":
            continue
        ratios = [r[name]["p99"] / r["bare Bolt"]["p99"] for r in rounds]
        mid = median(ratios)
        each = ", ".join(f"{x:.2f}" for x in ratios)
        goals.append(
            (
                f"ack p99 at c={level}, {name} ÷ bare Bolt ≤ {ACK_P99_RATIO_GOAL}",
                f"median of {len(ratios)} rounds {mid:.2f} (spread {min(ratios):.2f}–"
                f"{max(ratios):.2f}; rounds {each})",
                mid <= ACK_P99_RATIO_GOAL,
            )
        )
    bare_cpu = result["cpu"].get("bare Bolt")
    for name, cpu in result["cpu"].items():
        if name != "bare Bolt" and bare_cpu:
            goals.append(
                (
                    f"server CPU per request incl. after-ack work, {name} ÷ bare Bolt "
                    f"≤ {CPU_RATIO_GOAL:g}",
                    f"{cpu / bare_cpu:.1f}× ({cpu:.2f} vs {bare_cpu:.2f} ms/req, c={level} rounds)",
                    cpu / bare_cpu <= CPU_RATIO_GOAL,
                )
            )
    for name, row in result["levels"].get(50, {}).items():
        if name != "bare Bolt":
            goals.append(
                (
                    f"every ack < {ACK_DEADLINE:g} s at c=50, {name}",
                    f"slowest {ms(row['max'])} ms, {row['non_200']} non-200",
                    row["max"] < ACK_DEADLINE and row["non_200"] == 0,
                )
            )
    return goals


def render_ack(result: dict[str, Any]) -> list[str]:
    level = ack_latency.ROUND_LEVEL
    out = [
        "### 1. Acknowledgement latency and server CPU",
        "",
        "Fake Slack delay 200 ms on every Web API call. A closed loop of `c` concurrent clients; "
        "a third each `/ragft <title>`, answer clicks and `@ragft fail: …` thread mentions. "
        "Times in ms, from sending the request to reading the whole response. "
        f"c=1 and c=50 ran once per server; c={level} ran in {len(result['rounds'])} "
        "interleaved rounds (order rotated each round), pooled in this table. Ratios are "
        "ragft ÷ bare Bolt at the same percentile. Server CPU is the server process's "
        "user+system CPU per request while the load ran (in brackets: including the work "
        "after the acks, until the fake Slack went quiet).",
        "",
        "| c | server | requests | p50 | p95 | p99 | max | non-200 | req/s "
        "| p50 ratio | p99 ratio | server CPU ms/req |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lvl, by_server in sorted(result["levels"].items()):
        bare = by_server.get("bare Bolt")
        for name, row in by_server.items():
            r50 = r99 = "—"
            if bare and name != "bare Bolt":
                r50 = f"{row['p50'] / bare['p50']:.2f}"
                r99 = f"{row['p99'] / bare['p99']:.2f}"
            out.append(
                f"| {lvl} | {name} | {row['n']} | {ms(row['p50'])} | {ms(row['p95'])} | "
                f"{ms(row['p99'])} | {ms(row['max'])} | {row['non_200']} | {row['rps']:.0f} | "
                f"{r50} | {r99} | {row['cpu_ms_load']:.1f} ({row['cpu_ms_total']:.1f}) |"
            )
    out += ["", f"c={level}, round by round (p99 ms, and ÷ bare Bolt's in the same round):", ""]
    names = list(result["rounds"][0]) if result["rounds"] else []
    out += [
        "| round | order | " + " | ".join(names) + " |",
        "|---:|---|" + "---:|" * len(names),
    ]
    for k, (row, order) in enumerate(zip(result["rounds"], result["orders"], strict=True)):
        cells = []
        for name in names:
            cell = ms(row[name]["p99"])
            if name != "bare Bolt" and "bare Bolt" in row:
                cell += f" ({row[name]['p99'] / row['bare Bolt']['p99']:.2f})"
            cells.append(cell)
        shown = " → ".join(n.removeprefix("ragft ") for n in order)
        out.append(f"| {k + 1} | {shown} | " + " | ".join(cells) + " |")
    out += ["", *goal_lines(ack_goals(result)), "", "By request kind (p50 / p99 ms):", ""]
    out += ["| c | server | `/ragft` | answer click | mention |", "|---:|---|---:|---:|---:|"]
    for lvl, by_server in sorted(result["levels"].items()):
        for name, row in by_server.items():
            cells = []
            for kind in ack_latency.KINDS:
                k = row["by_kind"].get(kind)
                cells.append(f"{ms(k['p50'])} / {ms(k['p99'])}" if k else "—")
            out.append(f"| {lvl} | {name} | {' | '.join(cells)} |")
    return out


def visible_goals(result: dict[str, Any]) -> list[Goal]:
    goals: list[Goal] = []
    for name, row in result["visible"].items():
        p99 = row.get("p99")
        goals.append(
            (
                f"click to visible p99 at c={ack_latency.ROUND_LEVEL}, {name} ≤ "
                f"{VISIBLE_GOAL * 1000:.0f} ms (1.5 × the 200 ms delay)",
                f"{ms(p99)} ms",
                p99 is not None and p99 <= VISIBLE_GOAL,
            )
        )
        goals.append(
            (
                f"clicks never shown, {name} = 0",
                f"{row['never_shown']} of {row['clicks']}"
                + (f" ({row['undecidable']} undecidable)" if row["undecidable"] else ""),
                row["never_shown"] == 0 and row["undecidable"] == 0 and row["not_acked"] == 0,
            )
        )
    return goals


def render_visible(result: dict[str, Any]) -> list[str]:
    out = [
        "### 1b. Click to visible",
        "",
        "The answer clicks of section 1's c=10 rounds: from sending the click to the moment "
        "the fake Slack answered (after its 200 ms delay) the first `chat.update` of that "
        "decision's question message whose line for the clicked answer lists the clicker "
        "(`<@U…>`). *Never shown*: acked clicks no update ever showed, once everything was "
        "quiet. Times in ms.",
        "",
        "| server | clicks | shown | never shown | p50 | p95 | p99 | max | chat.update calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["visible"].items():
        out.append(
            f"| {name} | {row['clicks']} | {row['shown']} | {row['never_shown']} | "
            f"{ms(row.get('p50'))} | {ms(row.get('p95'))} | {ms(row.get('p99'))} | "
            f"{ms(row.get('max'))} | {row['updates']} |"
        )
        if row["never_examples"]:
            out.append(f"|  | never shown, e.g. {', '.join(row['never_examples'])} | | | | | | | |")
    return [*out, "", *goal_lines(visible_goals(result))]


def render_throughput(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = [
        "### 2. Answer throughput and loss",
        "",
        "N distinct users click an answer to the same question of one decision, all N requests "
        "in flight at once. Counted once the database and the fake Slack are quiet. "
        "*All recorded* is the time from the first click until all N rows were in the database.",
        "",
        "| server | N | acked 200 | ack p99 ms | recorded | lost | duplicated | all recorded (s) "
        "| answers/s | Slack calls | calls/click | calls by method |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rows in results.items():
        for row in rows:
            methods = ", ".join(f"{m} {n}" for m, n in sorted(row["by_method"].items()))
            recorded = row["all_recorded_s"]
            rate = row["answers_per_s"]
            out.append(
                f"| {name} | {row['n']} | {row['acked_200']} | {ms(row['ack_p99'])} | "
                f"{row['recorded']} | {row['lost']} | {row['duplicated']} | "
                f"{'—' if recorded is None else f'{recorded:.2f}'} | "
                f"{'—' if rate is None else f'{rate:.0f}'} | {row['slack_calls']} | "
                f"{row['calls_per_click']:.3f} | {methods} |"
            )
    return out


SWEEP_LINE = re.compile(
    r"^(?P<db>\w+)\s+decisions=\s*(?P<n>[\d,]+) due=\s*(?P<due>[\d,]+) sent=\s*(?P<sent>[\d,]+) "
    r".*sweep=\s*(?P<s>[\d.]+)s"
)
CONCURRENT_LINE = re.compile(
    r"(?P<k>\d+) concurrent sweepers: due=(?P<due>[\d,]+) sent=(?P<sent>[\d,]+) "
    r"duplicates=(?P<dup>\d+) missed=(?P<missed>-?\d+) in (?P<s>[\d.]+)s"
)


def sweep_goals(result: dict[str, Any]) -> list[Goal]:
    if result.get("status") != "ran":
        return []
    goals: list[Goal] = []
    for line in result["stdout"].splitlines():
        if m := SWEEP_LINE.match(line):
            n, due, sent = (int(m[k].replace(",", "")) for k in ("n", "due", "sent"))
            seconds = float(m["s"])
            goals.append(
                (
                    f"one sweep of {due:,} due among {n:,}, {m['db']}, "
                    f"≤ {SWEEP_GOAL:g} s, all sent",
                    f"{seconds:.3f} s, {sent:,} sent",
                    seconds <= SWEEP_GOAL and sent == due,
                )
            )
        elif m := CONCURRENT_LINE.search(line):
            dup, missed = int(m["dup"]), int(m["missed"])
            goals.append(
                (
                    f"{m['k']} concurrent sweepers (PostgreSQL): 0 duplicates, 0 missed",
                    f"{dup} duplicates, {missed} missed, {float(m['s']):.3f} s",
                    dup == 0 and missed == 0,
                )
            )
    if not goals or result["returncode"] != 0:
        goals.append(("the sweep benchmark runs", f"exit {result['returncode']}", False))
    return goals


def render_sweep(result: dict[str, Any]) -> list[str]:
    out = ["### 3. Sweeps", ""]
    out += [f"`{result['command']}` (exit {result['returncode']}, {result['seconds']:.0f} s):", ""]
    out += ["```", result["stdout"].rstrip() or "(no output)", "```"]
    if result.get("imports"):
        out += ["", f"Imported ragft from: {result['imports']}"]
    out += ["", *goal_lines(sweep_goals(result))]
    if result["returncode"] != 0 and result["stderr_tail"]:
        out += ["", "stderr (last lines):", "", "```", result["stderr_tail"], "```"]
    return out


def render_cold(results: dict[str, Any]) -> list[str]:
    out = [
        "### 4. Cold start",
        "",
        "From spawning the server process to the first `GET /healthz` → 200, fresh database "
        "each run (so every migration runs). Seconds.",
        "",
        "| server | median | max | runs |",
        "|---|---:|---:|---|",
    ]
    for kind, row in results.items():
        runs = ", ".join(f"{t:.3f}" for t in row["runs"])
        out.append(f"| {NAMES[kind]} | {row['median']:.3f} | {row['max']:.3f} | {runs} |")
    return out


def memory_goals(results: dict[str, Any]) -> list[Goal]:
    goals: list[Goal] = []
    for kind, row in results.items():
        if kind != "bare":
            complete = row["decisions_posted"] == row["acked_200"] == row["n"]
            goals.append(
                (
                    f"RSS growth over {row['n']:,} decisions after {row['warmup']} warm-up, "
                    f"{NAMES[kind]}, ≤ {memory.GROWTH_GOAL_MIB:g} MiB",
                    f"{row['growth_mib']:+.1f} MiB"
                    + ("" if complete else f" (only {row['decisions_posted']} posted)"),
                    row["growth_mib"] <= memory.GROWTH_GOAL_MIB and complete,
                )
            )
    return goals


def render_memory(results: dict[str, Any]) -> list[str]:
    out = [
        "### 5. Memory",
        "",
        f"Resident memory (VmRSS) of the server process: *warm* after {memory.WARMUP} "
        f"`/ragft <title>` decisions with their threads posted, *after* {memory.DECISIONS:,} "
        f"more (concurrency {memory.CONCURRENCY}) once every thread is posted and the fake "
        "Slack is quiet; VmHWM is the peak. MiB.",
        "",
        "| server | warm | after | growth | peak (VmHWM) | decisions posted | acked 200 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, row in results.items():
        posted = "—" if row["decisions_posted"] is None else str(row["decisions_posted"])
        out.append(
            f"| {NAMES[kind]} | {row['rss_before_mib']:.1f} | {row['rss_after_mib']:.1f} | "
            f"{row['growth_mib']:+.1f} | {row['peak_mib']:.1f} | {posted} | {row['acked_200']} |"
        )
    return [*out, "", *goal_lines(memory_goals(results))]


RENDERERS: dict[str, Callable[[Any], list[str]]] = {
    "ack": render_ack,
    "visible": render_visible,
    "paced": paced.render,
    "throughput": render_throughput,
    "sweep": render_sweep,
    "cold": render_cold,
    "memory": render_memory,
}
GOALS: dict[str, Callable[[Any], list[Goal]]] = {
    "ack": ack_goals,
    "visible": visible_goals,
    "sweep": sweep_goals,
    "memory": memory_goals,
}


def render(info: dict[str, str], command: str, sections: dict[str, Any]) -> dict[str, str]:
    """Markdown per part: ``machine`` (always), each section that ran, then ``goals``."""
    parts = {
        "machine": "\n".join(
            [
                f"Last run {info['date']} with `{command}`.",
                "",
                "| machine | |",
                "|---|---|",
                *(f"| {key} | {value} |" for key, value in info.items() if key != "date"),
            ]
        )
    }
    summary: list[str] = []
    for name, value in sections.items():
        if isinstance(value, BaseException):
            lines = [f"### {name}", "", f"**crashed**: `{type(value).__name__}: {value}`"]
            summary.append(f"| {name} | the benchmark ran | crashed | **missed** |")
        else:
            lines = RENDERERS[name](value)
            for goal, figure, met in GOALS.get(name, lambda _: [])(value):
                summary.append(f"| {name} | {goal} | {figure} | {verdict(met)} |")
        footer = f"_({name}: {info['date']}, `{command}`, ragft {info['ragft source']})_"
        parts[name] = "\n".join(lines).rstrip() + "\n\n" + footer
    if summary:
        parts["goals"] = "\n".join(
            [
                "### Goals of issue 14",
                "",
                f"From `{command}` ({info['date']}), ragft {info['ragft source']}.",
                "",
                "| section | goal | figure | result |",
                "|---|---|---|---|",
                *summary,
            ]
        )
    return parts


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write(path: Path, parts: dict[str, str]) -> None:
    """Replace each part between its markers, so a partial run (``--only``) updates only its
    sections and notes written around the markers stay."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for name, body in parts.items():
        start, end = markers(name)
        block = f"{start}\n{body}\n{end}"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            text = head + block + rest.split(end, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
