"""One notebook run, in a worker process: papermill executes it, then its files are written.

``run_job(job)`` is what a worker does: papermill injects the parameters (its
``injected-parameters`` cell) and executes the notebook in a fresh kernel (forked by the zygote or
started normally, see ``analysis.runner.kernels``), in the report's staging folder; the executed
notebook is normalised (``analysis.runner.normalise``) and written with its two HTML pages. A
failure is papermill's: its error cells stay in the executed notebook, which is kept, and the
runner prints a one-line summary naming the notebook, the cell and the parameters.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.runner import processes
from analysis.runner.normalise import normalize_notebook, notebook_text

OUTPUT_DIR_PARAMETER = "output_dir"
OUTPUT_DIR_VALUE = "."  # the kernel runs in the report folder, so the notebook names no temporary path
FAILED_MARK = ".lva-failed"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class WorkerSettings:
    """How a run's kernels start, the per-cell time limit, and whether charts are saved as SVG too."""

    engine: str
    zygote_socket: str | None
    socket_dir: str
    timeout: int | None
    svg: bool = False


@dataclass
class Job:
    """One notebook run (picklable: it crosses into a worker process)."""

    index: int  # which parameter set
    notebook: str  # path of the source notebook
    stem: str
    mode: str  # "report": inject parameters, write the report's files; "inplace": re-run the committed notebook
    cwd: str  # the kernel's working directory (the staging folder / the notebook's folder)
    parameters: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the parameter set, for messages
    failed_dir: str | None = None
    check_only: bool = False
    settings: WorkerSettings | None = None


@dataclass
class JobResult:
    index: int
    stem: str
    ok: bool
    message: str = ""
    title: str = ""
    findings: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    changed: bool = False


def init_worker(runner_pid: int) -> None:
    """Worker start-up: Ctrl-C is the runner's to handle, and the worker ends when the runner does."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGKILL"):
        processes.set_parent_death_signal(signal.SIGKILL)
    if runner_pid != os.getppid():
        processes.exit_with(runner_pid)  # forked from multiprocessing's forkserver, not the runner
    os.environ.update(processes.SINGLE_THREADED)  # kernels compute alike, whichever engine starts them


def ready() -> int:
    """A job that does nothing: submitted once per worker so that workers start early."""
    return os.getpid()


def notebook_title(nb: Any, fallback: str) -> str:
    """The first Markdown heading of the notebook, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def failure_message(job: Job, exc: BaseException, nb_path: Path | None) -> str:
    """One line for a failed run (plus where the executed notebook with papermill's error cells is)."""
    from papermill.exceptions import PapermillExecutionError

    params = f" with {job.label}" if job.label else " with its default parameters"
    where = ""
    if isinstance(exc, PapermillExecutionError):
        source_index = exc.cell_index - (1 if job.mode == "report" else 0)  # not counting the injected cell
        where = f" in cell {source_index} ({_first_line(exc.source)!r})"
        detail = f"{exc.ename}: {exc.evalue}".strip().rstrip(":")
    else:
        detail = f"{type(exc).__name__}: {_ANSI.sub('', str(exc))}".strip().rstrip(":")
    message = f"{job.stem}.ipynb failed{where}{params}: {detail}"
    if nb_path is not None:
        message += f" (executed notebook kept at {nb_path})"
    return message


def _keep_failed(job: Job, executed: Path) -> Path | None:
    """Move papermill's executed notebook (with its error cells) into the failed-runs folder."""
    if not job.failed_dir or not executed.is_file():
        return None
    failed = Path(job.failed_dir)
    if failed.exists() and not (failed / FAILED_MARK).is_file():
        return None  # not a folder this runner made: write nothing into it
    failed.mkdir(parents=True, exist_ok=True)
    (failed / FAILED_MARK).touch()
    target = failed / f"{job.stem}.ipynb"
    shutil.move(str(executed), target)
    return target


