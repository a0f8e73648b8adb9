"""The review's chart: failures by category per quarter, as a small PNG (matplotlib, Agg)."""

from __future__ import annotations

import io

from bot.domain.tallies import Tally

COLORS = {"knowledge": "#4C78A8", "behavior": "#E45756", "unclear": "#BAB0AC"}
MAX_QUARTERS = 8


def quarters_png(quarters: list[tuple[str, Tally]], title: str) -> bytes:
    """Stacked bars, one per quarter (the last eight), in a ~800×400 PNG."""
    # Imported here: matplotlib costs ~0.4 s and ~30 MiB at start-up, and only reviews use it.
    from matplotlib.figure import Figure  # a Figure, not pyplot: no global state, any backend

    shown = quarters[-MAX_QUARTERS:]
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    labels = [label for label, _ in shown]
    bottom = [0] * len(shown)
    for name, color in COLORS.items():
        values = [getattr(tally, name) for _, tally in shown]
        axes.bar(labels, values, bottom=bottom, color=color, label=name.capitalize())
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(title[:80], fontsize=11)
    axes.set_ylabel("Failures logged")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False, fontsize=9)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
