"""The trend over a series and comparisons with baselines stated before looking at the data.

* :func:`fit_trend`: a negative binomial regression of annual counts on the year (with the
  population as exposure when a rate is meant), so the trend is judged over the whole series and
  allows for year-to-year variation larger than independent deaths would give (victims cluster
  in incidents). Returns the change per year in percent with its interval.
* :func:`against_previous_years`: the focus year against the average of the ``years`` before it
  (the pre-stated baseline beside "the year before"), with the exact conditional test.

Counts are events (victims or offences) per whole year; percentages are in percent.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stories.stats import CountComparison, compare_counts

#: The fewest whole years, and the fewest events in all, a trend is fitted on.
MIN_YEARS = 5
MIN_EVENTS = 20


@dataclass(frozen=True)
class Trend:
    """A fitted log-linear trend: counts change by ``pct_per_year`` percent a year.

    ``lower``/``upper`` bound it (``level`` interval), ``p_value`` tests "no trend",
    ``dispersion`` is the negative binomial's alpha (0 would be Poisson: independent events),
    ``model`` names the model actually fitted, ``per_capita`` says whether the population was
    the exposure (a trend in the rate rather than the count).
    """

    first_year: int
    last_year: int
    years: int
    pct_per_year: float
    lower: float
    upper: float
    p_value: float
    dispersion: float
    model: str
    per_capita: bool
    level: float = 0.95

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.level


def fit_trend(counts: pd.Series, exposure: pd.Series | None = None, *, level: float = 0.95) -> Trend | None:
    """Fit ``log E[count] = a + b * year (+ log exposure)`` by negative binomial regression.

    ``counts``: whole-year counts indexed by integer year (NaN rows are left out).
    ``exposure``: the population of each year, for a trend in the rate. Returns None with fewer
    than :data:`MIN_YEARS` years or :data:`MIN_EVENTS` events (too few to judge a trend). When the negative binomial fit does not converge (or the data
    show no extra variation), a Poisson model with the scale estimated from the data is used.
    """
    key_counts = tuple((int(y), float(v)) for y, v in counts.items())
    key_exposure = None if exposure is None else tuple((int(y), float(v)) for y, v in exposure.items())
    return _fit_trend(key_counts, key_exposure, level)


@functools.lru_cache(maxsize=2048)
def _fit_trend(key_counts: tuple, key_exposure: tuple | None, level: float) -> "Trend | None":
    counts = pd.Series(dict(key_counts), dtype=float)
    exposure = None if key_exposure is None else pd.Series(dict(key_exposure), dtype=float)
    data = pd.DataFrame({"count": pd.to_numeric(counts, errors="coerce")})
    if exposure is not None:
        data["exposure"] = pd.to_numeric(exposure.reindex(data.index), errors="coerce")
    data = data.dropna()
    if len(data) < MIN_YEARS or data["count"].sum() < MIN_EVENTS:
        return None
    years = np.asarray(data.index, dtype=float)
    x = np.column_stack([np.ones(len(years)), years - years.mean()])
    y = data["count"].to_numpy(dtype=float)
    expo = data["exposure"].to_numpy(dtype=float) if exposure is not None else None
    slope, se, p, alpha, model = _negative_binomial(y, x, expo)
    if slope is None:
        slope, se, p, alpha, model = _quasi_poisson(y, x, expo)
    z = _z(level)
    return Trend(
        first_year=int(data.index.min()), last_year=int(data.index.max()), years=len(data),
        pct_per_year=100 * (math.exp(slope) - 1), lower=100 * (math.exp(slope - z * se) - 1),
        upper=100 * (math.exp(slope + z * se) - 1), p_value=p, dispersion=alpha, model=model,
        per_capita=exposure is not None, level=level,
    )


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _negative_binomial(y: np.ndarray, x: np.ndarray, exposure: np.ndarray | None):
    from statsmodels.discrete.discrete_model import NegativeBinomial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings are judged below
        try:
            fit = NegativeBinomial(y, x, exposure=exposure, loglike_method="nb2").fit(disp=0, maxiter=200)
        except (ValueError, np.linalg.LinAlgError):
            return None, None, None, None, None
    alpha = float(fit.params[-1])
    converged = bool(fit.mle_retvals.get("converged", False))
    se = float(fit.bse[1])
    if not converged or not math.isfinite(se) or alpha <= 1e-8:
        return None, None, None, None, None
    return float(fit.params[1]), se, float(fit.pvalues[1]), alpha, "negative binomial"


def _quasi_poisson(y: np.ndarray, x: np.ndarray, exposure: np.ndarray | None):
    """Poisson regression, its standard errors widened by the Pearson dispersion when above 1."""
    from scipy.stats import norm
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = GLM(y, x, family=families.Poisson(), exposure=exposure).fit()
    scale = max(1.0, float(fit.pearson_chi2) / max(int(fit.df_resid), 1))
    se = float(fit.bse[1]) * math.sqrt(scale)
    p = float(2 * norm.sf(abs(float(fit.params[1])) / se)) if se > 0 else 1.0
    return float(fit.params[1]), se, p, 0.0, "Poisson (scale from the data)"


@dataclass(frozen=True)
class Baseline:
    """The focus year against the mean of the ``years`` whole years before it."""

    first_year: int
    last_year: int
    years: int
    mean: float
    comparison: CountComparison  # base = the baseline years' total over their number of years


def against_previous_years(counts: pd.Series, focus: int, years: int = 5) -> Baseline | None:
    """The focus year's count against the average of the ``years`` years before it.

    The test is the exact conditional test of two Poisson counts with exposures ``years`` and 1
    (so it compares rates per year); None when any of those years has no count.
    """
    window = list(range(focus - years, focus))
    data = pd.to_numeric(counts, errors="coerce")
    if focus not in data.index or any(y not in data.index or pd.isna(data.loc[y]) for y in window) or pd.isna(data.loc[focus]):
        return None
    total = int(sum(int(data.loc[y]) for y in window))
    comparison = compare_counts(total, int(data.loc[focus]), exposure_a=float(years), exposure_b=1.0)
    return Baseline(window[0], window[-1], years, total / years, comparison)
