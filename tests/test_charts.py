"""Tests for the house chart style and the deterministic save/show helpers in analysis.present.charts."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import matplotlib.axes
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from analysis.present import charts, figures

YEARS = np.arange(2003, 2026)
LONG_TITLE = (
    "Homicides in London rose after 2017 before falling back to their lowest level in two "
    "decades in 2025, driven by fewer knife killings of teenagers"
)


def _table() -> pd.DataFrame:
    victims = (170 - 2 * (YEARS - 2003) + 20 * np.sin(YEARS)).round().astype(int)
    return pd.DataFrame(
        {
            "year": YEARS,
            "victims": victims,
            "lower": victims - 1.96 * np.sqrt(victims),
            "upper": victims + 1.96 * np.sqrt(victims),
            "area": "London",
        }
    )


def _demo_figure(table: pd.DataFrame, *, title: str = LONG_TITLE, notes: bool = True) -> Figure:
    """A chart using every helper, as a notebook would build it."""
    with charts.house_style():
        fig, ax = charts.figure(
            title,
            "Victims of homicide per year, London, 2003 to 2025, with 95% interval",
            charts.source_note("Metropolitan Police Service", "ONS"),
        )
        charts.interval_band(
            ax, table["year"], table["lower"], table["upper"], charts.PALETTE["primary"],
            "95% interval",
        )
        ax.plot(table["year"], table["victims"], color=charts.PALETTE["primary"], label="Open data")
        charts.mark_published(ax, [2001, 2002], [200, 190])
        last = table.iloc[-1]
        charts.highlight_point(ax, last["year"], last["victims"], f"{last['victims']} in 2025")
        charts.label_line_end(
            ax, last["year"], last["victims"], "London", charts.PALETTE["primary"]
        )
        charts.vline_break(ax, 2014.5, "recording change")
        charts.label_axes(ax, "Year", "Victims per year")
        charts.integer_years(ax)
        charts.start_at_zero(ax)
        ax.legend(loc="lower left")
        if notes:
            charts.note(fig, "2001 and 2002 are published figures; the open data start in 2003.")
            charts.note(ax, "Provisional for 2025", loc="lower right")
    return fig


def _bar_figure(table: pd.DataFrame) -> Figure:
    with charts.house_style():
        fig, ax = charts.figure(
            "Knife killings outnumbered all other methods in every year",
            "Victims of homicide per year, London",
            "MPS",
        )
        bars = ax.bar(table["year"], table["victims"], color=charts.PALETTE["knife"])
        charts.label_bars(ax, bars)
        charts.label_axes(ax, None, "Victims per year")
        charts.integer_years(ax)
        charts.start_at_zero(ax)
    return fig


# --------------------------------------------------------------------------------------------
# Style and palette
# --------------------------------------------------------------------------------------------


def test_palette_roles_are_distinct_valid_colours() -> None:
    required = {"primary", "secondary", "highlight", "published", "muted", "knife", "shooting",
                "other"}
    assert required <= set(charts.PALETTE)
    for name, colour in charts.PALETTE.items():
        assert mcolors.is_color_like(colour), f"{name}: {colour!r} is not a colour"
    hexes = [mcolors.to_hex(c).lower() for c in charts.PALETTE.values()]
    assert len(hexes) == len(set(hexes)), "two palette roles share a colour"
    okabe = [mcolors.to_hex(c).lower() for c in charts.OKABE_ITO.values()]
    assert len(okabe) == 8 == len(set(okabe))
    # Every role except the neutral grey is an Okabe-Ito colour.
    assert {h for n, h in zip(charts.PALETTE, hexes) if n != "muted"} <= set(okabe)


def test_house_style_is_scoped_and_complete() -> None:
    before = dict(matplotlib.rcParams)
    with charts.house_style():
        rc = matplotlib.rcParams
        assert rc["svg.hashsalt"] == "london-violence"
        assert rc["svg.fonttype"] == "path"
        assert rc["font.sans-serif"][0] == "DejaVu Sans"
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        assert rc["axes.grid"] and rc["axes.grid.axis"] == "y"
        assert mcolors.to_hex(rc["axes.facecolor"]) == "#ffffff"
        cycle = [mcolors.to_hex(c).lower() for c in rc["axes.prop_cycle"].by_key()["color"]]
        okabe = {mcolors.to_hex(c).lower() for c in charts.OKABE_ITO.values()}
        assert set(cycle) == okabe and len(cycle) == 8
        assert cycle[0] == mcolors.to_hex(charts.PALETTE["primary"]).lower()
    after = dict(matplotlib.rcParams)
    assert before.keys() == after.keys()
    changed = [k for k in before if str(before[k]) != str(after[k])]
    assert changed == [], f"house_style() leaked rcParams: {changed}"


def test_importing_charts_does_not_touch_rcparams() -> None:
    # In a fresh interpreter, so the check does not depend on what other tests imported.
    code = (
        "import matplotlib\n"
        "before = {k: str(v) for k, v in matplotlib.rcParams.items()}\n"
        "import analysis.present.charts\n"
        "after = {k: str(v) for k, v in matplotlib.rcParams.items()}\n"
        "assert before == after, sorted(k for k in before if before[k] != after[k])\n"
        "assert matplotlib.rcParams['svg.hashsalt'] != 'london-violence'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(charts.__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_styled_decorator_applies_style_only_inside() -> None:
    @charts.styled
    def build() -> tuple[float, bool]:
        fig, ax = charts.figure("A finding", None, "ONS")
        (line,) = ax.plot([1, 2], [1, 2])
        twin = ax.twinx()
        return line.get_linewidth(), twin.spines["top"].get_visible()

    width, top_spine = build()
    with charts.house_style():
        assert width == matplotlib.rcParams["lines.linewidth"] != 1.5
    assert not top_spine
    assert build.__name__ == "build"
    assert matplotlib.rcParams["lines.linewidth"] == matplotlib.rcParamsDefault["lines.linewidth"]


def test_source_note() -> None:
    assert charts.source_note("ONS") == "Source: ONS"
    assert charts.source_note("ONS", "MPS", "ONS", " ") == "Sources: ONS; MPS"
    with pytest.raises(ValueError):
        charts.source_note()


# --------------------------------------------------------------------------------------------
# Layout: finding-title, subtitle, notes and source never overlap the axes or each other
# --------------------------------------------------------------------------------------------


def _furniture_boxes(fig: Figure) -> dict[str, Bbox]:
    """Window extents of every figure-level text (title, subtitle, notes, source) and axes."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    engine = fig.get_layout_engine()
    names = {id(engine.title): "title", id(engine.source): "source"}
    if engine.subtitle is not None:
        names[id(engine.subtitle)] = "subtitle"
    boxes = {}
    for i, artist in enumerate(fig.texts):
        boxes[names.get(id(artist), f"note{i}")] = artist.get_window_extent(renderer)
    for i, ax in enumerate(fig.axes):
        boxes[f"axes{i}"] = ax.get_tightbbox(renderer)
    return boxes


