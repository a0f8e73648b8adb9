"""The review's chart: failures by category per quarter as stacked bars of a fixed width, and
the behavioral share as a line against the nudge threshold, as a small PNG (matplotlib, Agg)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.domain.tallies import Tally

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLORS = {"knowledge": "#4C78A8", "behavior": "#E45756", "unclear": "#BAB0AC"}
SHARE_COLOR = "#222222"
MAX_QUARTERS = 8
MIN_SLOTS = 4
"""The x axis always has room for at least this many quarters, so one quarter is one bar."""
BAR_WIDTH = 0.5
"""In quarter slots: every bar is this wide, however many quarters there are."""
SHARE_THRESHOLD = 0.5
"""The nudge threshold on the share line: behavior ahead of knowledge (with nothing unclear,
more than half the failures behavioral). The nudge also needs 20 failures since the decision."""
THRESHOLD_LABEL = "Nudge threshold (behavior ahead of knowledge)"


def quarters_figure(quarters: list[tuple[str, Tally]], title: str) -> Figure:
    """The chart as a matplotlib Figure (``quarters_png`` renders it)."""
    # Imported here: matplotlib costs ~0.4 s and ~30 MiB at start-up, and only reviews use it.
    from matplotlib.figure import Figure  # a Figure, not pyplot: no global state, any backend
    from matplotlib.ticker import PercentFormatter

    shown = quarters[-MAX_QUARTERS:]
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(shown)))
    bottom = [0] * len(shown)
    for name, color in COLORS.items():
        values = [getattr(tally, name) for _, tally in shown]
        axes.bar(
            positions,
            values,
            width=BAR_WIDTH,
            bottom=bottom,
            color=color,
            label=name.capitalize(),
            gid=f"bars-{name}",
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    slots = max(len(shown), MIN_SLOTS)
    axes.set_xlim(-0.5, slots - 0.5)
    axes.set_xticks(positions, [label for label, _ in shown])
    axes.set_ylim(0, max([*bottom, 1]) * 1.15)
    axes.set_title(title[:80], fontsize=11)
    axes.set_ylabel("Failures logged")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top"]].set_visible(False)

    share_axes = axes.twinx()
    share_axes.set_ylim(0, 1.05)
    share_axes.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    share_axes.set_ylabel("Behavioral share")
    share_axes.spines[["top"]].set_visible(False)
    points = [(x, t.behavior_share) for x, (_, t) in zip(positions, shown, strict=True)]
    points = [(x, s) for x, s in points if s is not None]
    share_axes.plot(
        [x for x, _ in points],
        [s for _, s in points],
        color=SHARE_COLOR,
        marker="o",
        linewidth=1.5,
        label="Behavioral share",
        gid="share-line",
    )
    share_axes.axhline(
        SHARE_THRESHOLD,
        color=COLORS["behavior"],
        linestyle="--",
        linewidth=1,
        label=THRESHOLD_LABEL,
        gid="threshold",
    )
    handles, labels = axes.get_legend_handles_labels()
    more, more_labels = share_axes.get_legend_handles_labels()
    # Below the plot, never over the bars: every swatch (Unclear too) stays visible.
    figure.legend(
        handles + more,
        labels + more_labels,
        loc="lower center",
        ncols=5,
        frameon=False,
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return figure


def quarters_png(quarters: list[tuple[str, Tally]], title: str) -> bytes:
    """The chart of the last eight quarters, in a ~800×400 PNG."""
    out = io.BytesIO()
    quarters_figure(quarters, title).savefig(out, format="png")
    return out.getvalue()
