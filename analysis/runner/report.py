"""Run the notebooks: ``python -m analysis report`` (the report) and ``python -m analysis notebooks``.

``report`` executes every ``notebooks/[0-9][0-9]_*.ipynb`` for one or more parameter sets and
writes, per set, a folder (default ``reports/<area>/<year>/`` under the current directory)::

    index.html                   headline findings and charts, links to everything below
    01_homicide_decline.ipynb    the executed notebook (``output_dir = "."``: re-run it in place)
    01_homicide_decline.html     narrative page (code hidden)
    01_homicide_decline.code.html   the same page with the code
    figures/*.png (*.svg with --svg)  tables/*.csv  findings/*.json  claims.csv   written by the notebooks
    assets/notebook.css          the JupyterLab stylesheet, shared by the pages
    run.json                     parameters, source checksums, package versions (no timestamps)

How a run flows (docs/architecture.md has the picture):

1. Parameters are validated by ``analysis.stories.params`` (the function the notebooks call),
   which reads a small index of areas and years with the standard library: a bad year or area
   is refused before anything heavy is imported.
2. Output folders are checked (``analysis.core.folders``): only an empty folder or a report this
   runner wrote is ever replaced.
3. Kernels: on Linux a zygote preloads the notebooks' imports and forks a kernel per notebook
   (``forkserver``), reached through a jupyter_client kernel provisioner (``kernels``);
   elsewhere, or with ``--engine spawn``, stock kernels.
4. Worker processes, forked from multiprocessing's clean forkserver process (never from this
   one), each run one notebook at a time through papermill (``execute``): papermill injects the
   parameters and executes; the worker normalises the notebook and writes its HTML pages.
5. When every notebook of a set has succeeded, ``index.html`` and ``run.json`` are written and
   the staging folder is swapped in for the report (atomic on Linux). A failed or interrupted
   run leaves the previous report byte-identical; a failed notebook is kept, with papermill's
   error cells, in ``.<year>.failed/`` beside the report.

``notebooks`` re-executes the committed notebooks in place with their default parameters and
normalises them, so that re-running gives byte-identical files.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.core import folders, paths
from analysis.core.errors import OutputError, ParameterError, ReportError, shorten
from analysis.runner import preload
from analysis.runner.execute import FAILED_MARK, Job, JobResult, WorkerSettings
from analysis.runner.index import is_report, run_record, write_index, write_run_record
from analysis.runner.progress import Progress

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
DEFAULT_TIMEOUT = 1800  # seconds per cell


def find_notebooks(folder: Path | str | None = None) -> list[Path]:
    """The report's notebooks, in order: ``[0-9][0-9]_*.ipynb`` in ``folder`` (default notebooks/)."""
    folder = Path(folder) if folder is not None else paths.NOTEBOOKS_DIR
    return sorted(p.resolve() for p in folder.glob(NOTEBOOK_PATTERN) if p.is_file())


# =============================================================================================
# Parameter sets and folders
# =============================================================================================


@dataclass(frozen=True)
class ParamSet:
    """One report: the parameters given to every notebook, and its folder below the reports root."""

    year: int | None
    area: str
    base_year: int | None
    folder: str

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "area": self.area, "base_year": self.base_year}

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())


def _safe_folder_part(text: object) -> str:
    cleaned = re.sub(r"[/\\\x00-\x1f]", "-", str(text)).strip().strip(".")
    return cleaned or "_"


