"""Figures with a finding-title, a subtitle and a source line, laid out once.

``figure(title, subtitle, source)`` makes a figure whose header (the finding as a sentence, what
is plotted) and footer (caveat notes, the source named by publisher) are wrapped to its width
and measured at the first draw; constrained layout then places the axes in the band between.
The layout is computed once per figure and kept for every later draw (PNG, SVG, inline), and it
depends only on what is in the figure, so a figure saved twice, or re-created in a new run,
comes out byte-identical.
"""

from __future__ import annotations

import re
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text

from analysis.present.style import (
    DPI,
    FOOTER_SIZE,
    INK,
    INK_NOTE,
    INK_SOFT,
    LINE_SPACING,
    MARGIN_IN,
    SUBTITLE_SIZE,
    TITLE_SIZE,
    house_style,
)

LAYOUT_PASSES = 1
#: Share of the line width left free when wrapping (glyph widths summed ignore kerning).
WRAP_SLACK = 0.02


_GLYPH_WIDTHS: dict[tuple[Any, ...], dict[str, float]] = {}  # memo: font and resolution -> glyph widths


def _word_widths(text: str, artist: Text, renderer: Any) -> tuple[dict[str, float], float]:
    """Width in pixels of every distinct word of ``text`` as ``artist`` draws it, and of a space.

    A word's width is the sum of its characters' widths, each measured once per font and
    resolution (and remembered), so wrapping a title costs a few dozen glyph measurements, not a
    text layout per word. Kerning is left out; :data:`WRAP_SLACK` keeps lines clear of the edge.
    """
    prop = artist.get_fontproperties()

    def measure(sample: str) -> float:
        return renderer.get_text_width_height_descent(sample, prop, ismath=False)[0]

    glyphs = _GLYPH_WIDTHS.setdefault((hash(prop), renderer.dpi), {})
    for char in set(text.replace("\n", "")) | {" "}:
        if char not in glyphs:
            glyphs[char] = measure("x x") - measure("xx") if char == " " else measure(char)
    widths = {word: sum(glyphs[c] for c in word) for word in set(text.split())}
    return widths, glyphs[" "]


def _greedy_wrap(text: str, widths: dict[str, float], space: float, max_px: float) -> list[str]:
    """Greedy word wrap of ``text`` so that each line's width (words plus spaces) fits in ``max_px``."""
    lines_out: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            lines_out.append("")
            continue
        line, width = words[0], widths[words[0]]
        for word in words[1:]:
            candidate = width + space + widths[word]
            if candidate <= max_px:
                line, width = f"{line} {word}", candidate
            else:
                lines_out.append(line)
                line, width = word, widths[word]
        lines_out.append(line)
    return lines_out


def _wrap_to_width(text: str, artist: Text, renderer: Any, max_px: float) -> str:
    """Wrap to ``max_px`` with balanced lines: as few lines as greedy wrapping needs, but as
    narrow as possible, so a long title does not end in a one-word orphan line."""
    widths, space = _word_widths(text, artist, renderer)
    lines = _greedy_wrap(text, widths, space, max_px)
    if len(lines) > 1:
        low, high = 0.5 * max_px, max_px
        for _ in range(10):  # bisect on the width; the result is deterministic
            mid = (low + high) / 2
            if len(_greedy_wrap(text, widths, space, mid)) <= len(lines):
                high = mid
            else:
                low = mid
        lines = _greedy_wrap(text, widths, space, high)
    return "\n".join(lines)


