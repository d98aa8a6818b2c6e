"""What the runner's kernel zygote runs once, before it forks a kernel per notebook.

:func:`warm` reads the committed series and cited tables and works out what every run needs
whatever its year: the data note, the annual tables of each measure, the recorded-crime tables
and the claims file for London (the default area), and the ONS revisions between vintages (the
same for every year and area). Each lands in a cache keyed by the size and modification time of
the files it comes from: a forked kernel then finds it done (a kernel started cold spends ~0.3 s
of every notebook run on the first page lines alone), and a changed file is read again. Nothing
else is kept: every caller still gets a fresh copy of each table.
"""

from __future__ import annotations

from analysis.data import series
from analysis.stories import claims, compare, params, sections, tables, violence


def warm() -> None:
    """Fill the data caches (series files, cited tables, the areas index) and the year-independent
    tables for London. Returns nothing; a file that cannot be read is left for the notebook to report."""
    series.warm()
    params.read_areas()
    sections.data_note(series.LONDON)
    for measure in tables.MEASURES.values():
        tables.annual_table(series.LONDON, measure)
    violence.annual(series.LONDON)
    compare.revisions()
    compare.revisions(compare.MET)
    claims.load_claims()
