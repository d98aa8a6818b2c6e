"""Tests for the report runner (analysis/report.py, analysis/forkserver.py).

They run the self-contained fixture notebooks in tests/fixtures/notebooks/ (regenerate their
source with tests/fixtures/make_fixtures.py and their outputs with
``python -m analysis notebooks --notebooks tests/fixtures/notebooks``), so they stay fast and do not
depend on the real data. Two environment knobs steer the fixtures: ``FIXTURE_FAIL=<stem>`` makes
that notebook raise in its middle cell, ``FIXTURE_SLEEP=<s>`` makes every notebook pause there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from analysis.runner import forkserver, index_view, normalise, preload, report
from analysis.core.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
FIXTURE_STEMS = ["01_fixture_trend", "02_fixture_claims"]
REAL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXTURE_")}
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240):
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=timeout,
    )


def fixture_report_args(out: Path, *years: str) -> list[str]:
    return ["report", "--notebooks", str(FIXTURES), "--no-data-check", "--jobs", "2",
            "--year", *(years or ("2025",)), "--out", str(out)]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.glob(".*") if ".tmp-" in p.name or ".old-" in p.name)


def processes_in(folder: Path) -> list[int]:
    """PIDs of processes whose working directory is inside ``folder`` (kernels run there)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(int(proc.name))
    return found


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def parse_html(path: Path) -> _Images:
    parser = _Images()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# ---------------------------------------------------------------------------------------------
