"""Benchmark the report runner against a naive pipeline and the plain-Python floor.

    python benchmarks/bench_report.py                      # real notebooks, --year 2025, sweep --year all
    python benchmarks/bench_report.py --repeat 3 --no-sweep
    python benchmarks/bench_report.py --notebooks tests/fixtures/notebooks --no-data-check \\
        --sweep-years 2015 2016 2017 2018 2019 2020        # the fixtures (no data needed)

Measured in one run on this machine, each as a fresh process, wall-clock, paired: every repeat
runs (a), (b), (c) back to back, so they share the machine's state at that moment.

(a) ``python -m analysis report --year Y`` (this project's runner, ``--jobs`` workers);
(b) the naive pipeline, one notebook after another: the ``papermill`` CLI, then
    ``jupyter nbconvert --to html`` on the executed notebook;
(c) the floor: the same notebooks' code cells run as plain Python, one after another in ONE
    process (parameters assigned after the parameters cell, figures written to a folder, Agg
    backend, no kernel, no HTML).
Then a sweep: ``report --year all`` (or --sweep-years) with ``--jobs 2``, reported as seconds
per notebook run (wall time / (years x notebooks)).

Prints the medians, the ratios a/b and a/c, the sweep's s/notebook-run against the targets
(a/b <= 0.3, a/c <= 1.2, sweep <= 1.2 s), and the runner's per-notebook breakdown (kernel start,
execution, HTML) from ``--timings``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BIN = Path(sys.executable).parent

TARGETS = {"a/b": 0.3, "a/c": 1.2, "sweep": 1.2}


def _tool(name: str) -> list[str]:
    exe = BIN / name
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found:
        return [found]
    raise SystemExit(f"{name} not found next to {sys.executable} or on PATH")


def _timed(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds, proc


def notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


# ---------------------------------------------------------------------------------------------
# (a) (b) (c)
# ---------------------------------------------------------------------------------------------


def run_a(args: argparse.Namespace, work: Path) -> tuple[float, str]:
    out = work / "a"
    cmd = [PY, "-m", "analysis", "report", "--year", str(args.year), "--area", args.area,
           "--out", str(out), "--jobs", str(args.jobs), "--no-progress", "--timings"]
    if args.notebooks:
        cmd += ["--notebooks", str(args.notebooks)]
    if args.no_data_check:
        cmd += ["--no-data-check"]
    seconds, proc = _timed(cmd, cwd=work)
    return seconds, proc.stderr


def run_b(args: argparse.Namespace, work: Path, notebooks: list[Path]) -> float:
    out = work / "b"
    out.mkdir(parents=True, exist_ok=True)
    papermill, jupyter = _tool("papermill"), _tool("jupyter")
    total = 0.0
    for nb in notebooks:
        executed = out / nb.name
        seconds, _ = _timed([*papermill, str(nb), str(executed), "-p", "year", str(args.year),
                             "-p", "area", args.area, "-p", "output_dir", str(out)], cwd=work)
        total += seconds
        seconds, _ = _timed([*jupyter, "nbconvert", "--to", "html", str(executed)], cwd=work)
        total += seconds
    return total


def run_c(args: argparse.Namespace, work: Path, notebooks: list[Path]) -> float:
    out = work / "c"
    cmd = [PY, str(Path(__file__).resolve()), "--floor-worker", "--year", str(args.year),
           "--area", args.area, "--floor-out", str(out), *map(str, notebooks)]
    seconds, _ = _timed(cmd, cwd=work)
    return seconds


def floor_worker(paths: list[str], year: int, area: str, out: str) -> int:
    """(c): every notebook's code, in order, as plain Python in this one process."""
    os.environ["MPLBACKEND"] = "Agg"
    Path(out).mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        chunks: list[str] = []
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            source = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
            chunks.append(source)
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                chunks.append(f"year = {year!r}\narea = {area!r}\noutput_dir = {out!r}\n")
        namespace = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile("\n".join(chunks), path, "exec"), namespace)  # noqa: S102
    return 0


