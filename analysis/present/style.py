"""The house style: one style sheet, one colour-blind-safe palette, one set of text sizes.

Nothing here touches the global ``matplotlib.rcParams`` at import time: the style lives in
``house.mplstyle`` next to this module and is applied by :func:`house_style` (or the
:func:`styled` decorator on a chart-building function).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib
import matplotlib.style

#: The packaged style sheet (shipped via ``[tool.setuptools.package-data]``).
STYLE_PATH: Path = Path(__file__).resolve().with_name("house.mplstyle")

#: Resolution of every saved and shown PNG.
DPI: int = 120

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), by colour name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Semantic colours: use these names in charts, never raw hex codes. Every role has its own
#: colour, so any two roles can share a chart. (Okabe-Ito yellow is left out: too pale on white.)
PALETTE: dict[str, str] = {
    "primary": OKABE_ITO["blue"],  # the main series
    "secondary": OKABE_ITO["orange"],  # a comparison series
    "highlight": OKABE_ITO["vermillion"],  # the point or bar the title talks about
    "published": OKABE_ITO["black"],  # values known only from published statements (hollow)
    "muted": "#8C8C8C",  # context: other areas, earlier years, reference lines
    "knife": OKABE_ITO["reddish_purple"],  # method of killing: knife or sharp instrument
    "shooting": OKABE_ITO["bluish_green"],  # method of killing: shooting
    "other": OKABE_ITO["sky_blue"],  # method of killing: everything else
}

# Text colours and sizes for the chart furniture (independent of rcParams on purpose, so the
# helpers look the same whether or not they are called inside ``house_style()``).
INK = "#1A1A1A"
INK_SOFT = "#404040"
INK_NOTE = "#666666"
TITLE_SIZE = 16.0
SUBTITLE_SIZE = 12.0
FOOTER_SIZE = 9.0
LABEL_SIZE = 9.5
MARGIN_IN = 0.12  # outer margin of the figure, inches (matches constrained_layout.w_pad)
LINE_SPACING = 1.25

_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply the house style sheet for the duration of a ``with`` block.

    Create, draw on, save and show figures inside the block; rcParams are restored on exit.
    """
    with matplotlib.style.context(_sheet()):
        yield


def _sheet() -> dict[str, object]:
    """The style sheet's settings, read once per version of the file (a chart applies the style
    several times; reading and validating the file each time cost ~3 ms)."""
    stat = STYLE_PATH.stat()
    return dict(_read_sheet(stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=2)
def _read_sheet(mtime_ns: int, size: int) -> dict[str, object]:
    return dict(matplotlib.rc_params_from_file(STYLE_PATH, use_default_template=False))


def styled(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator for chart-building functions: run the whole body inside ``house_style()``.

    Artists take most of their look (line widths, legend frame, panel-title style) from rcParams
    *when they are created*, so everything drawn on a house figure is drawn inside the style.
    """

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with house_style():
            return function(*args, **kwargs)

    return wrapper
