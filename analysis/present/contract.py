"""What a notebook leaves for the report, defined once (standard library only).

Each notebook run with an ``output_dir`` writes ``findings/<notebook>.json`` holding its
headline, key sentences and one record per figure; each chart output carries the same record's
alt text, title and file in its display metadata. The runner reads both (``analysis.runner``).
"""

from __future__ import annotations

#: The keys of a figure record: the file stem, the finding-title, the alt text, and the paths of
#: the PNG, the SVG (None unless asked for) and the CSV table behind it, relative to the report.
FIGURE_KEYS: tuple[str, ...] = ("stem", "title", "alt", "png", "svg", "table")

#: The keys every findings file has.
FINDINGS_KEYS: tuple[str, ...] = ("notebook", "parameters", "headline", "sentences", "figures")

#: The keys of an image output's display metadata (under ``image/png``) that the pages read.
DISPLAY_KEYS: tuple[str, ...] = ("alt", "title", "file")
