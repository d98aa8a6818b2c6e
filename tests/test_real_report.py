"""The real notebooks through the report runner, for a sample of years and areas.

The sample (tests/conftest.py, REAL_REPORT_SAMPLE) covers the latest whole year, the partial
year the offence records reach, a borough's latest whole year and a borough with small counts; the full sweep of every year for
London and three boroughs is measured by benchmarks/bench_report.py (timings in its README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.runner import export
from analysis.stories import claims
from analysis.runner.report import find_notebooks

from conftest import REAL_REPORT_SAMPLE
from test_export import assert_same_document, stock_exporters

pytestmark = pytest.mark.slow  # builds reports or runs notebooks

ROOT = Path(__file__).resolve().parents[1]
STEMS = [p.stem for p in find_notebooks()]


@pytest.mark.parametrize("area, year", REAL_REPORT_SAMPLE)
def test_every_notebook_writes_its_outputs(real_reports, area, year):
    folder = real_reports[(area, year)]
    assert (folder / "index.html").is_file() and (folder / "run.json").is_file()
    for stem in STEMS:
        assert (folder / f"{stem}.html").is_file() and (folder / f"{stem}.ipynb").is_file()
        findings = json.loads((folder / "findings" / f"{stem}.json").read_text())
        assert findings["headline"].strip()
        text = " ".join([findings["headline"], *findings["sentences"].values(), *(f["title"] for f in findings["figures"])])
        assert "nan" not in text.split() and "None" not in text and "n/a" not in text, text
        for figure in findings["figures"]:
            # one stem for a figure and the table behind it
            assert (folder / figure["png"]).is_file() and figure["svg"] is None  # SVG only with --svg
            assert Path(figure["table"]).stem == Path(figure["png"]).stem
            assert len(pd.read_csv(folder / figure["table"])) > 0


def test_partial_year_is_reported_as_partial_and_never_ranked(real_reports):
    folder = real_reports[("London", "2026")]
    for stem in STEMS:
        findings = json.loads((folder / "findings" / f"{stem}.json").read_text())
        text = " ".join([findings["headline"], *findings["sentences"].values(), *(f["title"] for f in findings["figures"])])
        # MPS recorded crime stops in June 2026: never a record or a rank against whole years
        assert "fewest" not in text and "lowest rate" not in text and "highest rate" not in text, (stem, text)
    headline = json.loads((folder / "findings" / "01_homicide_decline.json").read_text())["headline"]
    assert "January–June 2026" in headline


def test_every_section_is_about_the_year_asked_for(real_reports):
    """A 2026 report shows 2026 (or names the latest year its data cover), never silently 2025's page."""
    shown = json.loads((real_reports[("London", "2026")] / "01_homicide_decline.ipynb").read_text())
    text = json.dumps(shown["cells"])
    assert "June 2026" in text  # the monthly section ends with the focus period's last month
    assert "shows 2023" in text  # the victim breakdowns name the latest year they cover, and why
    assert "March 2024" in text


def test_a_borough_run_says_force_wide_sections_are_london(real_reports):
    for key in (("Sutton", "2010"), ("Hackney", "2025")):
        nb = json.loads((real_reports[key] / "03_workforce.ipynb").read_text())
        shown = json.dumps(nb["cells"])
        assert "force-wide" in shown and f"not {key[0]}" in shown


def test_claims_csv_is_written_with_a_verdict_per_claim(real_reports):
    table = pd.read_csv(real_reports[("London", "2025")] / "claims.csv")
    assert len(table) == len(claims.load_claims())
    assert set(table["verdict"]) <= set(claims.VERDICTS)


def test_reports_for_different_years_live_side_by_side(real_reports):
    a, b = real_reports[("London", "2026")], real_reports[("London", "2025")]
    assert a != b and a.parent == b.parent
    headline_2026 = json.loads((a / "findings" / "01_homicide_decline.json").read_text())["headline"]
    assert "2026" in headline_2026


def test_real_pages_parse_to_the_same_document_as_from_the_stock_exporter(real_reports) -> None:
    """Every page of a real report, both forms, against nbconvert's stock HTMLExporter (tests/test_export.py)."""
    folder = real_reports[REAL_REPORT_SAMPLE[0]]
    stock = stock_exporters()
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        export.link_saved_figures(nb, folder)
        assert_same_document(nb, stock)


def test_a_reports_charts_tables_and_findings_are_those_of_a_plain_cold_run(real_reports, tmp_path: Path):
    """The runner's kernels are forked from a zygote that drew a throw-away chart and filled the
    data caches first: none of that may change a file. The notebook with the most kinds of chart
    and table, London 2025, run as plain Python in a fresh process (the benchmark's floor:
    ``bench_report.py --floor-worker``, no kernel, no warm-up), writes exactly the PNGs, CSVs and
    findings of the report."""
    notebook = ROOT / "notebooks" / "01_homicide_decline.ipynb"
    area, year = REAL_REPORT_SAMPLE[0]
    cold = tmp_path / "cold"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_report.py"), "--floor-worker", "--year", year,
                           "--area", area, "--floor-out", str(cold), str(notebook)],
                          cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = sorted(p.relative_to(cold) for p in cold.rglob("*") if p.is_file())
    assert any(p.suffix == ".png" for p in written) and any(p.suffix == ".csv" for p in written)
    assert all(p.stem.startswith(notebook.stem) for p in written)
    report = real_reports[(area, year)]
    in_report = sorted(p.relative_to(report) for folder in ("figures", "tables", "findings")
                       for p in (report / folder).glob(f"{notebook.stem}*") if p.is_file())
    assert in_report == written, "the report holds other files for this notebook than a plain cold run writes"
    differ = [str(p) for p in written if (report / p).read_bytes() != (cold / p).read_bytes()]
    assert differ == [], f"the report's files differ from a plain cold run: {differ}"