@pytest.mark.parametrize(
    "title, kwargs",
    [
        ("Short finding", {}),
        (LONG_TITLE, {}),
        (LONG_TITLE + " " + LONG_TITLE, {"figsize": (7, 6)}),
        (LONG_TITLE, {"nrows": 2, "ncols": 2, "sharey": True}),
    ],
)
def test_figure_text_never_overlaps_axes_or_each_other(title: str, kwargs: dict) -> None:
    with charts.house_style():
        fig, axes = charts.figure(
            title, "Victims per year, London, 2003 to 2025 " * 2, "Metropolitan Police Service",
            **kwargs,
        )
        for ax in np.atleast_1d(axes).flat:
            ax.plot(YEARS, YEARS - 2000)
            ax.set_title("Panel")
            charts.label_axes(ax, "Year", "Victims per year")
            charts.integer_years(ax)
        charts.note(fig, "Recording practice changed in 2014, so earlier years are not "
                         "strictly comparable. " * 2)
        charts.note(fig, "Second caveat.")
    boxes = _furniture_boxes(fig)
    assert len([name for name in boxes if name.startswith("note")]) == 2
    figbox = fig.bbox
    for name, box in boxes.items():
        assert box.x0 >= figbox.x0 - 0.5 and box.x1 <= figbox.x1 + 0.5, f"{name} cut off"
        assert box.y0 >= figbox.y0 - 0.5 and box.y1 <= figbox.y1 + 0.5, f"{name} cut off"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        if a.startswith("axes") and b.startswith("axes"):
            continue  # panels are constrained layout's business
        assert not box_a.overlaps(box_b), f"{a} overlaps {b}"
    # Title above subtitle above every axes; source below everything.
    axes_top = max(box.y1 for name, box in boxes.items() if name.startswith("axes"))
    assert boxes["title"].y0 > boxes["subtitle"].y1 > boxes["subtitle"].y0 > axes_top
    assert boxes["source"].y1 < min(box.y0 for name, box in boxes.items() if name != "source")
    # Long titles are wrapped, and left-aligned with the source note.
    engine = fig.get_layout_engine()
    if len(title) > 90:
        assert "\n" in engine.title.get_text()
    assert abs(boxes["title"].x0 - boxes["source"].x0) < 2