def resolve_param_sets(
    years: Sequence[str] | None,
    areas: Sequence[str] | None,
    base_year: int | None = None,
    *,
    data_check: bool = True,
    skipped: list[str] | None = None,
) -> list[ParamSet]:
    """Expand ``--year``/``--area`` into parameter sets, validated against the data when asked.

    ``years`` holds strings: years, or ``"all"`` for every year the data support for the area
    (years that then fail validation are left out and described in ``skipped``; an explicitly
    requested year that fails raises ParameterError).
    """
    from analysis.stories import params

    sets: list[ParamSet] = []
    for area in areas or ["London"]:
        every_year = any(str(y).lower() == "all" for y in years or [])
        if every_year:
            if len(years or []) > 1:
                raise ParameterError("--year all cannot be combined with explicit years")
            if not data_check:
                raise ParameterError("--year all needs the data check")
            year_list: list[int | None] = list(params.available_years(area))
        elif years:
            year_list = []
            for y in years:
                try:
                    year_list.append(int(str(y)))
                except ValueError:
                    raise ParameterError(f"--year expects years or 'all', got {shorten(repr(y))}") from None
        else:
            year_list = [None]
        for year in year_list:
            resolved_year, resolved_area, resolved_base = year, area, base_year
            if data_check:
                try:
                    resolved = params.validate_parameters(year, area, base_year)
                except ParameterError as exc:
                    if not every_year:
                        raise
                    if skipped is not None:
                        skipped.append(f"{area} {year}: {exc}")
                    continue
                resolved_year, resolved_area, resolved_base = resolved.year, resolved.area, resolved.base_year
            year_part = "latest" if resolved_year is None else str(resolved_year)
            if base_year is not None:
                year_part += f"-from-{base_year}"
            ps = ParamSet(resolved_year, resolved_area, resolved_base, f"{_safe_folder_part(resolved_area)}/{year_part}")
            if any(other.folder == ps.folder for other in sets):
                continue
            sets.append(ps)
    if not sets:
        raise ParameterError("no valid parameter set: " + "; ".join(skipped or []))
    return sets


def output_folder(out: str | None, ps: ParamSet, several: bool) -> Path:
    """Where a parameter set's report goes (relative paths are relative to the current directory).

    Default ``reports/<area>/<year>``. ``--out DIR``: exactly DIR for a single parameter set, or
    ``DIR/<area>/<year>`` for several; ``{area}``, ``{year}`` and ``{base_year}`` placeholders
    in DIR are filled in. A bad placeholder or an empty DIR is a ParameterError.
    """
    if out is None:
        return Path("reports") / ps.folder
    if not out.strip():
        raise ParameterError("--out is empty; name a folder for the report, e.g. --out reports/London/2025")
    if "{" in out or "}" in out:
        try:
            filled = out.format(area=_safe_folder_part(ps.area), year=ps.year, base_year=ps.base_year)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ParameterError(
                f"--out {shorten(out)!r}: {exc.__class__.__name__} {shorten(exc)}; the only placeholders are "
                "{area}, {year} and {base_year} (write {{ and }} for literal braces)"
            ) from None
        return Path(filled)
    return Path(out) / ps.folder if several else Path(out)


def check_report_folder(final: Path | str) -> Path:
    """The absolute report folder, if a report may be written there (else OutputError, one line)."""
    return folders.check_target(final, is_ours=is_report, what="report", marker_name="run.json",
                                protected=(paths.REPO_ROOT,))


def reset_failed_dir(failed_dir: Path) -> None:
    """Remove the notebooks a previous failed run kept (only a folder this runner marked)."""
    if (failed_dir / FAILED_MARK).is_file():
        shutil.rmtree(failed_dir, ignore_errors=True)


# =============================================================================================
# Engines and workers
# =============================================================================================


def default_jobs() -> int:
    return os.cpu_count() or 1


def default_engine() -> str:
    """``fork`` on Linux (kernels forked from a preloaded zygote), ``spawn`` (stock kernels) elsewhere."""
    return "fork" if sys.platform.startswith("linux") and hasattr(os, "fork") else "spawn"


def _worker_context() -> Any:
    """Workers start from multiprocessing's forkserver on Linux (a clean, single-threaded process
    that has imported and warmed papermill and nbconvert), and are spawned elsewhere."""
    if sys.platform.startswith("linux"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["analysis.runner.warm"])
        from multiprocessing import forkserver as mp_forkserver

        mp_forkserver.ensure_running()  # starts warming up now
        return context
    return multiprocessing.get_context("spawn")


@dataclass
class Outcome:
    published: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = ""  # the kernels the notebooks ran in: "fork", or "spawn" (asked for, or the zygote failed)

    def warn(self, bars: Progress) -> Callable[[str], None]:
        """A function that records a warning here and shows it on the progress output."""
        def warn(message: str) -> None:
            self.warnings.append(message)
            bars.write(message)

        return warn

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


