"""What the report's front page shows, prepared for its template (standard library only).

* :func:`notebook_entry`: one entry per notebook: the headline's finding first, then its
  qualification (the rest of the headline), then the notebook's other sentences without repeats,
  and its figure records (:data:`FIGURE_KEYS`).
* :func:`claims_view`: ``claims.csv`` as a four-column table (claim; our figure against the
  claimed one; verdict; the basis of the evidence in a short phrase) and a count of each verdict.
  It reads the columns by name and degrades gracefully when one is missing (an older file).

Every value here is plain text: the template escapes it (jinja autoescape), nothing is marked safe.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.present.contract import FIGURE_KEYS

#: The verdict vocabulary of the claims check, strongest first (the order of the counts), and
#: the tone each is drawn in on the page (a CSS class; an unknown verdict is drawn neutral).
VERDICT_TONES: dict[str, str] = {
    "supported": "good",
    "approximately supported": "fair",
    "supported where data exist": "fair",
    "consistent with the published figure only": "published",
    "not supported": "bad",
    "cannot be checked with available data": "none",
}

#: How each evidence basis reads after a verdict ("supported on open victim records").
BASIS_PHRASES: dict[str, str] = {
    "open victim records": "on open victim records",
    "open offence records": "on open offence records",
    "ONS homicide index rates": "on ONS homicide index rates",
    "ONS population estimates": "on ONS population estimates",
    "Home Office workforce data": "on Home Office workforce data",
    "published statement": "on a published statement",
    "no data": "no data to check it against",
}

#: A basis longer than this is not a basis but a paragraph of evidence (claims.csv before the
#: ``evidence`` column was added kept its reasoning under ``basis``): it is not shown as one.
_BASIS_MAX_CHARS = 60
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u2212(])")


# ---------------------------------------------------------------------------------------------
# Notebooks: headline, qualification, the other sentences
# ---------------------------------------------------------------------------------------------


def _plain(text: object) -> str:
    return " ".join(str(text or "").split())


def split_headline(headline: str) -> tuple[str, str]:
    """The headline's first sentence (the finding) and the rest (its qualification, may be "")."""
    text = _plain(headline)
    parts = _SENTENCE_END.split(text, maxsplit=1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


def other_sentences(headline: str, sentences: Mapping[str, Any] | Sequence[Any] | None) -> list[str]:
    """The notebook's sentences that the headline does not already say, each once, in order."""
    values = sentences.values() if isinstance(sentences, Mapping) else (sentences or [])
    said = _plain(headline)
    kept: list[str] = []
    for value in values:
        text = _plain(value)
        if not text or text in said or any(text in earlier for earlier in kept):
            continue
        kept = [earlier for earlier in kept if earlier not in text]  # a longer one covers it
        kept.append(text)
    return kept


def notebook_entry(stem: str, title: str, findings: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the index shows for one notebook (its links, headline, sentences and figures)."""
    findings = findings or {}
    headline = _plain(findings.get("headline"))
    lead, qualification = split_headline(headline)
    figures = []
    for fig in findings.get("figures") or []:
        if isinstance(fig, Mapping):
            figures.append({key: fig.get(key) for key in FIGURE_KEYS})
    return {
        "stem": stem,
        "title": title or stem,
        "lead": lead,
        "qualification": qualification,
        "sentences": other_sentences(headline, findings.get("sentences")),
        "figures": figures,
        "narrative": f"{stem}.html",
        "full": f"{stem}.code.html",
        "ipynb": f"{stem}.ipynb",
    }


# ---------------------------------------------------------------------------------------------
# Claims: the figures, the verdict and its basis
# ---------------------------------------------------------------------------------------------


def _number(text: object) -> float | None:
    try:
        value = float(str(text).strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def format_value(value: object, unit: str = "") -> str:
    """A claimed or computed figure as a reader writes it ("" when there is none).

    Years print as years (2014, never 2014.0 or 2,014); whole numbers with thousands separators;
    other numbers with up to three decimals (three significant digits below 1); percentages with
    a % sign; negative numbers with a true minus sign.
    """
    number = _number(value)
    if number is None:
        return _plain(value) if _plain(value).lower() not in ("", "nan", "none", "null") else ""
    unit = _plain(unit).lower()
    if unit.startswith("year") and number.is_integer():
        return f"{number:.0f}".replace("-", "\u2212")
    if number.is_integer():
        text = f"{number:,.0f}"
    else:
        magnitude = abs(number)
        decimals = 3 if magnitude >= 1 else min(6, 2 - math.floor(math.log10(magnitude)))
        text = f"{number:,.{decimals}f}".rstrip("0").rstrip(".")
    text = text.replace("-", "\u2212")
    return text + "%" if unit in ("percent", "per cent", "%", "pct") else text


def figure_phrase(claimed: object, computed: object, unit: str = "") -> str:
    """Our figure against the claimed one: "96 vs 97 claimed" (or what there is of the two)."""
    ours, theirs = format_value(computed, unit), format_value(claimed, unit)
    if ours and theirs:
        return f"{ours} vs {theirs} claimed"
    if theirs:
        return f"{theirs} claimed; none computed"
    return f"{ours} computed" if ours else "\u2013"


def basis_phrase(basis: object) -> str:
    """The basis as a short phrase after the verdict ("on open victim records"); "" when unknown."""
    text = _plain(basis)
    if not text or len(text) > _BASIS_MAX_CHARS:
        return ""
    return BASIS_PHRASES.get(text, f"on {text}")


def verdict_tone(verdict: object) -> str:
    """The CSS tone of a verdict: one of a fixed set of class names, whatever the text says."""
    return VERDICT_TONES.get(_plain(verdict).lower(), "neutral")


def verdict_counts(verdicts: Sequence[str]) -> list[dict[str, Any]]:
    """``[{"verdict", "count", "tone"}]``: known verdicts in the vocabulary's order, then the rest."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        if verdict:
            counts[verdict] = counts.get(verdict, 0) + 1
    order = list(VERDICT_TONES)
    ranked = sorted(counts.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), -kv[1], kv[0]))
    return [{"verdict": v, "count": n, "tone": verdict_tone(v)} for v, n in ranked]


