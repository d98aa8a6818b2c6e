"""Never destroy, never silently corrupt: one test per case, each named after it.

* the runner's output folder: it only ever replaces a folder it wrote (a report, marked by its
  run.json), never a user's folder, the home folder, the repository, ``/`` or the current folder;
* implausible data: a stray or future victims row, swapped population headers, a truncated
  population file, an implausible population jump, an unreadable new release, a misspelt borough
  in an ONS file: each refused in one line naming the file (and row);
* the series set is replaced in one step, or not at all;
* text from data files (a claim, a source title) never reaches a page as live markup;
* ``data fetch`` stays inside ``--raw-dir``, takes https (loopback http for tests) only, has a
  whole-download deadline and a size cap, leaves no partial file, writes normal permissions;
* leftovers of killed runs are recognised without ``/proc``;
* every case above fails in one line, and long user input is cut.
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import reuse_parses
import yaml

import analysis.data.build as build_module
from analysis.present import claims_charts
from analysis.stories import claims
from analysis.core import folders
from analysis.runner import export, index, normalise, report
from analysis.data import series
from analysis.runner.cli import main
from analysis.core.errors import DataError, OutputError
from analysis.data.fetch import fetch_sources
from analysis.core.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "notebooks"
VICTIMS = "mps_homicide_victims_2003-01_to_2024-03.csv"
VICTIMS_REL = f"homicide/{VICTIMS}"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line(err: str, *expected: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    for part in expected:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    return lines[0]


def report_main(capsys: pytest.CaptureFixture[str], out: str, *extra: str) -> tuple[int, str]:
    """``python -m analysis report`` on the fixture notebooks (in this process), writing to ``out``."""
    code = main(["report", "--notebooks", str(FIXTURES), "--no-data-check", "--engine", "spawn", "--no-progress",
                 "--year", "2025", "--out", out, *extra])
    return code, capsys.readouterr().err


# =============================================================================================
# 1. The runner only ever replaces a folder it wrote
# =============================================================================================


def test_out_folder_holding_user_files_is_refused_and_left_untouched(tmp_path: Path, capsys) -> None:
    target = tmp_path / "D"
    (target / "Documents").mkdir(parents=True)
    (target / "Documents" / "letter.txt").write_text("dear")
    (target / "keep.txt").write_text("x")
    before = snapshot(target)
    code, err = report_main(capsys, str(target))
    assert code == 2
    one_line(err, "refusing to replace", "not a report", "run.json")
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D"]  # no staging folder left beside it


def test_out_dot_in_a_clone_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    (clone / "README.md").write_text("project")
    monkeypatch.chdir(clone)
    before = snapshot(clone)
    for out in (".", ""):
        code, err = report_main(capsys, out)
        assert code == 2
        one_line(err)
        assert snapshot(clone) == before


def test_out_home_root_repository_and_ancestors_of_the_current_folder_are_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    home = tmp_path / "home"
    work = home / "projects" / "here"
    work.mkdir(parents=True)
    (home / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for out, why in (("~", "home folder"), (str(home), "home folder"), ("/", "root of the file system"),
                     (str(REPO_ROOT), "project's own folder"), (str(home / "projects"), "contains it"), ("..", "contains it")):
        code, err = report_main(capsys, out)
        assert code == 2, out
        one_line(err, why)
    assert (home / "notes.txt").read_text() == "mine"


def test_an_empty_folder_or_a_previous_report_may_be_replaced(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report.check_report_folder(empty) == empty
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "run.json").write_text('{"generator": "%s"}' % index.GENERATOR)
    (previous / "index.html").write_text("old")
    assert report.check_report_folder(previous) == previous
    (previous / "run.json").write_text('{"something": "else"}')  # a run.json that is not ours
    with pytest.raises(OutputError, match="not a report"):
        report.check_report_folder(previous)


def _staged(parent: Path, final: Path, text: str) -> tuple[Path, folders.RunLock]:
    staging, lock = folders.staging_for(final)
    (staging / "run.json").write_text('{"generator": "%s"}' % index.GENERATOR)
    (staging / "index.html").write_text(text)
    return staging, lock


def test_first_time_concurrent_runs_to_one_folder_one_wins_the_other_says_so(tmp_path: Path) -> None:
    final = tmp_path / "London" / "2025"
    first, lock_a = _staged(tmp_path, final, "first")
    second, lock_b = _staged(tmp_path, final, "second")
    folders.publish(first, final, is_ours=report.is_report, what="report", was_absent=True)
    with pytest.raises(OutputError, match="another run wrote"):
        folders.publish(second, final, is_ours=report.is_report, what="report", was_absent=True)
    assert (final / "index.html").read_text() == "first"
    folders.discard_staging(second, lock_b)
    lock_a.release()
    assert sorted(p.name for p in final.parent.iterdir()) == ["2025"]


def test_publish_never_deletes_a_folder_that_became_foreign_during_the_run(tmp_path: Path) -> None:
    final = tmp_path / "report"
    staging, lock = _staged(tmp_path, final, "new")
    final.mkdir()
    (final / "thesis.docx").write_text("years of work")  # appeared after the check
    with pytest.raises(OutputError, match="no longer holds a report"):
        folders.publish(staging, final, is_ours=report.is_report, what="report")
    assert (final / "thesis.docx").read_text() == "years of work"
    folders.discard_staging(staging, lock)


def test_a_failed_runs_notebooks_are_never_written_into_a_foreign_folder(tmp_path: Path) -> None:
    failed = tmp_path / ".2025.failed"
    failed.mkdir()
    (failed / "mine.txt").write_text("x")
    report.reset_failed_dir(failed)
    assert (failed / "mine.txt").read_text() == "x"  # not marked by the runner: left alone


def test_bad_out_placeholder_is_one_line(tmp_path: Path, capsys) -> None:
    code, err = report_main(capsys, str(tmp_path / "{foo}"))
    assert code == 2
    one_line(err, "--out", "placeholders are {area}, {year} and {base_year}")


def test_unwritable_out_parent_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    code, err = report_main(capsys, str(tmp_path / "a-file" / "report"))
    assert code in (1, 2)
    one_line(err, "error:")
    code, err = report_main(capsys, "/proc/lva-no-such/report")  # a read-only file system
    assert code in (1, 2)
    one_line(err, "error:")


def test_a_long_area_name_is_cut_in_the_error(capsys) -> None:
    code = main(["report", "--year", "2025", "--area", "x" * 100_000, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    line = one_line(err, "unknown area", "100,000 characters")
    assert line.count("x") < 100  # the input is cut; the list of known areas follows


# =============================================================================================
# 2. Implausible data are refused by the build
# =============================================================================================


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def series_out(tmp_path: Path, reuse_unchanged_parses: None) -> tuple[Path, dict[str, bytes]]:
    """An output folder holding a series set from an earlier build (and, for the builds these
    tests refuse, each unchanged population, crime and ONS file parsed once: conftest)."""
    out = tmp_path / "series"
    out.mkdir()
    files = {"homicide_annual.csv": b"year,area_code,victims\n1999,SENTINEL,1\n", "build_log.json": b'{"rows": {}}\n'}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out, files


def build_main(raw: Path, out: Path, capsys, *command: str) -> tuple[int, str]:
    code = main(["data", *(command or ("build",)), "--raw-dir", str(raw), "--out-dir", str(out)])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def victims_rows(shared_raw_dir: Path) -> list[list[str]]:
    return _rows((shared_raw_dir / "homicide" / VICTIMS).read_text(encoding="utf-8"))


def _victims_with_row(rows: list[list[str]], year: str, month: str) -> bytes:
    header = rows[0]
    extra = list(rows[1])
    extra[header.index("Recorded Year")], extra[header.index("Recorded Month")] = year, month
    return _csv(rows + [extra])


def test_stray_victims_row_after_the_release_is_refused(victims_rows, raw_tree, series_out, capsys) -> None:
    raw = raw_tree({VICTIMS_REL: _victims_with_row(victims_rows, "2024", "December")})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, VICTIMS, f"row {len(victims_rows) + 1}", "no London victim recorded in April 2024", "stray row")
    assert snapshot(out) == files


def test_victims_row_dated_after_the_build_is_refused(victims_rows, raw_tree, series_out, capsys) -> None:
    raw = raw_tree({VICTIMS_REL: _victims_with_row(victims_rows, "2099", "January")})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, VICTIMS, f"row {len(victims_rows) + 1}", "January 2099", "after the build date")
    assert snapshot(out) == files


@pytest.fixture(scope="module")
def mye24_text(shared_raw_dir: Path) -> str:
    return (shared_raw_dir / "population" / "mye24tablesew.csv").read_text(encoding="utf-8-sig")


def test_swapped_population_headers_are_refused(mye24_text, raw_tree, series_out, capsys) -> None:
    rows = _rows(mye24_text)
    header = rows[0]
    a, b = header.index("All ages"), header.index("20")
    header[a], header[b] = header[b], header[a]
    raw = raw_tree({"population/mye24tablesew.csv": _csv(rows)})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, "mye24tablesew.csv", "row ", "ages 0-24 exceed all ages")
    assert snapshot(out) == files


def test_truncated_borough_population_file_is_refused(shared_raw_dir, raw_tree, series_out, capsys) -> None:
    data = (shared_raw_dir / "population" / "la_pop_estimates.csv").read_bytes()
    lines = data.split(b"\n")
    raw = raw_tree({"population/la_pop_estimates.csv": b"\n".join(lines[: len(lines) // 2]) + b"\n"})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, "la_pop_estimates.csv", "no mid-", "population estimate for", "truncated")
    assert snapshot(out) == files


def test_implausible_population_jump_is_refused(mye24_text, raw_tree, series_out, capsys) -> None:
    rows = _rows(mye24_text)
    at = rows[0].index("All ages")
    line = next(i for i, r in enumerate(rows) if r and r[1] == "Sutton")
    rows[line][at] = str(int(float(rows[line][at].replace(",", ""))) * 12 // 10)
    raw = raw_tree({"population/mye24tablesew.csv": _csv(rows)})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, "mye24tablesew.csv", f"row {line + 1}", "Sutton", "from mid-2023 to mid-2024", "5%")
    assert snapshot(out) == files


@pytest.mark.slow
def test_unreadable_new_victims_release_is_refused_by_build_and_check(raw_tree, series_out, capsys) -> None:
    raw = raw_tree({"homicide/Homicide Victims 2003 - Jun 2025.csv": "Count of Victims,Borough\n1,Hackney\n".encode("utf-16")})
    out, files = series_out
    for command in ("build", "check"):
        code, err = build_main(raw, out, capsys, command)
        assert code == 2, command
        one_line(err, "Homicide Victims 2003 - Jun 2025.csv", "not a UTF-8 CSV")
    assert snapshot(out) == files


def test_other_files_in_a_source_folder_are_recorded_as_ignored() -> None:
    log = build_module.json.loads((REPO_ROOT / "data" / "series" / "build_log.json").read_text())
    ignored = log["ignored_files"]
    assert "homicide/SOURCES.md" in ignored and "homicide/homicide_ppa.csv" in ignored
    assert "victims release" in ignored["homicide/homicide_ppa.csv"]


def test_misspelt_borough_in_an_ons_file_is_blamed_on_that_file(mye24_text, raw_tree, series_out, capsys) -> None:
    rows = _rows(mye24_text)
    line = next(i for i, r in enumerate(rows) if r and r[0] == "E09000012")
    rows[line][1] = "Hackny"
    raw = raw_tree({"population/mye24tablesew.csv": _csv(rows)})
    out, files = series_out
    code, err = build_main(raw, out, capsys)
    assert code == 2
    one_line(err, "mye24tablesew.csv", f"row {line + 1}", "'Name'", "'Hackny'", "E09000012")
    assert VICTIMS not in err
    assert snapshot(out) == files


# =============================================================================================
# 3. The series set is replaced in one step, or not at all
# =============================================================================================


@pytest.fixture(scope="module")
def built(shared_raw_dir: Path) -> build_module.BuildResult:
    with pytest.MonkeyPatch.context() as mp:
        reuse_parses(mp)  # what is tested here is the writing, not the parsing
        return build_module.build_series(shared_raw_dir)


@pytest.mark.slow
def test_a_build_failing_part_way_through_writing_leaves_the_series_set_byte_identical(built, tmp_path, monkeypatch) -> None:
    out = tmp_path / "series"
    build_module.write_series(built, out)
    before = snapshot(out)
    changed = build_module.BuildResult(frames={k: v.head(3) for k, v in built.frames.items()}, log=dict(built.log))
    calls = {"n": 0}
    real = Path.write_bytes

    def failing(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(28, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError, match="No space left"):
        build_module.write_series(changed, out)
    monkeypatch.undo()
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series"]  # no staging folder left


@pytest.mark.slow
def test_data_build_refuses_an_out_dir_holding_other_files(built, tmp_path) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "cv.pdf").write_text("mine")
    with pytest.raises(OutputError, match="refusing to replace"):
        build_module.write_series(built, documents)
    assert snapshot(documents) == {"cv.pdf": b"mine"}


# =============================================================================================
# 4. Text from data never reaches a page as live markup
# =============================================================================================

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)> *bold* [link](javascript:alert(1))'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _live(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag == "script" and not attrs.get("type", "").startswith(("text/x-", "application/json")):
            found.append("script")
        if tag == "img" and "onerror" in attrs:
            found.append("img onerror")
        if tag == "a" and str(attrs.get("href", "")).startswith("javascript"):
            found.append("javascript link")
    return found


def test_markup_in_a_claim_and_a_source_title_never_reaches_a_page_live(monkeypatch) -> None:
    published = series.published()
    published.loc[published["id"] == "homicide_2025_total", "source_title"] = MARKUP
    monkeypatch.setattr(series, "published", lambda: published)
    story = [c for c in claims.load_claims() if c["id"] in ("total_2025", "fall_2024_2025")]
    story[0] = {**story[0], "claim": MARKUP}
    results = claims.check_all(story)
    assert MARKUP in results["evidence"].iloc[0] and results["claim"].iloc[0] == MARKUP  # the data do carry it
    outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": claims_charts.describe(row)[0], "text/plain": ""})
               for row in results.itertuples()]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=outputs)])
    nb.metadata["language_info"] = dict(normalise.LANGUAGE_INFO)
    for form in ("narrative", "full"):
        html = export.export_html(nb, form, stem="04", title="claims", params_label="year=2025")
        assert _live(html) == [], form
        assert "alert(" in html  # shown as text, not dropped
        assert "<em>bold</em>" not in html and "<strong>bold</strong>" not in html


# =============================================================================================
# 5. data fetch
# =============================================================================================


def _manifest(tmp_path: Path, url: str, *, folder: str = "topic", name: str = "file.csv", sha: str = "0" * 64,
              size: int | None = None) -> Path:
    entry = {"name": name, "parser": "none", "sha256": sha, "download_url": url}
    if size is not None:
        entry["bytes"] = size
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump({"sources": [{"id": "test", "folder": folder, "files": [entry]}]}))
    return path


@pytest.mark.parametrize(("folder", "name"), [
    ("../outside", "file.csv"), ("topic", "../../file.csv"), ("/etc", "file.csv"), ("topic", "/tmp/file.csv"),
    ("topic\\..\\..", "file.csv"), ("topic", "file\x00.csv"), ("C:/x", "file.csv"), ("topic//x", "file.csv"),
])
def test_fetch_refuses_a_manifest_entry_that_leaves_the_raw_folder(tmp_path, folder, name) -> None:
    manifest = _manifest(tmp_path, "https://example.org/file.csv", folder=folder, name=name)
    with pytest.raises(DataError, match="source 'test'"):
        fetch_sources(tmp_path / "raw", manifest_path=manifest)
    assert not (tmp_path / "raw").exists() and not (tmp_path / "outside").exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.csv", "http://example.org/x.csv", "gopher://x"])
def test_fetch_refuses_addresses_other_than_https(tmp_path, url) -> None:
    manifest = _manifest(tmp_path, url)
    with pytest.raises(DataError, match="refusing"):
        fetch_sources(tmp_path / "raw", manifest_path=manifest)


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Serves /slow one byte every 50 ms for ever (each read well within a per-read timeout),
    and /big: 100 kB (with or without its length announced)."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        if self.path.startswith("/big"):
            if "announce" in self.path:
                self.send_header("Content-Length", str(100_000))
            self.end_headers()
            self.wfile.write(b"x" * 100_000)
            return
        self.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(100_000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)


@pytest.fixture(scope="module")
def trickle() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.part")) if folder.exists() else []


def test_fetch_deadline_is_for_the_whole_download(tmp_path, trickle) -> None:
    manifest = _manifest(tmp_path, f"{trickle}/slow")
    started = time.monotonic()
    with pytest.raises(DataError, match="did not finish within 1 s"):
        fetch_sources(tmp_path / "raw", manifest_path=manifest, timeout=1)
    assert time.monotonic() - started < 5
    assert _parts(tmp_path / "raw") == []


@pytest.mark.parametrize("path", ["/big", "/big-announce"])
def test_fetch_stops_a_download_larger_than_the_manifest_says(tmp_path, trickle, path) -> None:
    manifest = _manifest(tmp_path, f"{trickle}{path}", size=1000)
    with pytest.raises(DataError, match="1,000 bytes expected"):
        fetch_sources(tmp_path / "raw", manifest_path=manifest)
    assert _parts(tmp_path / "raw") == [] and not (tmp_path / "raw" / "topic" / "file.csv").exists()


def test_interrupted_fetch_leaves_no_partial_file(tmp_path, trickle) -> None:
    manifest = _manifest(tmp_path, f"{trickle}/slow")
    raw = tmp_path / "raw"
    script = ("import sys; from pathlib import Path; from analysis.data.fetch import fetch_sources; "
              f"fetch_sources(Path({str(raw)!r}), manifest_path=Path({str(manifest)!r}), timeout=60)")
    wrapper = f"from analysis.runner.cli import _interrupt; import signal; signal.signal(signal.SIGTERM, _interrupt)\n{script}"
    proc = subprocess.Popen([sys.executable, "-c", wrapper], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not _parts(raw) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _parts(raw), "the download never started"
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    assert _parts(raw) == []
    # a SIGKILLed run cannot clean up; the next fetch removes what it left
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    while not _parts(raw) and time.monotonic() < deadline + 30:
        time.sleep(0.05)
    proc.kill()
    proc.wait(20)
    assert _parts(raw)
    with pytest.raises(DataError):
        fetch_sources(raw, manifest_path=manifest, timeout=0.5)
    assert _parts(raw) == []


def test_fetched_files_get_normal_permissions(tmp_path, trickle) -> None:
    import hashlib

    sha = hashlib.sha256(b"x" * 100_000).hexdigest()
    manifest = _manifest(tmp_path, f"{trickle}/big-announce", sha=sha, size=100_000)
    [(path, status)] = fetch_sources(tmp_path / "raw", manifest_path=manifest)
    assert status == "downloaded"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_fetch_accepts_nested_folders_spaces_and_brackets(tmp_path, trickle) -> None:
    import hashlib

    sha = hashlib.sha256(b"x" * 100_000).hexdigest()
    manifest = _manifest(tmp_path, f"{trickle}/big", folder="crime/MPS (2024)", name="Borough Level [v2].csv", sha=sha)
    [(path, _)] = fetch_sources(tmp_path / "raw", manifest_path=manifest)
    assert path == (tmp_path / "raw" / "crime" / "MPS (2024)" / "Borough Level [v2].csv").resolve()


# =============================================================================================
# 6. Leftovers of killed runs are recognised without /proc
# =============================================================================================


def test_leftover_cleanup_spares_a_live_run_and_never_touches_unmarked_folders(tmp_path: Path) -> None:
    final = tmp_path / "2025"
    live = subprocess.Popen([sys.executable, "-c",
                             "import sys, time; from pathlib import Path; from analysis.core import folders; "
                             f"s, lock = folders.staging_for(Path({str(final)!r})); print(s, flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True)
    try:
        live_staging = Path(live.stdout.readline().strip())
        dead_staging, dead_lock = folders.staging_for(final)
        dead_lock.release()  # as if its run had been killed
        unmarked = tmp_path / f".2025.tmp-{2**22 + 7}-abcdef"  # looks like ours, is not
        unmarked.mkdir()
        (unmarked / "keep").write_text("x")
        removed = folders.clean_leftovers(final, is_ours=report.is_report)
        assert removed == [dead_staging]
        assert live_staging.is_dir() and (unmarked / "keep").is_file()
    finally:
        live.kill()
        live.wait()
    assert folders.clean_leftovers(final, is_ours=report.is_report) == [live_staging]
    assert (unmarked / "keep").is_file()
