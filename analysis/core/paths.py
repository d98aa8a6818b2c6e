"""Where the project's files live, resolved from the package, never from the working directory.

Papermill runs a notebook in the caller's directory while nbval starts the kernel in the
notebook's folder, so every path the analysis reads is anchored here.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR: Path = Path(__file__).resolve().parents[1]
REPO_ROOT: Path = PACKAGE_DIR.parent
DATA_DIR: Path = REPO_ROOT / "data"
SERIES_DIR: Path = DATA_DIR / "series"
RAW_DIR_DEFAULT: Path = DATA_DIR / "raw"
SOURCES_MANIFEST: Path = DATA_DIR / "sources.yml"
PUBLISHED_FIGURES: Path = DATA_DIR / "published_figures.csv"
NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
SEEDS_DIR: Path = REPO_ROOT / "seeds"
CLAIMS_FILE: Path = SEEDS_DIR / "claims.yml"