def read_claims(path: Path) -> list[dict[str, str]] | None:
    """The rows of ``claims.csv`` as dicts keyed by lower-cased column name (None without a file)."""
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [name.strip().lower() for name in next(reader, [])]
        return [dict(zip(header, row)) for row in reader if any(cell.strip() for cell in row)]


def claims_view(path: Path, page: str | None = None, limit: int = 60) -> dict[str, Any] | None:
    """``claims.csv`` for the index (None when there is no file).

    Each row: the claim (its id when the text is missing), the figure phrase, the verdict and its
    tone, and the basis phrase; ``page`` is the notebook page holding the full evidence.
    """
    rows = read_claims(path)
    if rows is None:
        return None
    shown = []
    for row in rows[:limit]:
        verdict = _plain(row.get("verdict"))
        shown.append({
            "claim": _plain(row.get("claim")) or _plain(row.get("id")),
            "figure": figure_phrase(row.get("claimed"), row.get("computed"), row.get("unit", "")),
            "verdict": verdict or "\u2013",
            "tone": verdict_tone(verdict),
            "basis": basis_phrase(row.get("basis")),
        })
    return {
        "rows": shown,
        "more": max(0, len(rows) - limit),
        "total": len(rows),
        "verdicts": verdict_counts([_plain(row.get("verdict")) for row in rows]),
        "page": page,
    }


def claims_home(stems: Sequence[str]) -> str | None:
    """The notebook whose section holds the claims table: the first whose name mentions claims."""
    return next((stem for stem in stems if "claim" in stem.lower()), None)