# parameters and folders
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_NOTEBOOKS + sorted(FIXTURES.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_declare_the_contract_parameters_as_papermill_reads_them(path: Path):
    """papermill's own inspector finds all four parameters (no 'Unable to parse' line)."""
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    declared = {p.name: p for p in _infer_parameters(load_notebook_node(str(path)))}
    assert list(declared) == ["year", "area", "base_year", "output_dir"]
    assert declared["year"].inferred_type_name == "Optional[int]" and declared["area"].default == '"London"'


def test_output_folders():
    ps = report.ParamSet(2025, "Hackney", None, "Hackney/2025")
    assert report.output_folder(None, ps, several=False) == Path("reports/Hackney/2025")
    assert report.output_folder("out", ps, several=False) == Path("out")
    assert report.output_folder("out", ps, several=True) == Path("out/Hackney/2025")
    assert report.output_folder("r/{area}-{year}", ps, several=True) == Path("r/Hackney-2025")


def test_year_all_skips_years_the_data_cannot_support():
    skipped: list[str] = []
    sets = report.resolve_param_sets(["all"], ["hackney"], skipped=skipped)
    assert sets[0].area == "Hackney" and sets[0].year == sets[0].base_year + 1
    assert all(ps.folder == f"Hackney/{ps.year}" for ps in sets)
    with pytest.raises(ParameterError, match="no earlier year"):
        report.resolve_param_sets([str(sets[0].year - 1)], ["hackney"])


# ---------------------------------------------------------------------------------------------
# the index page, unit level: fake notebook results and a fake claims.csv, no notebook runs
# ---------------------------------------------------------------------------------------------

CLAIMS_HEADER = ["id", "claim", "claimed", "unit", "computed", "period_used", "verdict", "basis", "evidence"]
LONG_EVIDENCE = "Victims: 96 homicide victims in 2025 in the Met's open victim records, against 97 claimed. " * 3


@dataclass
class FakeResult:
    stem: str
    title: str
    findings: dict | None


def fake_findings(stem: str, headline: str, sentences: dict[str, str], n_figures: int = 2) -> dict:
    figures = [{"stem": f"{stem}__fig{i}", "title": f"Finding-title {i} of {stem}", "alt": f"Chart {i} of {stem}.",
                "png": f"figures/{stem}__fig{i}.png", "svg": None, "table": f"tables/{stem}__fig{i}.csv"}
               for i in range(n_figures)]
    return {"notebook": stem, "parameters": {}, "headline": headline, "sentences": sentences, "figures": figures}


def fake_results() -> list[FakeResult]:
    return [
        FakeResult("02_youth", "Youth violence", fake_findings("02_youth", "18 victims under 25.", {"a": "18 victims under 25.", "b": "Mostly male."})),
        FakeResult("01_trend", "The long decline", fake_findings(
            "01_trend", "London had 97 homicides in 2025. A change of this size is within what chance alone would produce.",
            {"record": "London had 97 homicides in 2025.", "chance": "A change of this size is within what chance alone would produce.",
             "rate": "That is 1.07 per 100,000 residents.", "rate_again": "That is 1.07 per 100,000 residents."})),
        FakeResult("03_claims_check", "Checking the claims", fake_findings("03_claims_check", "Of 3 claims: 2 supported; 1 not supported.", {}, 1)),
    ]


def write_claims(folder: Path, rows: list[list[object]], header: list[str] = CLAIMS_HEADER) -> None:
    import csv

    with open(folder / "claims.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


NEW_CLAIMS = [
    ["total", "London had 97 homicides in 2025.", 97.0, "victims", 96.0, "2025", "approximately supported", "open victim records", LONG_EVIDENCE],
    ["since", "The 2025 total was the lowest since 2014.", 2014.0, "year", 2014.0, "2003–2025", "supported", "open victim records", "95 in 2014."],
    ["rate", "The rate was 1.07 per 100,000.", 1.07, "per 100,000 residents", 1.067, "2025", "supported", "ONS population estimates", "..."],
    ["arrests", "1,000 extra arrests a month.", 1000.0, "arrests a month", "", "2025", "cannot be checked with available data", "no data", "None."],
]


def render_index(folder: Path, results: list | None = None, parameters: dict | None = None) -> str:
    from analysis.runner.index import write_index

    parameters = parameters or {"year": 2025, "area": "London", "base_year": 2024}
    return write_index(folder, parameters, "year=2025", results if results is not None else fake_results()).read_text(encoding="utf-8")


class _Page(HTMLParser):
    """The index's structure: contents entries, sections, claims table cells (text per cell)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.nav_items: list[str] = []
        self.sections: list[str] = []
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.section: str | None = None
        self.table_section: list[str | None] = []
        self.styles: list[str] = []
        self.texts: list[tuple[str, str]] = []  # (class of the enclosing element, text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append((tag, a))
        if tag == "li" and any(t == "nav" for t, _ in self.stack):
            self.nav_items.append("")
        if tag == "section":
            self.section = a.get("id")
            self.sections.append(a.get("id") or "")
        if tag == "table" and "claims-table" in (a.get("class") or ""):
            self.table_section.append(self.section)
        if tag == "tr" and self.table_section:
            self.rows.append([])
        if tag in ("td", "th") and self.table_section:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.table_section:
            text = " ".join("".join(self.cell).split())
            if tag == "th":
                self.header.append(text)
            else:
                self.rows[-1].append(text)
            self.cell = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.stack and self.stack[-1][0] == "style":
            self.styles.append(data)
        if self.nav_items and any(t == "nav" for t, _ in self.stack) and any(t == "li" for t, _ in self.stack):
            self.nav_items[-1] += data
        if data.strip() and self.stack:
            self.texts.append((self.stack[-1][1].get("class") or "", " ".join(data.split())))


def parse_index(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_index_has_one_entry_per_notebook_and_the_claims_in_their_notebook(tmp_path: Path):
    write_claims(tmp_path, NEW_CLAIMS)
    page = parse_index(render_index(tmp_path))
    assert page.nav_items == ["The long decline", "Youth violence", "Checking the claims"]  # notebook order, once each
    assert page.sections == ["01_trend", "02_youth", "03_claims_check"]
    assert page.table_section == ["03_claims_check"]  # one claims table, in the claims notebook's section


def test_index_shows_the_headline_first_then_its_qualification_without_repeats(tmp_path: Path):
    text = render_index(tmp_path)
    page = parse_index(text)
    shown = [t for cls, t in page.texts]
    assert ("lead", "London had 97 homicides in 2025.") in page.texts
    assert ("qualification", "A change of this size is within what chance alone would produce.") in page.texts
    lead = shown.index("London had 97 homicides in 2025.")
    assert shown.index("A change of this size is within what chance alone would produce.") == lead + 1
    assert shown.count("London had 97 homicides in 2025.") == 1  # the sentence that is the headline is not listed again
    assert shown.count("That is 1.07 per 100,000 residents.") == 1
    assert shown.index("That is 1.07 per 100,000 residents.") > lead
    assert "More findings (1)" in shown and shown.count("18 victims under 25.") == 1
    assert text.index('class="lead"') < text.index('<details class="more')  # other sentences are folded away


def test_claims_table_has_four_columns_with_the_evidence_in_a_short_phrase(tmp_path: Path):
    write_claims(tmp_path, NEW_CLAIMS)
    text = render_index(tmp_path)
    page = parse_index(text)
    assert page.header == ["Claim", "Figure", "Verdict", "Evidence"]
    assert page.rows[1:] == [
        ["London had 97 homicides in 2025.", "96 vs 97 claimed", "approximately supported", "on open victim records"],
        ["The 2025 total was the lowest since 2014.", "2014 vs 2014 claimed", "supported", "on open victim records"],
        ["The rate was 1.07 per 100,000.", "1.067 vs 1.07 claimed", "supported", "on ONS population estimates"],
        ["1,000 extra arrests a month.", "1,000 claimed; none computed", "cannot be checked with available data", "no data to check it against"],
    ]
    assert LONG_EVIDENCE.split(".")[0] not in text  # the full evidence stays on the claims page
    assert 'href="03_claims_check.html"' in text and 'href="claims.csv"' in text
    tally = re.findall(r'<li><span class="tone (\w+)" aria-hidden="true"></span><b>(\d+)</b> ([^<]+)</li>', text)
    assert tally == [("good", "2", "supported"), ("fair", "1", "approximately supported"),
                     ("none", "1", "cannot be checked with available data")]  # the vocabulary's order


@pytest.mark.parametrize("value, unit, expected", [
    (2014.0, "year", "2014"), ("1997.0", "year (start of records)", "1997"), (97.0, "victims", "97"),
    (550338.0, "residents", "550,338"), (1.067, "per 100,000 residents", "1.067"), (2.38, "per 100,000", "2.38"),
    (1.0666666, "per 100,000", "1.067"), (0.012345, "rate", "0.0123"), (-11.0, "percent", "\u221211%"),
    (-1712.0, "officers lost", "\u22121,712"), ("", "victims", ""), ("nan", "victims", ""),
])
def test_claim_figures_print_as_a_reader_writes_them(value, unit, expected):
    from analysis.runner.index_view import format_value

    assert format_value(value, unit) == expected


def test_claims_table_degrades_gracefully_with_older_or_fewer_columns(tmp_path: Path):
    old = ["id", "claim", "claimed", "unit", "computed", "series_used", "period_used", "verdict", "basis"]
    write_claims(tmp_path, [["t", "London had 97 homicides.", 97.0, "victims", 97.0, "homicide victims", "2025",
                             "supported", LONG_EVIDENCE]], header=old)
    page = parse_index(render_index(tmp_path))
    assert page.rows[1:] == [["London had 97 homicides.", "97 vs 97 claimed", "supported", "–"]]  # a paragraph is not a basis
    write_claims(tmp_path, [["Count fell", "true"]], header=["claim", "verdict"])  # the fixture notebooks' file
    page = parse_index(render_index(tmp_path))
    assert page.rows[1:] == [["Count fell", "–", "true", "–"]]
    (tmp_path / "claims.csv").unlink()
    text = render_index(tmp_path)
    assert 'class="claims-table"' not in text and 'href="claims.csv"' not in text


def test_index_escapes_text_from_data(tmp_path: Path):
    results = fake_results()
    results[0].findings["headline"] = "<script>alert('headline')</script> rose."
    results[0].findings["sentences"]["x"] = "<b>bold</b> & more"
    results[1].findings["figures"][0]["title"] = '<img src=x onerror="alert(1)">'
    results[1].title = "<script>alert('title')</script>"
    write_claims(tmp_path, [["x", "<script>alert('claim')</script>", 1, "victims", 1, "2025",
                             "<script>alert('verdict')</script>", "<i>basis</i>", "e"]])
    text = render_index(tmp_path, results)
    assert "<script" not in text and "<b>bold" not in text and "<i>basis" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&#39;headline&#39;)&lt;/script&gt;" in text
    for what in ("claim", "title"):
        assert f"&lt;script&gt;alert(&#39;{what}&#39;)&lt;/script&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in text and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text
    assert 'class="tone neutral"' in text  # an unknown verdict gets a fixed class, never its own text


def _css_width_problems(css: str) -> list[str]:
    """Declarations that fix an element wider than 400px without a max-width beside them: ``width``
    or ``min-width`` in px, or a grid track that cannot shrink (``minmax(480px, ...)``)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*\{", "", css)  # the conditions are not widths; keep the rules inside
    problems = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        fixed = [int(float(v)) for v in re.findall(r"(?<![-\w])(?:min-)?width\s*:\s*(\d+(?:\.\d+)?)px", body)]
        fixed += [int(v) for v in re.findall(r"(?<!min\()minmax\(\s*(\d+)px", body)]
        if any(v > 400 for v in fixed) and not re.search(r"(?<![-\w])max-width\s*:", body):
            problems.append(f"{selector.strip()} {{{body.strip()}}}")
    return problems


def test_width_check_catches_fixed_widths():
    assert _css_width_problems("a { width: 900px } b { width: 900px; max-width: 100% } c { max-width: 900px }") == ["a {width: 900px}"]
    assert _css_width_problems(".g { grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)) }")
    assert not _css_width_problems(".g { grid-template-columns: repeat(auto-fill, minmax(min(100%, 480px), 1fr)) }")
    assert not _css_width_problems("@media (min-width: 700px) { a { width: 50% } }")


def test_index_and_pages_fit_a_phone(tmp_path: Path):
    write_claims(tmp_path, NEW_CLAIMS)
    text = render_index(tmp_path)
    assert re.search(r'<meta name="viewport" content="width=device-width, initial-scale=1">', text)
    css = "\n".join(parse_index(text).styles)
    assert "grid-template-columns" in css and "@media" in css
    assert _css_width_problems(css) == []
    assert not re.search(r'style="[^"]*width\s*:\s*\d{3,}px', text)
    notebook_template = (ROOT / "analysis" / "runner" / "templates" / "report_notebook.html.j2").read_text(encoding="utf-8")
    page_css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", notebook_template, flags=re.S))
    for rule in ("table.data-table", "td:not(:first-child)", "overflow-x: auto", "details > summary", "nth-child(even)"):
        assert rule in page_css, rule
    assert _css_width_problems(page_css) == []


# ---------------------------------------------------------------------------------------------
# notebook handling: normalisation
# ---------------------------------------------------------------------------------------------


def test_normalize_notebook_makes_counts_sequential_and_drops_volatile_metadata():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("a", execution_count=7, metadata={"execution": {"iopub.execute_input": "2025-01-01T00:00:00Z"}, "tags": ["x"]},
                                  outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=7)]),
        nbformat.v4.new_code_cell("", execution_count=None),
        nbformat.v4.new_code_cell("b", execution_count=9, metadata={"papermill": {"duration": 1.0}}),
    ])
    for cell in nb.cells:
        del cell["id"]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    normalise.normalize_notebook(nb)
    assert [c.execution_count for c in nb.cells] == [1, None, 2]
    assert nb.cells[0].outputs[0].execution_count == 1
    assert nb.cells[0].metadata == {"tags": ["x"]} and nb.cells[2].metadata == {}
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "cell-02"]
    assert "version" not in nb.metadata.language_info
    assert nb.metadata.kernelspec == normalise.KERNELSPEC


