"""HTML pages of executed notebooks, through nbconvert's public exporter API.

Two forms per notebook: ``narrative`` (code hidden) and ``full``. Both use the report template
(``templates/report_notebook.html.j2``, extending JupyterLab's): it works offline, links the
report index, reads each chart's alt text and title from the image output's display metadata,
and shows a chart saved under ``figures/`` from that file instead of inlining it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
NOTEBOOK_TEMPLATE = "report_notebook.html.j2"
FORMS = {"narrative": ".html", "full": ".code.html"}

_EXPORTERS: dict[str, Any] = {}  # one exporter per form and process: templates compile once


def exporters() -> dict[str, Any]:
    """The two HTML exporters of this process: ``narrative`` (no code) and ``full``."""
    if not _EXPORTERS:
        from nbconvert.exporters import HTMLExporter

        common = {
            "template_name": "lab",
            "template_file": NOTEBOOK_TEMPLATE,
            "extra_template_paths": [str(TEMPLATES_DIR)],
            "theme": "light",
        }
        _EXPORTERS["narrative"] = HTMLExporter(
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, **common
        )
        _EXPORTERS["full"] = HTMLExporter(**common)
    return _EXPORTERS


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
    html, _ = exporters()[form].from_notebook_node(export_nb, resources)
    return html


def write_pages(nb: Any, report_dir: Path, *, stem: str, title: str, params_label: str) -> None:
    """Write ``<stem>.html`` and ``<stem>.code.html`` into ``report_dir``."""
    link_saved_figures(nb, report_dir)
    for form, suffix in FORMS.items():
        html = export_html(nb, form, stem=stem, title=title, params_label=params_label)
        (report_dir / f"{stem}{suffix}").write_text(html, encoding="utf-8")
