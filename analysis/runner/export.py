"""HTML pages of executed notebooks, through nbconvert's public exporter API.

Two forms per notebook: ``narrative`` (code hidden) and ``full``. Both use the report template
(``templates/report_notebook.html.j2``, extending JupyterLab's): it works offline, links the
report index, reads each chart's alt text and title from the image output's display metadata,
and shows a chart saved under ``figures/`` from that file instead of inlining it again.

The exporter is nbconvert's ``HTMLExporter`` except for its last step: the stock one re-parses
each finished page with BeautifulSoup only to add ``tabindex="0"`` to cell inputs and outputs
and a fallback ``alt`` to images without one — about 85 % of a page's export time (0.42 CPU-s of
a notebook run's ~2.9 on the reference machine). Here :func:`accessible` adds the same attributes
to the same start tags in one pass over the text, and a test checks the page parses to the same
document as the stock exporter's.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
NOTEBOOK_TEMPLATE = "report_notebook.html.j2"
FORMS = {"narrative": ".html", "full": ".code.html"}
#: What makes a form: the narrative page leaves out code cells' inputs and every prompt. These
#: traits are read as a page is rendered (they do not touch the template environment), so one
#: exporter serves both forms and its templates compile once per process (~0.3 s each time).
FORM_TRAITS: dict[str, dict[str, bool]] = {
    "narrative": {"exclude_input": True, "exclude_input_prompt": True, "exclude_output_prompt": True},
    "full": {"exclude_input": False, "exclude_input_prompt": False, "exclude_output_prompt": False},
}

#: The exporter's settings besides the form: the report template over JupyterLab's, light theme.
EXPORTER_CONFIG: dict[str, Any] = {
    "template_name": "lab",
    "template_file": NOTEBOOK_TEMPLATE,
    "extra_template_paths": [str(TEMPLATES_DIR)],
    "theme": "light",
}

#: Classes of the ``<div>`` start tags that stock nbconvert makes keyboard-focusable (its
#: ``HTMLExporter`` selects ``.jp-Notebook div.jp-Cell-inputWrapper`` and
#: ``.jp-Notebook div.jp-OutputArea-output``; every page's ``<body>`` is the ``.jp-Notebook``).
FOCUSABLE_CLASSES = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})
#: nbconvert's text for an image that carries no ``alt`` (the report's charts always carry one).
MISSING_ALT = "No description has been provided for this image"

_START_TAG = re.compile(r"<(div|img)\b[^<>]*>", re.IGNORECASE)
_MASKED = re.compile(r"<!--.*?-->|<(script|style|textarea|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _attribute(tag: str, name: str) -> re.Match[str] | None:
    """Where attribute ``name`` of the start tag ``tag`` is, with its quoted value as group 1 or 2."""
    return re.search(rf"""\s{name}\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag, re.IGNORECASE)


def _with_attribute(tag: str, name: str, value: str) -> str:
    """The start tag ``tag`` with ``name="value"`` set (replacing the value it has, if any)."""
    found = _attribute(tag, name)
    if found:
        group = 1 if found.group(1) is not None else 2
        return f"{tag[:found.start(group)]}{value}{tag[found.end(group):]}"
    return f'{tag[:-1]} {name}="{value}">'


def _accessible_tag(match: re.Match[str]) -> str:
    tag = match.group(0)
    if match.group(1).lower() == "img":
        return tag if re.search(r"\salt\s*=", tag, re.IGNORECASE) else _with_attribute(tag, "alt", MISSING_ALT)
    classes = _attribute(tag, "class")
    value = classes and (classes.group(1) if classes.group(1) is not None else classes.group(2))
    if value and FOCUSABLE_CLASSES.intersection(value.split()):
        return _with_attribute(tag, "tabindex", "0")
    return tag


def accessible(html: str) -> str:
    """``html`` with what nbconvert's ``HTMLExporter`` adds after rendering: ``tabindex="0"`` on
    each cell input wrapper and output ``<div>``, and :data:`MISSING_ALT` on each ``<img>``
    without an ``alt``.

    One pass over the start tags of the page as the template wrote it (attribute values quoted
    and escaped, so ``<`` and ``>`` never occur inside one). Comments and the contents of
    ``<script>``, ``<style>``, ``<textarea>`` and ``<title>`` are left as they are: a browser
    reads them as text, not tags. Nothing else in the page changes.
    """
    pieces: list[str] = []
    end = 0
    for masked in _MASKED.finditer(html):
        pieces.append(_START_TAG.sub(_accessible_tag, html[end:masked.start()]))
        pieces.append(masked.group(0))
        end = masked.end()
    pieces.append(_START_TAG.sub(_accessible_tag, html[end:]))
    return "".join(pieces)


