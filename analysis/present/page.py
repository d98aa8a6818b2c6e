"""What every notebook does the same way: validate parameters, show computed text, save and show
each figure with its table, and write the findings the report's index is built from.

A notebook holds narrative markdown, its ``parameters`` cell and calls like these; numbers in
its text come from here, never typed into markdown.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from analysis.core import markdown as md
from analysis.present import figures, tables
from analysis.stories import sections
from analysis.stories.params import ResolvedParameters, validate_parameters


def _show(markdown: str, plain: str) -> None:
    """Display Markdown with its plain-text form (what nbval compares; no object repr)."""
    display({"text/markdown": markdown, "text/plain": plain}, raw=True)


class Page:
    """One notebook run: its resolved parameters and the findings it collects.

    ``page = Page.start("01_homicide_decline", year, area, base_year, output_dir)`` validates the
    parameters (the same function the runner uses) and shows what the run covers.
    """

    def __init__(self, notebook: str, params: ResolvedParameters) -> None:
        self.notebook = notebook
        self.params = params
        self.findings = figures.Findings(notebook, params.as_dict())

    @classmethod
    def start(cls, notebook: str, year: int | None, area: str, base_year: int | None, output_dir: str | None) -> "Page":
        """Validate the parameters and return the page; ParameterError with a clear message if they are wrong."""
        page = cls(notebook, validate_parameters(year, area, base_year, output_dir))
        p = page.params
        page.say(f"{p.area}, {p.period_label}; compared with {p.base_year}.", lead="Focus:")
        page.say(sections.data_note(p.area), lead="Data")
        if p.is_partial:
            page.say(
                f"the data stop after {p.period_label.split(' ')[0].split('–')[-1]}. "
                "It is compared like for like with the same months of earlier years and is never ranked against whole years.",
                lead=f"{p.year} is a partial year:",
            )
        return page

    @property
    def output_dir(self) -> str | None:
        return self.params.output_dir

    def say(self, text: str, key: str | None = None, *, lead: str | None = None) -> None:
        """Show computed plain text (after an optional bold ``lead``) as a paragraph; with ``key``,
        also record it among the findings' sentences.

        The text is made literal (``analysis.core.markdown``): whatever it carries from data files
        renders as characters, never as markup.
        """
        if key is not None:
            self.findings.add_sentence(key, text)
        plain = f"{lead} {text}" if lead else text
        _show(md.paragraph(md.bold(lead) if lead else "", md.literal(text)), plain)

    def show_markdown(self, markdown: str, plain: str) -> None:
        """Show Markdown built with the ``analysis.core.markdown`` helpers (data already made literal)."""
        _show(markdown, plain)

    def figure(self, slug: str, fig: Figure, table: pd.DataFrame, *, title: str, alt: str,
               labels: dict[str, str] | None = None) -> None:
        """Save the figure and its table under the output folder, record it, and show both.

        The chart comes first (its alt text and title travel in the image's display metadata),
        then its table: formatted HTML for the pages (the rows a reader needs, the rest folded
        away, a link to the CSV) and, in the same output, every row as plain text with the
        finding-title, which the notebook's regression checks compare. ``labels`` renames
        columns for the reader. Returns None, so a cell ending with this call prints no repr.
        """
        stem = f"{self.notebook}__{slug}"
        record = figures.save_figure(fig, table, stem, self.output_dir, title=title, alt=alt)
        self.findings.add(record)
        figures.show(fig, record=record)
        focus = {"year": self.params.year, "area": self.params.area}
        page_table = tables.table_html(table, uid=slug, focus=focus, csv=record["table"], labels=labels)
        display({"text/html": page_table, "text/plain": f"{title.strip()}\n\n{tables.table_text(table)}"}, raw=True)

    def finish(self, headline: str) -> None:
        """Record the headline and write ``findings/<notebook>.json`` (nothing when there is no output folder)."""
        self.findings.headline = headline
        self.findings.write(self.output_dir)
        self.say(headline, lead="In one sentence:")
