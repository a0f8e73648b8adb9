"""The review chart, inspected: every legend swatch visible (Unclear too) and clear of the
bars, bars of one fixed width however many quarters, and the behavioral share as a line
against the nudge threshold. The sweep's upload of it is checked in test_routine_slack."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg

from bot.domain.tallies import Tally
from handlers.ui.review_chart import BAR_WIDTH, SHARE_THRESHOLD, quarters_figure, quarters_png

TITLE = "#1 Billing assistant: failures per quarter"


def _drawn(quarters):
    figure = quarters_figure(quarters, TITLE)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return figure, canvas.get_renderer()


def _bars(figure):
    axes = figure.axes[0]
    return [p for p in axes.patches if (p.get_gid() or "").startswith("bars-")]


def test_the_legend_shows_every_swatch_outside_the_plot():
    figure, renderer = _drawn([("2026 Q4", Tally(1, 6, 2))])
    [legend] = figure.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:3] == ["Knowledge", "Behavior", "Unclear"]
    assert "Behavioral share" in labels and any("Nudge threshold" in t for t in labels)
    box = legend.get_window_extent(renderer)
    for axes in figure.axes:
        assert not box.overlaps(axes.get_window_extent(renderer))
    assert figure.axes[0].get_legend() is None  # not drawn over the bars


def test_bars_have_one_fixed_width_and_a_single_quarter_does_not_fill_the_chart():
    one, renderer = _drawn([("2026 Q4", Tally(3, 5, 2))])
    many, _ = _drawn([(f"2026 Q{i}", Tally(i, 2, 1)) for i in range(1, 5)])
    widths = {round(p.get_width(), 6) for p in _bars(one) + _bars(many)}
    assert widths == {BAR_WIDTH}
    bar = _bars(one)[0].get_window_extent(renderer).width
    plot = one.axes[0].get_window_extent(renderer).width
    assert bar < plot / 5
    assert abs(bar - _bars(many)[0].get_window_extent(renderer).width) < 3  # layout jitter


def test_the_behavioral_share_is_a_line_with_the_nudge_threshold():
    figure, _ = _drawn([("2026 Q3", Tally(3, 1, 0)), ("2026 Q4", Tally(1, 6, 1))])
    lines = {line.get_gid(): line for axes in figure.axes for line in axes.get_lines()}
    assert list(lines["share-line"].get_ydata()) == [0.25, 0.75]
    assert set(lines["threshold"].get_ydata()) == {SHARE_THRESHOLD}
    png = quarters_png([("2026 Q4", Tally(1, 6, 1))], TITLE)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 100_000