class HouseLayout(ConstrainedLayoutEngine):
    """Constrained layout inside the band left free by the title block and the footer.

    At every draw it wraps the header and footer texts to the figure width, stacks them from the
    top and bottom edges, and then runs constrained layout in the remaining rectangle.
    """

    def __init__(self, title: Text, subtitle: Text | None, source: Text, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.subtitle = subtitle
        self.source = source
        self.notes: list[Text] = []
        self._raw: dict[int, str] = {}
        for artist in (title, subtitle, source):
            if artist is not None:
                self._raw[id(artist)] = artist.get_text()

    def add_note(self, artist: Text) -> None:
        self.notes.append(artist)
        self._raw[id(artist)] = artist.get_text()

    def _place(self, fig: Figure, renderer: Any) -> tuple[float, float]:
        fig_w_px, fig_h_px = fig.bbox.width, fig.bbox.height
        width_in, height_in = fig.get_size_inches()
        margin_x = MARGIN_IN / width_in
        margin_y = MARGIN_IN / height_in
        max_px = fig_w_px * (1 - 2 * margin_x) * (1 - WRAP_SLACK)

        def frac(px: float) -> float:
            return px / fig_h_px

        def pts(points: float) -> float:
            return points / 72.0 / height_in

        def fit(artist: Text) -> float:
            wrapped = _wrap_to_width(self._raw[id(artist)], artist, renderer, max_px)
            artist.set_text(wrapped)
            return frac(artist.get_window_extent(renderer).height)

        # Header, from the top edge down.
        y = 1 - margin_y
        self.title.set_position((margin_x, y))
        y -= fit(self.title)
        if self.subtitle is not None:
            y -= pts(4)
            self.subtitle.set_position((margin_x, y))
            y -= fit(self.subtitle)
        header_bottom = y - pts(10)

        # Footer, from the bottom edge up: source note last, caveat notes above it.
        y = margin_y
        for artist in [self.source, *reversed(self.notes)]:
            artist.set_position((margin_x, y))
            y += fit(artist) + pts(2)
        footer_top = y + pts(6)

        return footer_top, header_bottom

    def _state(self, fig: Figure) -> tuple[Any, ...]:
        """What the layout depends on: figure size and what is drawn (not the output format's dpi)."""
        return (
            tuple(round(v, 6) for v in fig.get_size_inches()),
            tuple(self._raw.values()),
            tuple((len(ax.get_children()), ax.get_xlim(), ax.get_ylim()) for ax in fig.axes),
        )

    def execute(self, fig: Figure) -> Any:
        # The layout is computed once per figure state; later draws (the PNG, an SVG, the PNG
        # shown inline) find the texts and axes where the first one put them, so a figure is laid
        # out once, not once per format.
        state = self._state(fig)
        if state == getattr(self, "_done", None):
            return None
        result = self._layout(fig)
        self._done = self._state(fig)
        return result

    def _texts(self) -> list[Text]:
        return [a for a in (self.title, self.subtitle, self.source, *self.notes) if a is not None]

    def _layout(self, fig: Figure) -> Any:
        # A renderer of the figure's own size and resolution to measure text with (the canvas's
        # may be another format's while an SVG is saved).
        canvas = fig.canvas
        renderer = (canvas.get_renderer() if isinstance(canvas, FigureCanvasAgg)
                    else RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi))
        bottom, top = self._place(fig, renderer)
        if top - bottom < 0.2:
            raise ValueError(
                "chart title, subtitle and notes leave less than a fifth of the figure for the "
                "axes; shorten them or pass a taller figsize"
            )
        self.set(rect=(0.0, bottom, 1.0, top - bottom))
        # Constrained layout starts from the axes' current positions, and tick labels (hence
        # the space they need) depend on axes size, so a pass from wherever the last draw left
        # things is history-dependent. Start from the gridspec positions and make a fixed number
        # of passes (one is enough for these charts): the result depends only on what is in the
        # figure, so a figure saved twice, or re-created in a new run, comes out byte-identical.
        for ax in fig.axes:
            spec = ax.get_subplotspec()
            if spec is not None:
                ax.set_position(spec.get_position(fig))
                ax.set_in_layout(True)  # set_position takes an axes out of the layout
        result = None
        for _ in range(LAYOUT_PASSES):
            result = super().execute(fig)
        return result


def finalize(fig: Figure) -> None:
    """Lay the figure out now, once, and keep that layout for every later draw.

    Run before saving: without a layout engine left on the figure, ``savefig`` draws once instead
    of drawing a layout pass first, for each format. Figures made elsewhere are left alone.
    """
    engine = fig.get_layout_engine()
    if isinstance(engine, HouseLayout):
        engine.execute(fig)
        fig.house_frame = engine  # type: ignore[attr-defined]  # the texts stay reachable
        # None (not 'none', which leaves a placeholder engine that still costs a layout draw),
        # read with the rcParams that would otherwise turn constrained layout back on.
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)


def figure_text(fig: Figure, text: str, **kwargs: Any) -> Text:
    return fig.text(
        0.0, 0.0, text, ha="left", parse_math=False, transform=fig.transFigure, **kwargs
    )