def run_sweep(args: argparse.Namespace, work: Path, n_notebooks: int) -> tuple[float, int, str]:
    out = work / "sweep"
    years = args.sweep_years or ["all"]
    cmd = [PY, "-m", "analysis", "report", "--year", *years, "--area", args.area,
           "--out", str(out), "--jobs", "2", "--no-progress", "--timings"]
    if args.notebooks:
        cmd += ["--notebooks", str(args.notebooks)]
    if args.no_data_check:
        cmd += ["--no-data-check"]
    seconds, proc = _timed(cmd, cwd=work)
    match = re.search(r"(\d+) notebook run\(s\)", proc.stderr)
    runs = int(match.group(1)) if match else n_notebooks
    return seconds, runs, proc.stderr


def _breakdown(stderr: str) -> str:
    lines = stderr.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("timings (s)"))
    except StopIteration:
        return ""
    return "\n".join(lines[start:start + 1 + 200]).split("\n1 report")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=None, help="folder of notebooks (default notebooks/)")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--area", default="London")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="--jobs for (a)")
    parser.add_argument("--repeat", type=int, default=1, help="paired repetitions of a, b, c")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--sweep-years", nargs="+", default=None, help="instead of --year all")
    parser.add_argument("--no-data-check", action="store_true", help="for fixture notebooks")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--floor-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_worker:
        return floor_worker(args.paths, args.year, args.area, args.floor_out)
    if args.notebooks is not None:
        args.notebooks = args.notebooks.resolve()  # the commands run in the work folder

    notebooks = notebooks_in(args.notebooks or ROOT / "notebooks")
    if not notebooks:
        raise SystemExit("no notebooks to benchmark")
    work = Path(tempfile.mkdtemp(prefix="lva-bench-"))
    print(f"{len(notebooks)} notebooks: {', '.join(p.stem for p in notebooks)}")
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; work folder {work}")
    a_times, b_times, c_times = [], [], []
    breakdown = ""
    try:
        for i in range(args.repeat):
            for sub in ("a", "b", "c"):
                shutil.rmtree(work / sub, ignore_errors=True)
            a, stderr = run_a(args, work)
            breakdown = _breakdown(stderr)
            b = run_b(args, work, notebooks)
            c = run_c(args, work, notebooks)
            a_times.append(a)
            b_times.append(b)
            c_times.append(c)
            print(f"repeat {i + 1}: (a) {a:7.1f} s   (b) {b:7.1f} s   (c) {c:7.1f} s")
        a, b, c = (statistics.median(t) for t in (a_times, b_times, c_times))
        print()
        print(f"(a) report --year {args.year} --jobs {args.jobs}     {a:7.1f} s")
        print(f"(b) papermill + nbconvert, sequential  {b:7.1f} s")
        print(f"(c) plain Python, one process          {c:7.1f} s")
        ok = lambda value, key: "ok" if value <= TARGETS[key] else "MISSED"  # noqa: E731
        print(f"a/b = {a / b:.2f}  (target <= {TARGETS['a/b']}: {ok(a / b, 'a/b')})")
        print(f"a/c = {a / c:.2f}  (target <= {TARGETS['a/c']}: {ok(a / c, 'a/c')})")
        if breakdown:
            print("\nwhere (a)'s time went, per notebook (from --timings):")
            print(breakdown)
        if not args.no_sweep:
            seconds, runs, stderr = run_sweep(args, work, len(notebooks))
            per = seconds / max(runs, 1)
            print(f"\nsweep ({' '.join(args.sweep_years or ['--year all'])}, --jobs 2): {runs} notebook runs "
                  f"in {seconds:.1f} s = {per:.2f} s per notebook run "
                  f"(target <= {TARGETS['sweep']}: {ok(per, 'sweep')})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