def test_long_titles_wrap_in_balanced_lines() -> None:
    fig, ax = charts.figure(
        "Monthly homicides in London have been fewer since 2022 than in any earlier year",
        None, "ONS",
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig.get_layout_engine().title
    lines = title.get_text().split("\n")
    assert len(lines) == 2
    widths = []
    for line in lines:
        probe = fig.text(0, 0, line, fontproperties=title.get_fontproperties())
        widths.append(probe.get_window_extent(renderer).width)
        probe.remove()
    assert min(widths) > 0.6 * max(widths), f"orphan line in {lines}"


def test_figure_returns_axes_like_subplots() -> None:
    fig, ax = charts.figure("A finding", None, "ONS")
    assert isinstance(ax, matplotlib.axes.Axes)
    fig, axes = charts.figure("A finding", "sub", "ONS", nrows=2, ncols=3)
    assert axes.shape == (2, 3)
    assert fig.get_layout_engine().source.get_text() == "Source: ONS"
    with pytest.raises(ValueError):
        charts.figure(" ", None, "ONS")
    with pytest.raises(ValueError):
        charts.figure("A finding", None, "")


def test_figures_are_not_registered_with_pyplot() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    charts.figure("A finding", None, "ONS")
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------------------------
# Axis and annotation helpers
# --------------------------------------------------------------------------------------------


def test_integer_years_plain_and_not_crowded() -> None:
    fig = _demo_figure(_table())
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    visible = [lab for lab in labels if 2000 <= int(lab) <= 2026]
    assert visible, labels
    assert all(lab.isdigit() and len(lab) == 4 for lab in labels), labels
    assert 3 <= len(visible) <= 12
    assert ax.xaxis.get_offset_text().get_text() == ""
    # Neighbouring tick labels do not touch.
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    for left, right in itertools.pairwise(sorted(boxes, key=lambda b: b.x0)):
        assert left.x1 < right.x0


def test_start_at_zero_survives_later_data_and_shared_axes() -> None:
    fig, axes = charts.figure("A finding", None, "ONS", ncols=2, sharey=True)
    axes[0].plot(YEARS, np.full(YEARS.size, 100.0))
    charts.start_at_zero(axes[0])
    axes[1].plot(YEARS, np.full(YEARS.size, 300.0))  # plotted after start_at_zero
    charts.start_at_zero(axes[1])
    fig.canvas.draw()
    for ax in axes:
        bottom, top = ax.get_ylim()
        assert bottom == 0
        assert top >= 300


def test_label_bars_writes_values_inside_the_axes() -> None:
    fig = _bar_figure(_table())
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_text()]
    assert [t.get_text() for t in texts] == [f"{v:,}" for v in _table()["victims"]]
    axes_box = ax.get_window_extent(renderer)
    for text in texts:
        assert text.get_window_extent(renderer).y1 <= axes_box.y1, "label pokes out of the axes"
    assert ax.get_ylim()[0] == 0


def test_label_axes_requires_a_unit() -> None:
    fig, ax = charts.figure("A finding", None, "ONS")
    with pytest.raises(ValueError):
        charts.label_axes(ax, "Year", "Count")
    charts.label_axes(ax, "Year", "Victims per year")
    assert ax.get_ylabel() == "Victims per year"


def test_published_points_differ_from_open_data_without_colour() -> None:
    fig = _demo_figure(_table())
    ax = fig.axes[0]
    published = [ln for ln in ax.lines if ln.get_label() == "published figure only"]
    assert len(published) == 1
    line = published[0]
    assert line.get_linestyle() == "None"
    # one marker language on every chart: hollow, black-edged points (never a colour alone, never hatching)
    assert line.get_marker() not in (None, "None", "")
    assert mcolors.to_hex(line.get_markerfacecolor()) == "#ffffff"  # hollow
    assert mcolors.to_hex(line.get_markeredgecolor()) == mcolors.to_hex(charts.PALETTE["published"])


