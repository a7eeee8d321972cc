"""The liquidation map: labels never overlap, every at-risk dollar is on it or noted."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.domain import Band, Direction, HistogramBin, Share
from scanner.errors import OutputError, UsageError
from scanner.report.chart import ChartInput, build_figure, label_rows, save_chart, visible_range

USD = 10**8
NOW = 3_000 * USD


def _bin(direction: Direction, k: int, low: int, high: int, collateral: int, cumulative: int
         ) -> HistogramBin:
    shares = (Share("a", "aave-v3", 1, collateral // 2, 0, 0),
              Share("m", "morpho-blue", 1, collateral - collateral // 2, 0, 0))
    return HistogramBin("ETH", direction, k, low, high, 2, collateral, 0, 0, cumulative, shares)


def _bins() -> list[HistogramBin]:
    down, up, total = [], [], 0
    for k in range(60):
        high, low = NOW * (100 - k) // 100, NOW * (99 - k) // 100
        total += (k + 1) * 10_000 * USD
        down.append(_bin(Direction.DOWN, k, low, high, (k + 1) * 10_000 * USD, total))
    down.append(_bin(Direction.DOWN, 60, 0, down[-1].low_8dec, 5_000_000 * USD,
                     total + 5_000_000 * USD))  # the wide last bin beyond the range
    up.append(_bin(Direction.UP, 0, NOW, NOW * 101 // 100, 50_000 * USD, 50_000 * USD))
    return down + up


def _band(rank: int, low_usd: int, high_usd: int, kind: str = "band") -> Band:
    return Band("ETH", Direction.DOWN, rank, low_usd * USD, high_usd * USD, 3,
                (10 - rank) * 10**6 * USD, 0, 0, 100, 0, 0, (), kind)


def test_label_rows_never_put_overlapping_labels_in_one_row() -> None:
    spans = [(0.10, 0.20), (0.15, 0.25), (0.18, 0.30), (0.26, 0.35), (0.50, 0.60)]
    rows = label_rows(spans)
    assert rows == [0, 1, 2, 0, 0]
    for i, a in enumerate(spans):
        for j, b in enumerate(spans[:i]):
            if rows[i] == rows[j]:
                assert a[0] > b[1] or b[0] > a[1]


def test_drawn_labels_do_not_overlap() -> None:
    bands = [_band(i + 1, 2_500 + 8 * i, 2_505 + 8 * i, "wall" if i % 2 else "band")
             for i in range(7)]  # seven labels within 2% of the price axis
    fig = build_figure(ChartInput("ETH", NOW, _bins(), bands, "t"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts
             if t.get_gid() == "band-label"]
    assert len(boxes) == 7
    for i, a in enumerate(boxes):
        for b in boxes[:i]:
            assert not a.overlaps(b), (a, b)


def test_the_legend_sits_under_the_plot_and_hides_no_bar() -> None:
    fig = build_figure(ChartInput("ETH", NOW, _bins(), [_band(1, 2_500, 2_520)], "t"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert all(ax.get_legend() is None for ax in fig.axes)  # none inside the plot
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert {"aave-v3", "morpho-blue", "cumulative, longs (price falls)",
            "cumulative, shorts (price rises)"} <= set(labels)
    assert any(label.startswith("ETH now") for label in labels)
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:  # the legend is wholly below every axis, tick labels included
        assert box.y1 <= ax.get_tightbbox(renderer).y0
    assert box.y0 >= 0


def test_the_range_holds_the_collateral_and_the_rest_is_noted() -> None:
    data = ChartInput("ETH", NOW, _bins(), [_band(1, 1_000, 1_010)], "t")
    low, high = visible_range(data)
    assert low < 1_000 and high >= 3_030  # the band and the up side
    fig = build_figure(data)
    notes = [t.get_text() for t in fig.axes[0].texts if "beyond" in t.get_text()]
    assert notes == ["<- $5.0M beyond"]  # the wide last bin, not drawn as a bar


def test_only_png_and_svg(tmp_path: Path) -> None:
    data = ChartInput("ETH", NOW, _bins(), [], "t", log_y=False)
    assert save_chart(data, tmp_path / "x.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(UsageError, match=r"\.png or \.svg"):
        save_chart(data, tmp_path / "x.pdf")


def test_an_out_that_is_a_directory_is_an_output_error(tmp_path: Path) -> None:
    """Both chart writers: matplotlib's IsADirectoryError used to escape as a traceback."""
    from scanner.report.cascade_chart import save_cascade_chart

    folder = tmp_path / "map.png"
    folder.mkdir()
    data = ChartInput("ETH", NOW, _bins(), [], "t", log_y=False)
    with pytest.raises(OutputError, match="is a directory"):
        save_chart(data, folder)
    with pytest.raises(OutputError, match="is a directory"):
        save_cascade_chart([], None, "ETH", "t", folder)
    assert not any(folder.iterdir())


def test_a_chart_lands_whole_in_a_new_folder(tmp_path: Path) -> None:
    data = ChartInput("ETH", NOW, _bins(), [], "t", log_y=False)
    out = save_chart(data, tmp_path / "new" / "x.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["x.png"]  # no temp file left
