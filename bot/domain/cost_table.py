"""The cost comparison as Markdown: one table, line by line, for ``ragft recommend --format
markdown``, the decision record and the ADR export."""

from __future__ import annotations

from bot.domain.cost_assumptions import LABELS, OVERRIDE_KEYS, Range, overridden
from bot.domain.costs import LINE_NAMES, CostEstimate, LineKey, improvement_lines

DASH = "—"


def _cell(value: Range | None) -> str:
    return DASH if value is None else value.format()


def cost_table(costs: CostEstimate) -> list[str]:
    """Rows: every line of every path (year one), then the totals; columns: the paths."""
    paths = costs.paths
    out = [
        "| Line (year one) | " + " | ".join(p.label for p in paths) + " |",
        "|---|" + "---:|" * len(paths),
    ]
    for key in LineKey:
        cells = []
        for p in paths:
            line = next((line for line in p.lines if line.key == key), None)
            cells.append(_cell(None if line is None else line.year_one))
        name = LINE_NAMES[key] + (" (shared in hybrid)" if key == LineKey.INFERENCE else "")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("| **Year one** | " + " | ".join(f"**{_cell(p.year_one)}**" for p in paths) + " |")
    out.append("| **3 years** | " + " | ".join(f"**{_cell(p.three_years)}**" for p in paths) + " |")
    shares = [DASH if p.addresses_share is None else f"{p.addresses_share:.0%}" for p in paths]
    out.append("| Addresses of the failures logged | " + " | ".join(shares) + " |")
    per = [_cell(p.cost_per_addressed_failure) for p in paths]
    out.append("| Cost per addressed failure | " + " | ".join(per) + " |")
    return out


def assumption_list(costs: CostEstimate) -> list[str]:
    a = costs.assumptions
    changed = set(overridden(a))
    out = []
    for key in OVERRIDE_KEYS:
        label = LABELS[key]
        mark = " (overridden)" if key in changed else ""
        out.append(f"- {label.label}: {a.range(key).plain()} ({label.unit}; `{key}`){mark}")
    out.append(f"- Labeled examples the team has (Q4): {a.labeled_examples:,}")
    return out


def costs_markdown(costs: CostEstimate, heading: str = "##") -> list[str]:
    return [
        f"{heading} Full cost",
        "",
        *cost_table(costs),
        "",
        *improvement_lines(costs),
        "",
        "Labeling and the deployment pipeline are paid once; every other line every year.",
        "",
        "Assumptions (override any of them with the `costs` object):",
        "",
        *assumption_list(costs),
    ]
