"""What the runner's kernel zygote runs once, before it forks a kernel per notebook.

:func:`warm` reads the committed series and cited tables and works out the data note for London,
filling caches that are keyed by each file's size and modification time: a forked kernel then
finds them parsed (a kernel started cold spends ~0.3 s of every notebook run on the first page
lines alone), and reads a file again only if it has changed. Nothing else is kept: every caller
still gets a fresh copy of each table.
"""

from __future__ import annotations

from analysis.data import series
from analysis.stories import params, sections


def warm() -> None:
    """Fill the data caches (series files, cited tables, the areas index, London's data note).

    Returns nothing; a file that cannot be read is left for the notebook to report.
    """
    series.warm()
    params.read_areas()
    sections.data_note(series.LONDON)