def test_normalize_notebook_merges_a_print_split_across_stream_messages():
    split = [nbformat.v4.new_output("stream", name="stdout", text="London, 2021: 87"),
             nbformat.v4.new_output("stream", name="stdout", text="\n"),
             nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
             nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
             nbformat.v4.new_output("stream", name="stdout", text="after\n")]
    whole = [nbformat.v4.new_output("stream", name="stdout", text="London, 2021: 87\n"),
             *split[2:]]
    a = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(x)", execution_count=1, outputs=split)])
    b = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(x)", execution_count=1, outputs=whole)])
    for nb in (a, b):
        nb.cells[0]["id"] = "c"
        normalise.normalize_notebook(nb)
    assert normalise.notebook_text(a) == normalise.notebook_text(b)
    assert [o.output_type for o in a.cells[0].outputs] == ["stream", "stream", "display_data", "stream"]


# ---------------------------------------------------------------------------------------------
# the report, end to end on the fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``report --year 2020 2025`` on the fixture notebooks, run once for the module."""
    base = tmp_path_factory.mktemp("report")
    out = base / "reports"
    proc = run_cli(*fixture_report_args(out, "2020", "2025"), cwd=base)
    assert proc.returncode == 0, proc.stderr
    return base, out, proc


@pytest.mark.slow
def test_report_writes_every_output_per_parameter_set(built):
    base, out, proc = built
    for year in ("2020", "2025"):
        folder = out / "London" / year
        names = {p.name for p in folder.iterdir()}
        for stem in FIXTURE_STEMS:
            assert {f"{stem}.ipynb", f"{stem}.html", f"{stem}.code.html"} <= names
            findings = json.loads((folder / "findings" / f"{stem}.json").read_text())
            for fig in findings["figures"]:
                for key in ("png", "svg", "table"):
                    assert (folder / fig[key]).is_file()
        assert {"index.html", "run.json", "claims.csv", "assets"} <= names
        assert str(Path("London") / year / "index.html") in proc.stdout
    assert leftovers(out / "London") == []


