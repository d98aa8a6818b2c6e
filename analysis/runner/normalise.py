"""Executed notebooks as deterministic files: the same inputs always give the same bytes.

Papermill and nbclient record when and how long things ran (cell and notebook metadata), the
kernel's exact Python version, and, under load, a ``print`` split into two stream messages. All
of that is normalised away here; what stays is the parameters papermill injected and the outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: Written into every executed notebook instead of what the kernel reports, so a notebook does
#: not change when it is re-run on another patch release of Python.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
#: Cell metadata keys that only record when/how long something ran.
VOLATILE_CELL_METADATA = ("execution", "papermill", "ExecuteTime", "collapsed", "scrolled")


def normalize_notebook(nb: Any) -> Any:
    """Make an executed notebook deterministic (in place) and return it.

    Sequential execution counts, merged stream outputs, fixed kernel metadata, deterministic
    cell ids, no timing metadata; of papermill's notebook metadata only the injected
    ``parameters`` stay (none when nothing was injected).
    """
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    for key in ("widgets", "toc-autonumbering"):
        nb.metadata.pop(key, None)
    papermill = nb.metadata.pop("papermill", None) or {}
    if papermill.get("parameters"):
        nb.metadata["papermill"] = {"parameters": dict(papermill["parameters"])}
    used: set[str] = set()
    count = 0
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            del cell.metadata["tags"]  # papermill adds an empty list to every cell
        cell_id = cell.get("id")
        if "injected-parameters" in (cell.metadata.get("tags") or []):
            cell_id = "injected-parameters"  # papermill gives it a random id
        if not cell_id or cell_id in used:
            cell_id = f"cell-{index:02d}"
            while cell_id in used:
                cell_id += "x"
        cell["id"] = cell_id
        used.add(cell_id)
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None and not cell.outputs:
            continue  # never ran (empty cell)
        count += 1
        cell.execution_count = count
        cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    nb.nbformat, nb.nbformat_minor = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    return nb


def coalesce_streams(outputs: Sequence[Any]) -> list[Any]:
    """Merge adjacent stream outputs of the same stream (stdout/stderr) into one.

    The kernel batches what a cell prints and flushes it every 0.2 s, so under load one ``print``
    can arrive as two messages: the same output, split differently from run to run (nbval merges
    streams before comparing for the same reason).
    """
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and output.get("name") == previous.get("name")
        ):
            previous["text"] = _joined(previous.get("text", "")) + _joined(output.get("text", ""))
            continue
        merged.append(output)
    return merged


def _joined(text: Any) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def notebook_text(nb: Any) -> str:
    """The notebook as it is written to disk (nbformat JSON, ending with a newline)."""
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def clear_outputs(nb: Any) -> Any:
    """Drop every output and execution count (in place)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def strip_injected(nb: Any) -> Any:
    """Remove a cell papermill injected earlier, and its record (in place)."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in (c.metadata.get("tags") or [])]
    nb.metadata.pop("papermill", None)
    return nb