def test_interval_band_rejects_inverted_bounds() -> None:
    fig, ax = charts.figure("A finding", None, "ONS")
    with pytest.raises(ValueError):
        charts.interval_band(ax, [1, 2], [3, 3], [2, 4], "C0", "95% interval")


# --------------------------------------------------------------------------------------------
# Saving: three files, byte-identical across runs
# --------------------------------------------------------------------------------------------


def test_save_figure_writes_png_and_csv_and_svg_only_when_asked(tmp_path: Path, monkeypatch) -> None:
    table = _table()
    plain = figures.save_figure(_demo_figure(table), table, "no_svg", tmp_path, title="T", alt="A")
    assert plain["svg"] is None and not (tmp_path / "figures" / "no_svg.svg").exists()
    monkeypatch.setenv(figures.FORMATS_VARIABLE, "png,svg")
    record = figures.save_figure(
        _demo_figure(table), table, "victims_per_year", tmp_path, title="T", alt="A"
    )
    assert record == {
        "stem": "victims_per_year",
        "title": "T",
        "alt": "A",
        "png": "figures/victims_per_year.png",
        "svg": "figures/victims_per_year.svg",
        "table": "tables/victims_per_year.csv",
    }
    png = (tmp_path / record["png"]).read_bytes()
    svg = (tmp_path / record["svg"]).read_text(encoding="utf-8")
    csv = (tmp_path / record["table"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Matplotlib" not in png
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Matplotlib v" not in svg and "<dc:date>" not in svg
    assert "<text" not in svg  # text drawn as paths
    assert b"\r\n" not in csv and csv.endswith(b"\n")
    assert pd.read_csv(tmp_path / record["table"]).shape == table.shape
    # 1200 x 672 pixels: 10 x 5.6 in at 120 dpi.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1200, 672)


def test_save_figure_is_byte_identical_across_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(figures.FORMATS_VARIABLE, "png,svg")
    table = _table()
    first, second = tmp_path / "a", tmp_path / "b"
    # Fresh figures each time, as when a notebook is re-run...
    rec_a = figures.save_figure(_demo_figure(table), table, "demo", first, title="T", alt="A")
    figures.save_figure(_demo_figure(table), table, "demo", second, title="T", alt="A")
    # ...and the same figure saved twice.
    fig = _bar_figure(table)
    figures.save_figure(fig, table, "bars", first, title="T", alt="A")
    figures.save_figure(fig, table, "bars", second, title="T", alt="A")
    for stem in ("demo", "bars"):
        for rel in (f"figures/{stem}.png", f"figures/{stem}.svg", f"tables/{stem}.csv"):
            assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert rec_a["png"] == "figures/demo.png"


def test_save_figure_without_output_dir_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    table = _table()
    record = figures.save_figure(_bar_figure(table), table, "bars", None, title="T", alt="A")
    assert record == {"stem": "bars", "title": "T", "alt": "A",
                      "png": None, "svg": None, "table": None}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stem", ["../escape", "a/b", "", "with space"])
def test_save_figure_rejects_bad_stems(tmp_path: Path, stem: str) -> None:
    table = _table()
    with pytest.raises(ValueError):
        figures.save_figure(_bar_figure(table), table, stem, tmp_path, title="T", alt="A")


# --------------------------------------------------------------------------------------------
# Showing in a notebook: text first, one PNG, nothing on stderr
# --------------------------------------------------------------------------------------------


def test_show_displays_one_png_with_its_description_in_the_display_metadata(capsys, monkeypatch) -> None:
    import base64

    import IPython.display

    shown: list[tuple[object, dict]] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    table = _table()
    fig = _demo_figure(table)
    record = {"stem": "s", "title": "Homicides fell", "alt": "Bar chart of homicides", "png": "figures/s.png"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures.show(fig, record=record)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert len(shown) == 1
    data, kwargs = shown[0]
    assert set(data) == {"image/png"} and kwargs["raw"] is True  # no text/plain repr of an object
    assert kwargs["metadata"] == {"image/png": {"alt": "Bar chart of homicides", "title": "Homicides fell", "file": "figures/s.png"}}
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG")
    assert png == figures.png_bytes(fig, title="Homicides fell", alt="Bar chart of homicides")  # save_figure's rendering


def test_page_tables_are_readable_escaped_and_keep_every_row_as_text() -> None:
    from analysis.present import tables

    table = _table().assign(area="<b>London</b>")
    text = tables.table_text(table)
    assert text == tables.table_text(table.copy()) and len(text.splitlines()) == len(table) + 1
    page = tables.table_html(table, uid="demo", focus={"year": 2015}, csv="tables/demo.csv")
    assert "<b>London</b>" not in page and "&lt;b&gt;London&lt;/b&gt;" in page  # data never become markup
    assert "95% interval" in page and "Victims" in page and "lower" not in page  # human names, one interval column
    shown = page.split("<details")[0]
    assert shown.count("<tr>") - 1 == tables.MAX_ROWS and ">2015<" in shown and ">2016<" not in shown
    assert f"All {len(table)} rows" in page and 'href="tables/demo.csv"' in page
    assert tables.table_html(table, uid="demo", focus={"year": 2015}) == tables.table_html(table, uid="demo", focus={"year": 2015})


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


def _findings(tmp_path: Path) -> figures.Findings:
    table = _table()
    findings = figures.Findings("01_trends.ipynb", {"area": "London", "end_year": np.int64(2025),
                                                   "raw_dir": Path("data/raw")})
    findings.headline = "Homicides in London fell to a two-decade low in 2025 — 161 victims"
    findings.add_sentence("peak", "The peak was 2003.")
    findings.add_sentence("change", "Down 8% on 2024.")
    findings.add(figures.save_figure(_bar_figure(table), table, "bars", tmp_path, title="T",
                                    alt="A"))
    return findings


def test_findings_write_is_stable_and_schema_complete(tmp_path: Path) -> None:
    path_a = _findings(tmp_path).write(tmp_path / "a")
    path_b = _findings(tmp_path).write(tmp_path / "b")
    assert path_a == tmp_path / "a" / "findings" / "01_trends.json"
    text = path_a.read_bytes()
    assert text == path_b.read_bytes()
    assert text.endswith(b"}\n") and b"\r\n" not in text
    assert "—".encode() in text  # ensure_ascii=False
    data = json.loads(text)
    assert set(data) == {"notebook", "parameters", "headline", "sentences", "figures"}
    assert data["notebook"] == "01_trends"
    assert data["parameters"] == {"area": "London", "end_year": 2025, "raw_dir": "data/raw"}
    assert list(data["sentences"]) == sorted(data["sentences"])
    assert data["figures"] == [{"stem": "bars", "title": "T", "alt": "A",
                                "png": "figures/bars.png", "svg": None,
                                "table": "tables/bars.csv"}]
    assert text.decode() == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_findings_rerun_replaces_and_none_writes_nothing(tmp_path: Path) -> None:
    findings = _findings(tmp_path)
    findings.add({"stem": "bars", "title": "T2", "alt": "A", "png": None, "svg": None,
                  "table": None})
    findings.add_sentence("peak", "The peak was 2004.")
    assert [f["title"] for f in findings.figures] == ["T2"]
    assert findings.sentences["peak"] == "The peak was 2004."
    assert findings.write(None) is None
    assert not (tmp_path / "findings").exists()
    empty = figures.Findings("02_rates", {})
    with pytest.raises(ValueError, match="headline"):
        empty.write(tmp_path)


@pytest.mark.parametrize(("at", "align"), [(2025, "right"), (2003, "left"), (2014, "center")])
def test_a_highlighted_points_label_stays_inside_the_axes_and_has_a_halo(at: int, align: str) -> None:
    """London's 2025 label used to be centred on the last bar and run past the axes' right edge,
    across the hollow published bar's outline; at either end it is now aligned to stay inside."""
    years = list(range(2003, 2026))
    with charts.house_style():
        fig, ax = charts.figure("A title that states the finding", "What is plotted", "ONS")
        ax.bar(years, [100 + (y % 5) for y in years])
        charts.integer_years(ax)
        label = charts.highlight_point(ax, at, 100 + at % 5, f"{at}: {100 + at % 5}")
        figures.png_bytes(fig)  # lays the figure out and draws it
    assert label.get_ha() == align
    assert label.get_path_effects(), "no halo behind the label"
    renderer = fig.canvas.get_renderer()
    text, axes = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert axes.x0 - 1 <= text.x0 and text.x1 <= axes.x1 + 1, (text, axes)