@pytest.mark.slow
def test_progress_is_reported_on_stderr(built):
    _, _, proc = built
    assert "notebooks" in proc.stderr and "reports" in proc.stderr  # the two tqdm bars
    assert "4/4" in proc.stderr and "2/2" in proc.stderr
    # a run that succeeded prints no kernel ERROR lines (jupyter_client's interrupt before shutdown)
    assert "KeyboardInterrupt" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-2000:]


def test_a_clean_shutdown_does_not_interrupt_the_kernel(monkeypatch):
    """jupyter_client interrupts every kernel before asking it to shut down; an idle kernel then
    logs "ERROR | KeyboardInterrupt caught in kernel" (10 times in 30 notebook runs of
    ``report --year 2014 … 2019`` before this guard, none after). Interrupts outside a shutdown
    still go through."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from analysis.runner.kernels import ForkKernelManager, SpawnKernelManager

    calls = []

    async def record(self):
        calls.append(self.shutting_down)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", record)
    for cls in (SpawnKernelManager, ForkKernelManager):
        manager = cls()
        manager.shutting_down = True
        asyncio.run(manager._async_interrupt_kernel())
        manager.shutting_down = False
        asyncio.run(manager._async_interrupt_kernel())
    assert calls == [False, False]


def test_kernel_managers_hand_out_the_ready_when_ready_client(monkeypatch):
    """The runner's managers give nbclient a ReadyClient (no fixed sleeps before the first cell):
    naming it in ``client_class`` alone left AsyncKernelManager's own ``client_factory`` default,
    the stock client, in use (its wait_for_ready cost ~0.2 s a notebook run)."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from analysis.runner.kernels import ForkKernelManager, ReadyClient, SpawnKernelManager

    waits = []

    async def record(self, waittime=None, pollinterval=0.1, restart=False):
        waits.append(pollinterval)

    monkeypatch.setattr(AsyncKernelManager, "_async_finish_shutdown", record)
    for cls in (SpawnKernelManager, ForkKernelManager):
        manager = cls()
        assert isinstance(manager.client(), ReadyClient)
        asyncio.run(manager._async_finish_shutdown())
    assert waits == [0.01, 0.01]  # the kernel's exit is checked every 10 ms, not every 100 ms


