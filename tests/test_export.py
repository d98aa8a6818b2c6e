"""HTML pages: the report's exporter against nbconvert's stock ``HTMLExporter``.

The report's exporter skips the stock exporter's BeautifulSoup re-parse of every finished page
(``tabindex`` on inputs and outputs, a fallback ``alt`` on images) and adds those attributes in
one pass over the page's start tags (``export.accessible``). These tests hold it to the stock
result: a page of markup built to trip a pass over text parses to the same document as the stock
exporter's (the real report's pages are held to it in tests/test_real_report.py, beside the
session's real reports).
"""

from __future__ import annotations

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter

from analysis.runner import export, normalise


def stock_exporters() -> dict[str, HTMLExporter]:
    """nbconvert's own exporter with the report's settings, one per form."""
    return {form: HTMLExporter(**export.EXPORTER_CONFIG, **traits) for form, traits in export.FORM_TRAITS.items()}


def _resources(form: str) -> dict:
    return {"metadata": {"name": "page"}, "report": {"form": form, "narrative": "p.html", "full": "p.code.html",
                                                     "ipynb": "p.ipynb", "params": "year=2025"}}


def assert_same_document(nb: nbformat.NotebookNode, stock: dict[str, HTMLExporter]) -> None:
    for form in export.FORMS:
        ours = export.render(nb, form, _resources(form))
        theirs, _ = stock[form].from_notebook_node(nb, _resources(form))
        assert str(BeautifulSoup(ours, features="html.parser")) == theirs, form
        assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') > 0, form


TRICKY_HTML = "\n".join([
    '<div class="jp-OutputArea-output inner">a div of the output\'s own HTML with the class</div>',
    "<DIV CLASS='x jp-Cell-inputWrapper' data-x=\"1\">upper case, single quotes</DIV>",
    '<div class="jp-OutputArea-output" tabindex="-1">a tabindex the stock exporter overwrites</div>',
    '<div class="jp-OutputArea-outputs">a class that only starts like one</div>',
    '<img src="a.png"><img src="b.png" alt="kept"><IMG SRC="c.png" ALT="">',
    '<!-- <div class="jp-OutputArea-output"> in a comment --><div>plain</div>',
    '<style>/* <div class="jp-OutputArea-output"> */ .a > .b { color: red; }</style>',
    '<script type="text/x-example"><div class="jp-OutputArea-output"><img src="d.png"></script>',
])


def test_tricky_markup_gets_the_same_attributes_as_from_the_stock_exporter() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell('# Title\n\n<img src="e.png">\n\nText <!-- <img src="f.png"> -->'),
        nbformat.v4.new_code_cell("x = 1", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": TRICKY_HTML, "text/plain": "x"}),
            nbformat.v4.new_output("stream", text="printed <div class=\"jp-OutputArea-output\">\n"),
        ]),
    ])
    nb.metadata["language_info"] = dict(normalise.LANGUAGE_INFO)
    assert_same_document(nb, stock_exporters())


@pytest.mark.parametrize(("html", "expected"), [
    ('<div class="jp-OutputArea-output">', '<div class="jp-OutputArea-output" tabindex="0">'),
    ('<div class="a jp-Cell-inputWrapper b" id="c">', '<div class="a jp-Cell-inputWrapper b" id="c" tabindex="0">'),
    ('<div class="jp-OutputArea-output" tabindex="-1">', '<div class="jp-OutputArea-output" tabindex="0">'),
    ('<div class="jp-OutputArea-outputs">', '<div class="jp-OutputArea-outputs">'),
    ('<div data-class="jp-OutputArea-output">', '<div data-class="jp-OutputArea-output">'),
    ('<img src="a.png">', f'<img src="a.png" alt="{export.MISSING_ALT}">'),
    ('<img src="a.png" alt="">', '<img src="a.png" alt="">'),
    ('<!-- <img src="a.png"> -->', '<!-- <img src="a.png"> -->'),
    ('<textarea><img src="a.png"></textarea>', '<textarea><img src="a.png"></textarea>'),
    ('<title><div class="jp-OutputArea-output"></title>', '<title><div class="jp-OutputArea-output"></title>'),
    ('<p>&lt;div class="jp-OutputArea-output"&gt;</p>', '<p>&lt;div class="jp-OutputArea-output"&gt;</p>'),
])
def test_accessible_marks_start_tags_and_nothing_else(html: str, expected: str) -> None:
    assert export.accessible(html) == expected


def test_one_exporter_serves_both_forms_without_one_leaking_into_the_other() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("secret_input = 1", outputs=[
        nbformat.v4.new_output("stream", text="shown\n")])])
    nb.metadata["language_info"] = dict(normalise.LANGUAGE_INFO)
    narrative = export.render(nb, "narrative", _resources("narrative"))
    full = export.render(nb, "full", _resources("full"))
    assert "secret_input" not in narrative and "secret_input" in full and "shown" in narrative
    assert export.render(nb, "narrative", _resources("narrative")) == narrative
    assert export.render(nb, "full", _resources("full")) == full
