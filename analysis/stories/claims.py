"""Claims check (notebook 04): every quantitative claim in ``seeds/claims.yml`` recomputed on every
measure that can test it, with a verdict from a fixed vocabulary that names its basis.

Rules, each kept by tests:

* each claim is tested on every line of evidence that reaches it (``Evidence``): the Met's open
  victim records, the open offence records, ONS population estimates, Home Office workforce data,
  and published statements; the verdict comes from the preferred line: an open data file on the
  claim's own measure, then an open data file on a related measure, then a published statement;
* no verdict is stronger than its weakest input: a line resting on a published statement is at
  most "consistent with the published figure only"; a line on a related measure (offences for a
  claim about victims) is at most "approximately supported", and it agrees only within the
  largest gap seen between the two measures in the years both are open;
* a claim reaching back before the data is at most "supported where data exist";
* comparisons use baselines stated in advance (the year before, the average of the five years
  before, the trend over the series), never a year picked because it is extreme.

The operations are in :mod:`analysis.stories.claim_checks`; adding a claim to the YAML needs no
code change as long as it uses a known operation.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.core.errors import DataError
from analysis.core.paths import CLAIMS_FILE
from analysis.data import bases
from analysis.data.manifest import parse_yaml
from analysis.stories.numbers import count_phrase, Noun

SUPPORTED = "supported"
APPROXIMATELY = "approximately supported"
WHERE_DATA_EXIST = "supported where data exist"
PUBLISHED_ONLY = "consistent with the published figure only"
NOT_SUPPORTED = "not supported"
CANNOT_CHECK = "cannot be checked with available data"
#: The vocabulary, strongest first.
VERDICTS: tuple[str, ...] = (SUPPORTED, APPROXIMATELY, WHERE_DATA_EXIST, PUBLISHED_ONLY, NOT_SUPPORTED, CANNOT_CHECK)
#: How strong a positive verdict is (higher is stronger); a cap keeps the weaker of two.
STRENGTH = {SUPPORTED: 4, APPROXIMATELY: 3, WHERE_DATA_EXIST: 2, PUBLISHED_ONLY: 1}

CLAIMS = Noun("claim", "claims")


def capped(verdict: str, cap: str) -> str:
    """``verdict``, lowered to ``cap`` when it is stronger; negative verdicts are left as they are."""
    if verdict in STRENGTH and cap in STRENGTH and STRENGTH[verdict] > STRENGTH[cap]:
        return cap
    return verdict


@dataclass(frozen=True)
class Evidence:
    """One line of evidence on a claim: its basis (``analysis.data.bases``), what it gives and the
    verdict it supports on its own, already capped by its inputs.

    ``same_measure`` is False when the line counts something related but different (offences for
    victims); ``computed`` is in the claim's unit, None when the line cannot give a figure.
    """

    basis: str
    computed: float | None
    verdict: str
    text: str
    period: str = ""
    same_measure: bool = True

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not in the fixed vocabulary")
        if self.basis not in bases.BASES:
            raise ValueError(f"basis {self.basis!r} is not in the shared vocabulary")

    @property
    def rank(self) -> tuple[int, int, int]:
        """Sort key: an open data line before a statement, the claim's own measure before a related one."""
        return (0 if bases.is_open(self.basis) else 1, 0 if self.same_measure else 1, 0 if self.computed is not None else 1)


@dataclass(frozen=True)
class ClaimResult:
    """One checked claim: what was claimed, every line of evidence, and the verdict with its basis."""

    id: str
    claim: str
    claimed: float
    unit: str
    computed: float | None
    period_used: str
    verdict: str
    basis: str
    evidence: str
    lines: tuple[Evidence, ...] = field(default=())


def decide(claim: dict[str, Any], lines: list[Evidence]) -> ClaimResult:
    """The result of ``claim`` from its lines of evidence: the preferred line that gives a figure
    decides (see the module's rules); with none, the claim cannot be checked."""
    usable = sorted((line for line in lines if line.verdict != CANNOT_CHECK), key=lambda line: line.rank)
    chosen = usable[0] if usable else None
    order = ([chosen] if chosen else []) + [line for line in lines if line is not chosen]
    text = " ".join(line.text for line in order)
    if chosen is not None and not chosen.same_measure and chosen.verdict in STRENGTH:
        text += (" Offences are a related measure, not the victims the claim counts (one offence can have several "
                 f"victims), so a verdict resting on them is at most \"{APPROXIMATELY}\"")
        text += (f"; here it is \"{chosen.verdict}\", lower still." if STRENGTH[chosen.verdict] < STRENGTH[APPROXIMATELY] else ".")
    return ClaimResult(
        id=str(claim["id"]),
        claim=str(claim["claim"]),
        claimed=float(claim["figure"]),
        unit=str(claim["unit"]),
        computed=None if chosen is None or chosen.computed is None or math.isnan(chosen.computed) else float(chosen.computed),
        period_used=chosen.period if chosen else str(claim.get("period", "")),
        verdict=chosen.verdict if chosen else CANNOT_CHECK,
        basis=chosen.basis if chosen else bases.NO_DATA,
        evidence=text,
        lines=tuple(lines),
    )


# ---------------------------------------------------------------------------
# matching a computed figure against the claim
# ---------------------------------------------------------------------------


def matches(claim: dict[str, Any], computed: float) -> bool:
    """True when ``computed`` bears out the claimed figure under the claim's ``compare`` rule."""
    figure = float(claim["figure"])
    mode = claim.get("compare", "equal")
    if mode == "at least":
        return abs(computed) >= abs(figure)
    if mode == "about":
        return abs(computed - figure) <= abs(figure) * float(claim.get("tolerance_pct", 10)) / 100
    decimals = int(claim.get("decimals", 0))
    return round(computed, decimals) == round(figure, decimals)