@pytest.mark.slow
def test_narrative_page_hides_code_and_full_page_shows_it(built):
    _, out, _ = built
    folder = out / "London" / "2025"
    narrative = (folder / "01_fixture_trend.html").read_text()
    full = (folder / "01_fixture_trend.code.html").read_text()
    editor = 'class="jp-CodeMirrorEditor'
    assert editor not in narrative and "linear_regression" not in narrative
    assert editor in full and "linear_regression" in full
    for page in (narrative, full):
        assert 'href="index.html"' in page and "assets/notebook.css" in page
        assert "cdnjs" not in page and "require.js" not in page  # works offline


@pytest.mark.slow
def test_every_chart_carries_its_finding_as_alt_text(built):
    _, out, _ = built
    folder = out / "London" / "2025"
    for stem in FIXTURE_STEMS:
        findings = json.loads((folder / "findings" / f"{stem}.json").read_text())
        expected = [fig["alt"] for fig in findings["figures"]]
        for page in (f"{stem}.html", f"{stem}.code.html"):
            images = parse_html(folder / page).images
            assert [img.get("alt") for img in images] == expected
            assert [img["src"] for img in images] == [fig["png"] for fig in findings["figures"]]  # the saved files


@pytest.mark.slow
def test_executed_notebook_names_no_temporary_path(built):
    base, out, _ = built
    path = out / "London" / "2020" / "01_fixture_trend.ipynb"
    text = path.read_text()
    assert ".tmp-" not in text and str(base) not in text and "/tmp" not in text
    nb = nbformat.reads(text, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'output_dir = "."' in injected[0].source and "year = 2020" in injected[0].source
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert all("execution" not in c.metadata for c in nb.cells)
    assert nb.metadata.papermill == {"parameters": {"year": 2020, "area": "London", "base_year": None, "output_dir": "."}}


@pytest.mark.slow
def test_index_links_headlines_and_thumbnails(built):
    _, out, _ = built
    folder = out / "London" / "2025"
    html = (folder / "index.html").read_text()
    parsed = parse_html(folder / "index.html")
    for stem in FIXTURE_STEMS:
        findings = json.loads((folder / "findings" / f"{stem}.json").read_text())
        for part in filter(None, index_view.split_headline(findings["headline"])):
            assert escape(part) in html
        assert f"{stem}.html" in parsed.links and f"{stem}.code.html" in parsed.links
    srcs = [img["src"] for img in parsed.images]
    assert srcs and all((folder / src).is_file() for src in srcs)
    assert all(img.get("alt") for img in parsed.images)
    local = [h for h in parsed.links if not h.startswith(("#", "http")) and not h.endswith("/")]
    assert all((folder / h.split("#")[0]).exists() for h in local), local
    for link in (h for h in local if "#" in h):  # a card links to its chart in the notebook page
        page, anchor = link.split("#")
        assert f'id="{anchor}"' in (folder / page).read_text(), link
    assert "claims.csv" in parsed.links


@pytest.mark.slow
def test_run_json_records_parameters_sources_and_versions_without_timestamps(built):
    _, out, _ = built
    text = (out / "London" / "2020" / "run.json").read_text()
    record = json.loads(text)
    assert record["parameters"] == {"year": 2020, "area": "London", "base_year": None}
    assert set(record["notebooks"]) == set(FIXTURE_STEMS)
    assert record["packages"]["python"] and "nbclient" in record["packages"]
    assert isinstance(record["sources"], dict)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d", text)


@pytest.mark.slow
def test_rerunning_gives_a_byte_identical_report(built, tmp_path: Path):
    _, out, _ = built
    again = tmp_path / "again"
    sets = report.resolve_param_sets(["2020"], ["London"], data_check=False)
    outcome = report.run_reports(sets, notebooks=report.find_notebooks(FIXTURES), out=str(again),
                                 jobs=2, progress=False)
    assert outcome.failures == [] and outcome.published == [again.resolve()]
    first, second = snapshot(out / "London" / "2020"), snapshot(again)
    records = [json.loads(s.pop("run.json")) for s in (first, second)]
    assert second == first
    for record in records:  # the repository may move on between the two runs (others commit)
        for key in ("commit", "series", "sources"):
            record.pop(key)
    assert records[0] == records[1]


@pytest.mark.slow
def test_a_failing_or_killed_run_leaves_the_previous_report_untouched(built, tmp_path: Path):
    _, out, _ = built
    reports = tmp_path / "reports"
    previous = reports / "London" / "2025"
    shutil.copytree(out / "London" / "2025", previous)
    before = snapshot(previous)
    args = fixture_report_args(reports, "2025")
    args[args.index("--out") + 1] = str(previous)

    # 1. killed outright (SIGKILL) while the kernels are busy
    proc = subprocess.Popen([sys.executable, "-m", "analysis", *args], cwd=tmp_path,
                            env=_env(FIXTURE_SLEEP="60"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not processes_in(reports) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_in(reports), "no kernel started"
        time.sleep(0.3)
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert snapshot(previous) == before
    assert leftovers(reports / "London"), "a killed run cannot clean up: its staging folder stays"
    deadline = time.monotonic() + 15  # workers, zygote and kernels die with their parent
    while processes_in(reports) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(reports) == []

    # 2. interrupted (SIGTERM): cleans up after itself
    proc = subprocess.Popen([sys.executable, "-m", "analysis", *args], cwd=tmp_path,
                            env=_env(FIXTURE_SLEEP="60"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not processes_in(reports) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in err
    assert snapshot(previous) == before
    assert leftovers(reports / "London") == []  # the SIGKILLed run's leftovers went too
    assert processes_in(reports) == []

    # 3. a notebook fails midway: exit 1, the message says where, nothing replaced
    proc = run_cli(*args, cwd=tmp_path, env=_env(FIXTURE_FAIL="02_fixture_claims"))
    assert proc.returncode == 1
    assert "02_fixture_claims.ipynb failed in cell 3 ('# Test knobs" in proc.stderr
    assert "year=2025, area='London', base_year=None" in proc.stderr
    assert "RuntimeError: fixture failure requested for 02_fixture_claims" in proc.stderr
    assert snapshot(previous) == before
    assert leftovers(reports / "London") == []
    kept = reports / "London" / ".2025.failed" / "02_fixture_claims.ipynb"
    assert kept.is_file() and str(kept.name) in proc.stderr


def test_bad_parameters_exit_with_code_2_before_running_anything(tmp_path: Path, capsys):
    from analysis.runner.cli import main

    out = tmp_path / "out"
    for bad in (["-p", "colour", "red"], ["--year", "20x5"]):
        with pytest.raises(SystemExit) as exc:
            main([*fixture_report_args(out), *bad])
        assert exc.value.code == 2
    assert "expected a year" in capsys.readouterr().err
    assert not out.exists()


def test_parameters_are_validated_against_the_data(tmp_path: Path, capsys):
    from analysis.runner.cli import main

    assert main(["report", "--year", "2025", "--area", "Atlantis", "--out", str(tmp_path / "x")]) == 2
    assert "unknown area 'Atlantis'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------------------------
# `python -m analysis notebooks` and the forked kernels
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_notebooks_command_is_deterministic(tmp_path: Path):
    folder = tmp_path / "nbs"
    shutil.copytree(FIXTURES, folder)
    committed = snapshot(folder)
    proc = run_cli("notebooks", "--notebooks", str(folder), "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "unchanged" in proc.stderr and "updated" not in proc.stderr
    assert snapshot(folder) == committed  # the fixtures' stored outputs came from this command
    nb = nbformat.read(folder / "01_fixture_trend.ipynb", as_version=4)
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert nb.metadata.language_info == normalise.LANGUAGE_INFO


INLINE_PLOT = """import matplotlib.pyplot as plt
import sys
plt.plot([1, 3, 2])
print("stdout", sys.argv[1:] == [] or sys.argv[1] == "-f")"""


@pytest.mark.skipif(not forkserver.supported(), reason="forked kernels need Linux")
@pytest.mark.slow
def test_forked_kernels_give_the_same_outputs_as_normal_kernels(tmp_path: Path):
    """The zygote's kernels must be indistinguishable from ipykernel_launcher's (pyplot inline too)."""
    sources = [FIXTURES / "01_fixture_trend.ipynb"]
    extra = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(INLINE_PLOT),
        nbformat.v4.new_code_cell("import random, numpy\nlen({random.random() for _ in range(3)})"),
    ])
    texts = {}
    for engine in ("fork", "spawn"):
        folder = tmp_path / engine
        folder.mkdir()
        for src in sources:
            shutil.copy(src, folder / src.name)
        nbformat.write(extra, folder / "09_inline.ipynb")
        outcome = report.rerun_notebooks(sorted(folder.glob("*.ipynb")), jobs=2, engine=engine, progress=False)
        assert outcome.failures == []
        texts[engine] = snapshot(folder)
    assert texts["fork"] == texts["spawn"]
    inline = nbformat.reads(texts["fork"]["09_inline.ipynb"].decode(), as_version=4)
    assert any("image/png" in o.get("data", {}) for o in inline.cells[1].outputs)


@pytest.mark.skipif(not forkserver.supported(), reason="forked kernels need Linux")
def test_forked_kernels_do_not_write_to_the_zygote_pipe_and_are_signalled_only_through_it(tmp_path: Path):
    """A kernel's stdout must not be the zygote's stdout pipe: nobody reads that pipe after start-up,
    so a few hundred kernels' connection banners would fill it and block every later kernel
    (seen in a full sweep: 'forked kernel did not answer within 60 s' after 160 runs). Its exit is
    reported by the zygote, and a signal after that is never sent (the pid may be reused)."""
    from jupyter_client.connect import write_connection_file

    zygote = forkserver.Zygote(["IPython"])
    try:
        zygote.wait_ready()
        connection, _ = write_connection_file(str(tmp_path / "kernel.json"), ip=str(tmp_path / "k"), transport="ipc")
        kernel = forkserver.fork_kernel(zygote.socket_path, connection, str(tmp_path), dict(os.environ), [])
        deadline = time.monotonic() + 10  # the child redirects its stdout first thing after the fork
        while os.readlink(f"/proc/{kernel.pid}/fd/1") != os.devnull and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.readlink(f"/proc/{kernel.pid}/fd/1") == os.devnull
        assert kernel.poll() is None
        kernel.kill()
        assert kernel.wait(10) == -signal.SIGKILL
        kernel.send_signal(signal.SIGTERM)  # gone and reaped: nothing is sent, nothing fails
        assert kernel.poll() == -signal.SIGKILL
    finally:
        zygote.close()


def test_zygote_preloads_what_the_package_imports_inside_functions_and_warms_the_data_caches():
    """The trend fit imports statsmodels inside a function (~0.3 s): the zygote must preload it,
    or every kernel pays it again. The data warm-up is named, and the runner never preloads its
    own modules into kernels."""
    names = preload.kernel_preload(report.find_notebooks())
    assert "statsmodels.discrete.discrete_model" in names  # imported inside analysis.stories.trend
    assert "analysis.stories.claim_checks" in names  # imported inside analysis.stories.claims
    assert preload.DATA_WARMUP in names and preload.CHART_WARMUP in names
    assert not any(n.startswith("analysis.runner") for n in names)


def test_preload_runs_warmups_after_every_import_and_survives_a_failing_one(tmp_path: Path, monkeypatch):
    package = tmp_path / "warmpkg"
    package.mkdir()
    (package / "__init__.py").write_text("calls = []\n")
    (package / "a.py").write_text("import warmpkg\ndef warm():\n    import warmpkg.b\n    warmpkg.calls.append('a')\n")
    (package / "b.py").write_text("import warmpkg\nwarmpkg.calls.append('b imported')\ndef broken():\n    raise OSError('unreadable')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    forkserver._preload(["warmpkg.a:warm", "warmpkg.b:broken", "warmpkg.a", "warmpkg.b", "warmpkg.nothing"])
    import warmpkg

    assert warmpkg.calls == ["b imported", "a"]  # imports first, then the warm-ups in order; the failure is left to the notebook
    for name in list(sys.modules):
        if name.startswith("warmpkg"):
            del sys.modules[name]


def test_listing_the_preload_imports_nothing_heavy_into_the_runner():
    """The list is read from the source files: finding a module's file through importlib imports
    its parent packages, and that put pandas and matplotlib on the critical path before the zygote
    started (zygote ready at 7.4 s instead of 4 s)."""
    code = ("import sys; from analysis.runner import preload, report; preload.kernel_preload(report.find_notebooks()); "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'analysis.stories.trend') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_notebooks_start_longest_first_by_committed_size(tmp_path: Path):
    for name, size in (("01_a.ipynb", 10), ("02_b.ipynb", 300), ("03_c.ipynb", 300), ("04_d.ipynb", 20)):
        (tmp_path / name).write_bytes(b"x" * size)
    order = [p.name for p in report.longest_first(sorted(tmp_path.glob("*.ipynb")))]
    assert order == ["02_b.ipynb", "03_c.ipynb", "04_d.ipynb", "01_a.ipynb"]
    real = report.longest_first(report.find_notebooks())
    assert real[0].name.startswith("01_") and real[-1].name.startswith("04_")  # the claims check is the shortest run