def _exporter_class() -> type:
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportHTMLExporter(HTMLExporter):
        """``HTMLExporter`` with its page post-processing done by :func:`accessible`.

        The filters are registered as the stock ``from_notebook_node`` registers them (the code
        highlighter for the notebook's language, the display-format choice that skips widget
        views without widget state), the template renders through ``TemplateExporter`` (which
        calls this exporter's resources set-up), and the finished page is not re-parsed.
        """

        def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None,
                               **kw: Any) -> tuple[str, dict[str, Any]]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            meta = (resources or {}).get("metadata", {})
            name = os.path.join(meta.get("path", ""), meta.get("name", ""))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata={name: nb.metadata}, resources=resources, parent=self))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(html), resources

    return ReportHTMLExporter


@functools.cache
def exporter() -> Any:
    """This process's HTML exporter, made on first use (the form is chosen per page by :func:`render`)."""
    # optimistic_validation: validate the notebook once after the preprocessors, not after each
    # of the twelve (most of them disabled): ~15 ms a page pair
    return _exporter_class()(**EXPORTER_CONFIG, optimistic_validation=True)


def render(nb: Any, form: str, resources: dict[str, Any]) -> str:
    """The page of ``nb`` in ``form`` (``narrative`` or ``full``) as HTML text."""
    page = exporter()
    for name, value in FORM_TRAITS[form].items():
        setattr(page, name, value)
    html, _ = page.from_notebook_node(nb, resources)
    return html


def warm() -> None:
    """Compile the templates now (e.g. in the process the workers start from)."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# warm-up\n\ntext"),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="x\n")]),
    ])
    for form in FORMS:
        export_html(nb, form, stem="warm-up", title="warm-up", params_label="")


def notebook_css() -> str:
    """JupyterLab's stylesheet (light theme) as nbconvert's ``lab`` template ships it.

    Read from the template folder on Jupyter's data path (the first that has it, as nbconvert's
    own template loader finds it), without importing nbconvert.
    """
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbconvert", "templates"):
        static = Path(base) / "lab" / "static"
        if (static / "index.css").is_file():
            return "\n".join((static / name).read_text(encoding="utf-8") for name in ("index.css", "theme-light.css"))
    raise FileNotFoundError("nbconvert's lab template (lab/static/index.css) is not on Jupyter's data path")


def link_saved_figures(nb: Any, report_dir: Path) -> None:
    """Point each chart output at its saved PNG (``figures/…``), where the file exists.

    The chart's display metadata names the file it was saved as; the page then links that file
    instead of embedding the image a second time. Outputs without a saved file stay inline.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = (output.get("metadata") or {}).get("image/png") or {}
            name = meta.get("file") if isinstance(meta, dict) else None
            if name and (report_dir / name).is_file():
                output.setdefault("metadata", {})["filenames"] = {"image/png": name}


def export_html(nb: Any, form: str, *, stem: str, title: str, params_label: str) -> str:
    """One page of the notebook in the given form (``narrative`` or ``full``), as HTML text."""
    from nbformat import NotebookNode

    export_nb = NotebookNode(nb)  # shallow: only the metadata differs
    export_nb.metadata = NotebookNode({**nb.metadata, "title": title})
    resources = {
        "metadata": {"name": title},
        "report": {
            "form": form,
            "narrative": f"{stem}{FORMS['narrative']}",
            "full": f"{stem}{FORMS['full']}",
            "ipynb": f"{stem}.ipynb",
            "params": params_label,
        },
    }
    return render(export_nb, form, resources)


def write_pages(nb: Any, report_dir: Path, *, stem: str, title: str, params_label: str) -> None:
    """Write ``<stem>.html`` and ``<stem>.code.html`` into ``report_dir``."""
    link_saved_figures(nb, report_dir)
    for form, suffix in FORMS.items():
        html = export_html(nb, form, stem=stem, title=title, params_label=params_label)
        (report_dir / f"{stem}{suffix}").write_text(html, encoding="utf-8")