def near(claim: dict[str, Any], computed: float) -> bool:
    """Within one unit of the last claimed digit, or 2%: close enough to call approximate."""
    figure = float(claim["figure"])
    step = 10 ** -int(claim.get("decimals", 0))
    return abs(computed - figure) <= max(step, 0.02 * abs(figure)) + 1e-9


def graded(claim: dict[str, Any], computed: float | None, cap: str = SUPPORTED) -> str:
    """Verdict of one line: exact match, near it, or not; capped by the line's weakest input."""
    if computed is None or math.isnan(computed):
        return CANNOT_CHECK
    if matches(claim, computed):
        return capped(SUPPORTED, cap)
    if near(claim, computed):
        return capped(APPROXIMATELY, cap)
    return NOT_SUPPORTED


def cap_for(basis: str, same_measure: bool = True) -> str:
    """The strongest verdict a line on ``basis`` can give: a statement caps at "published only",
    a related measure at "approximately"."""
    if basis == bases.PUBLISHED_STATEMENT:
        return PUBLISHED_ONLY
    return SUPPORTED if same_measure else APPROXIMATELY


# ---------------------------------------------------------------------------
# the claims file
# ---------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    """The parsed file (a deep copy: callers may change it), parsed once per version of the file."""
    try:
        stat = Path(path).stat()
        return copy.deepcopy(_parse_yaml(str(path), stat.st_mtime_ns, stat.st_size))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(path, f"cannot be read as YAML ({exc})") from exc


@functools.lru_cache(maxsize=8)
def _parse_yaml(path: str, mtime_ns: int, size: int) -> Any:
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def story_description(path: Path = CLAIMS_FILE) -> str:
    """The seed story's description as the claims file gives it (lower-cased first letter, for use mid-sentence)."""
    data = _read_yaml(path)
    text = str(data.get("source", {}).get("description", "seed story")) if isinstance(data, dict) else "seed story"
    return text[:1].lower() + text[1:]


def load_claims(path: Path = CLAIMS_FILE) -> list[dict[str, Any]]:
    """The claims of the seed story, each with its ``check`` block; DataError if the file is malformed."""
    from analysis.stories.claim_checks import OPERATIONS

    data = _read_yaml(path)
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list) or not claims:
        raise DataError(path, "has no 'claims' list")
    for index, claim in enumerate(claims, start=1):
        for key in ("id", "claim", "figure", "unit", "check"):
            if key not in claim:
                raise DataError(path, f"claim {index} has no '{key}'")
        if claim["check"].get("op") not in OPERATIONS:
            raise DataError(path, f"claim '{claim['id']}' has unknown check op '{claim['check'].get('op')}'")
    return claims


def check_claim(claim: dict[str, Any]) -> ClaimResult:
    """Recompute one claim with the operation its ``check`` names."""
    from analysis.stories.claim_checks import OPERATIONS

    return decide(claim, OPERATIONS[claim["check"]["op"]](claim))


COLUMNS = ["id", "claim", "claimed", "unit", "computed", "period_used", "verdict", "basis", "evidence"]


def check_all(claims: list[dict[str, Any]]) -> pd.DataFrame:
    """Every claim checked, one row each, in the YAML's order (columns :data:`COLUMNS`)."""
    results = [check_claim(c) for c in claims]
    return pd.DataFrame([{name: getattr(r, name) for name in COLUMNS} for r in results], columns=COLUMNS)


def verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Claims by verdict and basis, in the vocabularies' order: ``verdict, basis, claims``."""
    counts = table.groupby(["verdict", "basis"]).size()
    rows = [
        {"verdict": v, "basis": b, "claims": int(counts[(v, b)])}
        for v in VERDICTS for b in bases.BASES if (v, b) in counts.index
    ]
    return pd.DataFrame(rows, columns=["verdict", "basis", "claims"])


def _by_basis(rows: pd.DataFrame) -> str:
    parts = [f"{n} on {b}" for b, n in rows.groupby("basis", sort=False)["claims"].sum().items()]
    return ", ".join(parts)


def headline(table: pd.DataFrame) -> str:
    """One sentence counting the verdicts, each group with the basis it rests on."""
    counts = verdict_counts(table)
    parts = []
    for verdict in VERDICTS:
        rows = counts[counts["verdict"] == verdict]
        if rows.empty:
            continue
        n = int(rows["claims"].sum())
        if verdict in (CANNOT_CHECK, PUBLISHED_ONLY):
            parts.append(f"{n} {verdict}")
        else:
            parts.append(f"{n} {verdict} ({_by_basis(rows)})")
    return f"Of the story's {count_phrase(len(table), CLAIMS)}: " + "; ".join(parts) + "."


def verdicts_title(table: pd.DataFrame) -> str:
    """Finding-title for the verdict chart: how many claims open data bear out, and how many rest on statements alone."""
    open_backed = table["verdict"].isin([SUPPORTED, APPROXIMATELY, WHERE_DATA_EXIST]) & table["basis"].map(bases.is_open)
    published = table["verdict"] == PUBLISHED_ONLY
    against = table["verdict"] == NOT_SUPPORTED
    text = (
        f"Open data bear out {int(open_backed.sum())} of the story's {count_phrase(len(table), CLAIMS)}, fully or "
        f"approximately; {int(published.sum())} rest on published statements alone"
    )
    if against.any():
        text += f"; open data contradict {int(against.sum())}"
    return text


def write_claims_csv(table: pd.DataFrame, output_dir: str | Path | None) -> Path | None:
    """Write ``claims.csv`` at the root of the output folder (nothing when ``output_dir`` is None)."""
    if output_dir is None:
        return None
    path = Path(output_dir) / "claims.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path