class Engine:
    """The zygote (fork engine) and the worker pool of one run; closed on every way out.

    The zygote's preloading, the forkserver's warm-up and the workers' start overlap: the
    workers are asked for at once, and only then does the runner wait for the zygote.
    """

    def __init__(self, engine: str, notebooks: Sequence[Path], jobs: int, timeout: int | None, *, svg: bool = False,
                 warn: Any = print) -> None:
        from analysis.runner.execute import init_worker, ready

        self.zygote = None
        self.socket_dir = tempfile.mkdtemp(prefix="lva-w-")  # short: ipc socket paths are limited
        if engine == "fork":
            from analysis.runner import forkserver

            self.zygote = forkserver.Zygote(preload.kernel_preload(notebooks))
        self.executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=_worker_context(), initializer=init_worker, initargs=(os.getpid(),)
        )
        starting = [self.executor.submit(ready) for _ in range(jobs)]
        if self.zygote is not None:
            from analysis.runner.forkserver import ZygoteError

            try:
                self.zygote.wait_ready()
            except ZygoteError as exc:
                warn(f"warning: forked kernels unavailable ({exc}); using normally started kernels")
                self.zygote.close()
                self.zygote, engine = None, "spawn"
        concurrent.futures.wait(starting)
        self.settings = WorkerSettings(engine=engine, zygote_socket=self.zygote.socket_path if self.zygote else None,
                                       socket_dir=self.socket_dir, timeout=timeout, svg=svg)

    def submit(self, job: Job) -> concurrent.futures.Future[JobResult]:
        from analysis.runner.execute import run_job

        job.settings = self.settings
        return self.executor.submit(run_job, job)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.zygote is not None:
            self.zygote.close()  # kills the kernels it forked
            self.zygote = None
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def longest_first(notebooks: Sequence[Path]) -> list[Path]:
    """The notebooks in the order to start them: the longest-running first, so that the last to
    finish is a short one and no core idles while one long notebook ends a report (London 2025:
    14.1 s → ~12.5 s on two cores). A notebook's committed size stands for its cost (most of it is
    its charts' PNGs, and drawing charts is most of a run); ties go by name."""
    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    return sorted(notebooks, key=lambda path: (-size(path), path.name))


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


# =============================================================================================
# Running reports
# =============================================================================================