def source_note(*names: str) -> str:
    """Build the source line from source labels: ``"Source: A"`` or ``"Sources: A; B"``.

    Duplicates are dropped (first occurrence kept), blanks are ignored.
    """
    seen: list[str] = []
    for name in names:
        label = str(name).strip()
        if label and label not in seen:
            seen.append(label)
    if not seen:
        raise ValueError("source_note() needs at least one non-empty source label")
    prefix = "Source" if len(seen) == 1 else "Sources"
    return f"{prefix}: {'; '.join(seen)}"


def figure(
    title: str,
    subtitle: str | None,
    source: str,
    *,
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
    sharey: bool = False,
) -> tuple[Figure, Axes | np.ndarray]:
    """Create a figure in the house style with a finding-title, subtitle and source note.

    ``title`` states the finding as a sentence (e.g. "Knife homicides rose while shootings fell");
    it is bold, left-aligned and wrapped to the figure width. ``subtitle`` says what is plotted,
    with units and period. ``source`` is a source label or a ready ``source_note(...)`` line.

    Returns ``(fig, ax)`` for one panel, or ``(fig, axes)`` with a NumPy array of Axes otherwise
    (squeezed like ``plt.subplots``). The figure is not registered with pyplot.
    """
    if not isinstance(title, str) or not title.strip():
        raise ValueError("figure() needs a title that states the finding")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("figure() needs a source, e.g. charts.source_note('ONS')")
    source = source.strip()
    if not re.match(r"^Sources?:", source):
        source = f"Source: {source}"

    with house_style():
        fig = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(fig)
        title_artist = figure_text(
            fig, title.strip(), va="top", fontsize=TITLE_SIZE, fontweight="bold", color=INK,
            linespacing=LINE_SPACING,
        )
        subtitle_artist = None
        if subtitle is not None and subtitle.strip():
            subtitle_artist = figure_text(
                fig, subtitle.strip(), va="top", fontsize=SUBTITLE_SIZE, color=INK_SOFT,
                linespacing=LINE_SPACING,
            )
        source_artist = figure_text(
            fig, source, va="bottom", fontsize=FOOTER_SIZE, color=INK_NOTE,
            linespacing=LINE_SPACING,
        )
        fig.set_layout_engine(
            HouseLayout(title_artist, subtitle_artist, source_artist,
                         w_pad=MARGIN_IN, h_pad=0.06, wspace=0.04, hspace=0.06)
        )
        axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=True)
    return fig, axes


_NOTE_CORNERS = {
    "upper left": (0.01, 0.98, "left", "top"),
    "upper right": (0.99, 0.98, "right", "top"),
    "lower left": (0.01, 0.02, "left", "bottom"),
    "lower right": (0.99, 0.02, "right", "bottom"),
}


def note(ax_or_fig: Axes | Figure, text: str, *, loc: str = "upper left") -> Text:
    """Write a caveat beside the chart (e.g. "Recording changed in 2014: see vertical line").

    On a figure from ``figure()`` the note goes in the footer, above the source line, and the
    axes shrink to make room. On an Axes it goes in a corner (``loc``) in small grey type.
    """
    if not text or not text.strip():
        raise ValueError("note() needs text")
    text = text.strip()
    if isinstance(ax_or_fig, Figure):
        engine = ax_or_fig.get_layout_engine()
        if not isinstance(engine, HouseLayout):
            raise TypeError("note(fig, ...) needs a figure made by charts.figure()")
        if not re.match(r"^Notes?:", text):
            text = f"Note: {text}"
        artist = figure_text(
            ax_or_fig, text, va="bottom", fontsize=FOOTER_SIZE, color=INK_SOFT,
            linespacing=LINE_SPACING,
        )
        engine.add_note(artist)
        return artist
    if loc not in _NOTE_CORNERS:
        raise ValueError(f"loc must be one of {sorted(_NOTE_CORNERS)}")
    x, y, ha, va = _NOTE_CORNERS[loc]
    return ax_or_fig.text(
        x, y, text, transform=ax_or_fig.transAxes, ha=ha, va=va, fontsize=FOOTER_SIZE,
        color=INK_SOFT, parse_math=False, zorder=7,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none",
              "alpha": 0.85},
    )