def execute(job: Job, output_path: Path | None) -> Any:
    """Run the notebook with papermill; return the executed notebook (papermill raises on failure)."""
    import papermill

    from analysis.runner.kernels import engine_options

    settings = job.settings
    assert settings is not None, "a job needs the run's settings"
    if settings.svg:
        os.environ["ANALYSIS_FIGURE_FORMATS"] = "png,svg"
    else:
        os.environ.pop("ANALYSIS_FIGURE_FORMATS", None)
    options = engine_options(settings.engine, socket_dir=settings.socket_dir, zygote_socket=settings.zygote_socket)
    parameters = {**job.parameters, OUTPUT_DIR_PARAMETER: OUTPUT_DIR_VALUE} if job.mode == "report" else None
    return papermill.execute_notebook(
        job.notebook,
        None if output_path is None else str(output_path),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        request_save_on_cell_execute=False,
        execution_timeout=settings.timeout,
        resources={"metadata": {"path": job.cwd}},  # the kernel's working directory (the worker's stays put)
        **options,
    )


def run_job(job: Job) -> JobResult:
    """Worker entry point: execute one notebook and write what it produces."""
    started = time.perf_counter()
    result = JobResult(index=job.index, stem=job.stem, ok=False)
    report_dir = Path(job.cwd)
    executed = report_dir / f"{job.stem}.ipynb" if job.mode == "report" else None
    try:
        nb = execute(job, executed)
    except Exception as exc:  # noqa: BLE001 - papermill's error, or a kernel that would not start
        kept = _keep_failed(job, executed) if executed is not None else None
        result.message = failure_message(job, exc, kept)
        return result
    result.timings["execute"] = time.perf_counter() - started
    result.title = notebook_title(nb, job.stem)
    normalize_notebook(nb)
    text = notebook_text(nb)
    if job.mode == "inplace":
        path = Path(job.notebook)
        result.changed = text != path.read_text(encoding="utf-8")
        if result.changed and not job.check_only:
            _write_atomic(path, text)
        result.ok = True
        result.timings["total"] = time.perf_counter() - started
        return result
    try:
        result.findings = load_findings(report_dir, job.stem)
    except ValueError as exc:
        result.message = f"{job.stem}.ipynb: {exc} [{job.label}]"
        return result
    assert executed is not None
    executed.write_text(text, encoding="utf-8")
    exported = time.perf_counter()
    from analysis.runner.export import write_pages

    write_pages(nb, report_dir, stem=job.stem, title=result.title, params_label=job.label)
    result.timings["html"] = time.perf_counter() - exported
    result.timings["total"] = time.perf_counter() - started
    result.ok = True
    return result


def _write_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def load_findings(report_dir: Path, stem: str) -> dict[str, Any]:
    """Read and check ``findings/<stem>.json``; ValueError naming what is wrong."""
    from analysis.present.contract import FIGURE_KEYS, FINDINGS_KEYS

    path = report_dir / "findings" / f"{stem}.json"
    if not path.is_file():
        raise ValueError(f"wrote no findings/{stem}.json although output_dir was set")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"findings/{stem}.json is not valid JSON: {exc}") from None
    missing = [k for k in FINDINGS_KEYS if k not in data]
    if missing:
        raise ValueError(f"findings/{stem}.json lacks {', '.join(missing)}")
    for i, fig in enumerate(data["figures"]):
        lacking = [k for k in FIGURE_KEYS if k not in fig]
        if lacking:
            raise ValueError(f"findings/{stem}.json: figure {i} lacks {', '.join(lacking)}")
        for key in ("png", "svg", "table"):
            rel = fig.get(key)
            if rel is None:
                continue
            target = (report_dir / rel).resolve()
            if report_dir.resolve() not in target.parents or not target.is_file():
                raise ValueError(f"findings/{stem}.json: figure {fig['stem']!r} names {rel!r}, which is not a file in the report")
    return data