def run_reports(
    param_sets: Sequence[ParamSet],
    *,
    notebooks: Sequence[Path],
    out: str | None = None,
    jobs: int | None = None,
    engine: str | None = None,
    timeout: int | None = DEFAULT_TIMEOUT,
    progress: bool = True,
    svg: bool = False,
    manifest: Path | None = None,
    series_dir: Path | None = None,
) -> Outcome:
    """Execute every notebook for every parameter set; publish each complete report atomically."""
    started = time.perf_counter()
    if not notebooks:
        raise ReportError("no notebooks to run")
    if not param_sets:
        raise ParameterError("no parameter sets")
    several = len(param_sets) > 1
    finals = [check_report_folder(output_folder(out, ps, several)) for ps in param_sets]
    if len(set(finals)) != len(finals):
        raise ParameterError("several parameter sets would write the same folder; use {area}/{year} in --out")
    absent = {final: not final.exists() for final in finals}
    jobs = max(1, min(int(jobs or default_jobs()), len(param_sets) * len(notebooks)))
    outcome = Outcome()
    bars = Progress(len(param_sets), len(param_sets) * len(notebooks), enabled=progress)
    stagings: dict[int, tuple[Path, folders.RunLock]] = {}
    pool: Engine | None = None
    try:
        from analysis.runner.export import notebook_css

        css = notebook_css()
        for si, final in enumerate(finals):
            final.parent.mkdir(parents=True, exist_ok=True)
            folders.clean_leftovers(final, is_ours=is_report)
            staging, lock = folders.staging_for(final)
            stagings[si] = (staging, lock)
            (staging / "assets").mkdir()
            (staging / "assets" / "notebook.css").write_text(css, encoding="utf-8")
            reset_failed_dir(final.parent / f".{final.name}.failed")
            bars.write(f"report [{param_sets[si].label}] -> {display_path(final)}/")
        pool = Engine(engine or default_engine(), notebooks, jobs, timeout, svg=svg, warn=outcome.warn(bars))
        outcome.engine = pool.settings.engine
        pending = {}
        for si, ps in enumerate(param_sets):
            staging = stagings[si][0]
            for nb in longest_first(notebooks):
                job = Job(index=si, notebook=str(nb), stem=nb.stem, mode="report", cwd=str(staging),
                          parameters=ps.as_dict(), label=ps.label, failed_dir=str(finals[si].parent / f".{finals[si].name}.failed"))
                pending[pool.submit(job)] = job
        per_set: dict[int, list[JobResult]] = {i: [] for i in range(len(param_sets))}
        failed: set[int] = set()
        while pending:
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                if future.cancelled():
                    continue
                try:
                    res = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died
                    res = JobResult(job.index, job.stem, False, f"{job.stem}.ipynb: the worker running it died ({exc}) [{job.label}]")
                outcome.results.append(res)
                bars.notebook_done(f"{job.stem} [{job.label}]", res.timings.get("total"))
                if not res.ok:
                    if job.index not in failed:
                        failed.add(job.index)
                        outcome.failures.append(res.message)
                        bars.write(f"FAILED: {res.message}")
                        for other, other_job in pending.items():  # the set is lost: skip the rest
                            if other_job.index == job.index:
                                other.cancel()
                        bars.run_done(param_sets[job.index].label)
                    continue
                per_set[job.index].append(res)
                if len(per_set[job.index]) == len(notebooks):
                    _publish(job.index, param_sets[job.index], finals[job.index], stagings.pop(job.index), per_set[job.index],
                             notebooks, outcome, bars, was_absent=absent[finals[job.index]], manifest=manifest, series_dir=series_dir)
    finally:
        bars.close()
        if pool is not None:
            pool.close()
        for staging, lock in stagings.values():
            folders.discard_staging(staging, lock)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _publish(index: int, ps: ParamSet, final: Path, staged: tuple[Path, folders.RunLock], results: list[JobResult],
             notebooks: Sequence[Path], outcome: Outcome, bars: Progress, *, was_absent: bool,
             manifest: Path | None, series_dir: Path | None) -> None:
    """Complete a report (index, run record) and swap it in; a refusal is this set's failure."""
    staging, lock = staged
    try:
        write_index(staging, ps.as_dict(), ps.label, results)
        write_run_record(staging, run_record(ps.as_dict(), notebooks, manifest=manifest, series_dir=series_dir))
        folders.publish(staging, final, is_ours=is_report, what="report", was_absent=was_absent)
    except OutputError as exc:
        folders.discard_staging(staging, lock)
        outcome.failures.append(f"{exc} [{ps.label}]")
        bars.write(f"FAILED: {exc}")
        bars.run_done(ps.label)
        return
    except BaseException:
        folders.discard_staging(staging, lock)
        raise
    lock.release()
    outcome.published.append(final)
    bars.run_done(ps.label)
    bars.write(f"done [{ps.label}]: {display_path(final / 'index.html')}")


def rerun_notebooks(
    notebooks: Sequence[Path],
    *,
    jobs: int | None = None,
    engine: str = "spawn",
    timeout: int | None = DEFAULT_TIMEOUT,
    check: bool = False,
    progress: bool = True,
) -> Outcome:
    """Re-execute notebooks in place with their defaults; write only those whose bytes changed."""
    started = time.perf_counter()
    outcome = Outcome()
    jobs = max(1, min(int(jobs or default_jobs()), len(notebooks) or 1))
    bars = Progress(0, len(notebooks), enabled=progress)
    pool: Engine | None = None
    try:
        pool = Engine(engine, notebooks, jobs, timeout, warn=outcome.warn(bars))
        outcome.engine = pool.settings.engine
        futures = {
            pool.submit(Job(index=i, notebook=str(Path(p).resolve()), stem=Path(p).stem, mode="inplace",
                            cwd=str(Path(p).resolve().parent), check_only=check)): Path(p)
            for i, p in enumerate(longest_first(notebooks))
        }
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            try:
                res = future.result()
            except Exception as exc:  # noqa: BLE001
                res = JobResult(0, path.stem, False, f"{path.name}: the worker running it died ({exc})")
            outcome.results.append(res)
            bars.notebook_done(path.stem, res.timings.get("total"))
            if not res.ok:
                outcome.failures.append(res.message)
                bars.write(f"FAILED: {res.message}")
            elif check and res.changed:
                outcome.failures.append(f"{display_path(path)} is not up to date (re-run `python -m analysis notebooks`)")
                bars.write(f"outdated: {display_path(path)}")
            else:
                verb = ("updated" if res.changed else "unchanged") if not check else "up to date"
                bars.write(f"{verb}: {display_path(path)}")
    finally:
        bars.close()
        if pool is not None:
            pool.close()
    outcome.seconds = time.perf_counter() - started
    return outcome
