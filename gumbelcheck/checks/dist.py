"""The Gumbel distribution check: accuracy of pdf ... isf, and draws through the inverse CDF.

Accuracy
--------
Every function of :mod:`gumbelcheck.gumbel` is evaluated on grids that cover the bulk and
both tails (z from -700 to 800; p and upper-tail q from 1e-300 to 1 - 2**-53, and around the
root of ppf and isf) and compared with a 256-bit mpmath reference
(:mod:`gumbelcheck.reference`) and with ``scipy.stats.gumbel_r``. Only points where the true
value is a normal float are compared; where it underflows the function must return less than
the smallest normal float (pdf and cdf are then covered in log space by logpdf and logcdf).

Tolerance. A float64 evaluation cannot beat the rounding of its own input: z carries a
relative error of about eps, and so does exp(-z). The tolerance at each point is therefore
``ULP_FACTOR * (1 + kappa)`` ULP of the true value, with kappa the relative condition number
with respect to those roundings (a = |z|, e = exp(-z), f the true value, L = log beta)::

    pdf     a |1 - e| + e + |z + e|          cdf     e (a + 1)
    logpdf  (a |1 - e| + e + |z + e| + |L|) / |f|
    logcdf  a + 1                            sf      (a + 1) e / expm1(e)
    logsf   (a + 1) e / (expm1(e) |f|)       ppf, isf  (|mu| + beta (1 + 2 |t|)) / |f|

with t = log(-log p) for ppf and isf. So the relative error allowed to exp of a large argument
grows like |log f| eps, and near the root of ppf (p = exp(-exp(mu/beta)), 1/e for mu = 0) the
tolerance is absolute, ``ULP_FACTOR eps (|mu| + beta (1 + 2|t|))``. The identities are
checked with the tolerances these imply: ppf(cdf(x)) = x and isf(sf(x)) = x where the inner
value lies strictly between 0 and 1, pdf = d cdf / dx by a five-point stencil, and
logpdf = log(pdf) where pdf is a normal float.

A gumbelcheck function that misses its tolerance anywhere fails the check. SciPy is measured
against the same reference and tolerance; where it misses, the row reports a SciPy deviation,
which is information, not a failure.

Sampling
--------
N draws through the inverse CDF on the seeded block engine. Moments use all N draws,
accumulated per block as power sums about the true mean and folded in block order; the
one-sample Kolmogorov-Smirnov and Cramer-von Mises tests against the fully specified
Gumbel(mu, beta) use the first min(N, GOF_MAX_DRAWS) draws in block order (a fixed subset
chosen before looking at the values, so an iid sample). The four p-values are combined by
Bonferroni.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine, gumbel, reference
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import parse_real
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.stats import LN10, TestResult, ks_detectable_distance, ks_log_sf, normal_test

if TYPE_CHECKING:
    import pandas as pd

#: Tolerance in ULP per unit of (1 + condition number): a few roundings.
ULP_FACTOR = 4.0

#: Grid points per region.
GRID_POINTS = 200

#: Draws the KS and Cramer-von Mises tests use (the first ones in block order).
GOF_MAX_DRAWS = 1_000_000

#: Fewest draws accepted: the moment tests rest on the central limit theorem.
MIN_SAMPLES = 1_000

#: Euler-Mascheroni constant: the Gumbel mean is mu + EULER_GAMMA * beta.
EULER_GAMMA = float(np.euler_gamma)

#: Excess kurtosis of every Gumbel distribution.
EXCESS_KURTOSIS = 12.0 / 5.0

#: Step of the five-point stencil in units of the cdf's local scale beta / (1 + e).
DERIVATIVE_STEP = 2.0**-10

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)

#: The functions under test, as gumbelcheck.gumbel defines them.
FUNCTIONS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")

#: Regions of z = (x - mu) / beta: name, lower end, upper end.
Z_REGIONS = (
    ("far left", -700.0, -40.0),
    ("left tail", -40.0, -2.0),
    ("bulk", -2.0, 5.0),
    ("right tail", 5.0, 40.0),
    ("far right", 40.0, 800.0),
)

#: Smallest tail probability on the ppf and isf grids.
P_MIN = 1e-300

#: Tail probabilities beyond this are "tail" regions of ppf and isf.
P_TAIL = 1e-3

#: Relative half-width of the region around the root of ppf and isf.
ROOT_WIDTH = 1e-4

Function = Callable[..., Any]
Sampler = Callable[[np.random.Generator, int, float, float], NDArray[np.float64]]

NULL_HYPOTHESIS = (
    f"gumbelcheck's Gumbel(mu, beta) functions are within {ULP_FACTOR:g} (1 + condition "
    "number) ULP of a 256-bit reference wherever the true value is a normal float, and draws "
    "through the inverse CDF are iid Gumbel(mu, beta)"
)

#: Column names of the accuracy table, in order (documented in the README).
COLUMNS = (
    "function",
    "kind",
    "region",
    "variable",
    "lo",
    "hi",
    "n_points",
    "n_underflow",
    "n_nonfinite",
    "max_abs_err",
    "max_rel_err",
    "max_ulp_err",
    "tolerance_ulp",
    "error_ratio",
    "passed",
    "max_ulp_vs_scipy",
    "scipy_n_nonfinite",
    "scipy_max_abs_err",
    "scipy_max_rel_err",
    "scipy_max_ulp_err",
    "scipy_error_ratio",
    "scipy_deviates",
)


@dataclass(frozen=True, kw_only=True)
class Accuracy:
    """Accuracy of one function (or identity) on one region: a row of the table.

    Attributes
    ----------
    function : str
        ``pdf`` ... ``isf``, or an identity such as ``ppf(cdf(x))``.
    kind : str
        ``reference`` (compared with mpmath and SciPy) or ``identity``.
    region : str
        Region name (``left tail``, ``bulk``, ...; named by the side of x it maps to).
    variable : str
        What the grid spans: ``z`` = (x - mu) / beta, ``p`` or ``q``.
    lo, hi : float
        Range of the grid (of the compared points for identities).
    n_points : int
        Points compared: true value a finite normal float.
    n_underflow : int
        Points whose true value underflows (subnormal or 0); the function must return less
        than the smallest normal float there.
    n_nonfinite : int
        Compared points where the function returned inf or NaN (each one fails the row).
    max_abs_err, max_rel_err, max_ulp_err : float
        Largest absolute, relative and ULP error over the finite compared points (ULP of the
        true value; for identities, of the compared quantity).
    tolerance_ulp : float
        The tolerance, in ULP, at the point of the largest ULP error.
    error_ratio : float
        Largest error / tolerance (underflow points included, with the smallest normal float
        as their tolerance); the row passes when it is at most 1.
    passed : bool
        ``error_ratio <= 1`` and ``n_nonfinite == 0``.
    max_ulp_vs_scipy : float
        Largest difference from SciPy, in ULP of the true value (NaN for identities).
    scipy_n_nonfinite, scipy_max_abs_err, scipy_max_rel_err, scipy_max_ulp_err,
    scipy_error_ratio : float
        The same figures for scipy.stats.gumbel_r against the reference (NaN for identities).
    scipy_deviates : bool
        SciPy misses the tolerance somewhere in the region.
    """

    function: str
    kind: str
    region: str
    variable: str
    lo: float
    hi: float
    n_points: int
    n_underflow: int
    n_nonfinite: int
    max_abs_err: float
    max_rel_err: float
    max_ulp_err: float
    tolerance_ulp: float
    error_ratio: float
    passed: bool
    max_ulp_vs_scipy: float = math.nan
    scipy_n_nonfinite: int = 0
    scipy_max_abs_err: float = math.nan
    scipy_max_rel_err: float = math.nan
    scipy_max_ulp_err: float = math.nan
    scipy_error_ratio: float = math.nan
    scipy_deviates: bool = False


@dataclass(frozen=True, kw_only=True)
class Moment:
    """A sample moment against its Gumbel(mu, beta) value.

    Attributes
    ----------
    name : str
        ``mean`` or ``variance``.
    expected : float
        mu + gamma beta, or pi^2 beta^2 / 6.
    estimate : float
        The sample mean, or the unbiased sample variance.
    ci_low, ci_high : float
        Asymptotic confidence interval at level 1 - alpha (standard errors from the sample).
    """

    name: str
    expected: float
    estimate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, kw_only=True, eq=False)
class SamplingCheck:
    """Draws through the inverse CDF tested against the fully specified Gumbel(mu, beta).

    Attributes
    ----------
    sampler : str
        What drew the samples.
    samples : int
        N, the draws the moments use.
    gof_draws : int
        The draws the KS and Cramer-von Mises tests use (the first ones in block order).
    mean, variance : Moment
        Sample moments with confidence intervals.
    sd, sd_expected : float
        Sample standard deviation and pi beta / sqrt(6).
    tests : tuple of TestResult
        ``ks``, ``cramer-von-mises``, ``mean-z``, ``variance-z``.
    test, statistic : str, float
        The test with the smallest p-value, and its statistic.
    pvalue, log10_pvalue : float
        Bonferroni-adjusted smallest p-value, min(1, 4 p_min).
    alpha : float
        Significance level.
    ks_distance : float
        sup |F_N - F|, the effect size of the KS test.
    mean_shift_sd : float
        (mean - expected mean) / expected sd.
    variance_ratio : float
        Sample variance / expected variance.
    """

    sampler: str
    samples: int
    gof_draws: int
    mean: Moment
    variance: Moment
    sd: float
    sd_expected: float
    tests: tuple[TestResult, ...]
    test: str
    statistic: float
    pvalue: float
    log10_pvalue: float
    alpha: float
    ks_distance: float
    mean_shift_sd: float
    variance_ratio: float

    @property
    def passed(self) -> bool:
        """True when the Bonferroni-adjusted p-value is at least alpha."""
        return self.pvalue >= self.alpha


@dataclass(frozen=True, kw_only=True, eq=False)
class DistResult(ResultReport):
    """Result of :func:`dist`.

    Attributes
    ----------
    null_hypothesis : str
        What was tested.
    mu, beta : float
        Location and scale.
    functions : str
        The function set checked (``gumbelcheck.gumbel`` unless replaced).
    ulp_factor : float
        Tolerance in ULP per unit of (1 + condition number).
    accuracy : tuple of Accuracy
        One row per function (or identity) and region.
    sampling : SamplingCheck
        The sampling tests.
    provenance : Provenance
        Seed, block size, versions.
    """

    check: ClassVar[str] = "dist"
    null_hypothesis: str = NULL_HYPOTHESIS
    mu: float
    beta: float
    functions: str
    ulp_factor: float
    accuracy: tuple[Accuracy, ...]
    sampling: SamplingCheck
    provenance: provenance.Provenance = field(repr=False)

    @property
    def accuracy_passed(self) -> bool:
        """True when every function met its tolerance everywhere."""
        return all(row.passed for row in self.accuracy)

    @property
    def passed(self) -> bool:
        """True when the accuracy and the sampling checks passed."""
        return self.accuracy_passed and self.sampling.passed

    @property
    def worst(self) -> Accuracy:
        """The row with the largest error / tolerance."""
        return max(self.accuracy, key=lambda row: _nan_to_inf(row.error_ratio))

    @property
    def scipy_deviations(self) -> tuple[Accuracy, ...]:
        """Rows where SciPy misses the reference."""
        return tuple(row for row in self.accuracy if row.scipy_deviates)

    @property
    def reason(self) -> str:
        """Why the check failed (empty when it passed)."""
        reasons = [
            f"{row.function} {row.region}: error {row.error_ratio:.3g} x tolerance"
            + (f", {row.n_nonfinite} non-finite" if row.n_nonfinite else "")
            for row in self.accuracy
            if not row.passed
        ]
        s = self.sampling
        if not s.passed:
            p = f"{s.pvalue:.3g}" if s.pvalue > 0 else f"10^{s.log10_pvalue:.1f}"
            reasons.append(f"sampling: {s.test} p = {p} (Bonferroni) < alpha = {s.alpha:g}")
        return "; ".join(reasons)

    def to_frame(self) -> pd.DataFrame:
        """The accuracy table, one row per function and region (tidy)."""
        import pandas as pd

        return pd.DataFrame(
            [{name: getattr(row, name) for name in COLUMNS} for row in self.accuracy],
            columns=list(COLUMNS),
        )

    def summary(self) -> Summary:
        """The run-level figures: verdict, tests, statistic, p-value, effect sizes."""
        s, worst = self.sampling, self.worst
        # The KS test runs at the Bonferroni level of the four sampling tests.
        mde = ks_detectable_distance(s.gof_draws, s.alpha / len(s.tests))
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=not self.accuracy_passed,
            null_hypothesis=self.null_hypothesis,
            rule="ulp+bonferroni",
            test=s.test,
            statistic=s.statistic,
            df=None,
            pvalue=s.pvalue,
            log10_pvalue=s.log10_pvalue,
            alpha=s.alpha,
            effect=f"KS D {s.ks_distance:.2g}",
            mde=f"KS D >= {mde:.2g}",
            samples=s.samples,
            reason=self.reason,
            figures={
                "mu": self.mu,
                "beta": self.beta,
                "accuracy_passed": self.accuracy_passed,
                "sampling_passed": s.passed,
                "max_error_ratio": worst.error_ratio,
                "worst": f"{worst.function} {worst.region}",
                "scipy_deviations": "; ".join(
                    scipy_deviation_text(r) for r in self.scipy_deviations
                ),
                "mean": s.mean.estimate,
                "mean_expected": s.mean.expected,
                "sd": s.sd,
                "sd_expected": s.sd_expected,
                "ks_distance": s.ks_distance,
                "mde_ks_distance": mde,
                "mean_shift_sd": s.mean_shift_sd,
                "variance_ratio": s.variance_ratio,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(
            functions=self.functions,
            ulp_factor=self.ulp_factor,
            accuracy=self.accuracy,
            sampling=self.sampling,
        )


def scipy_deviation_text(row: Accuracy) -> str:
    """One line on how far SciPy is off in a row, e.g. for the report."""
    parts = [f"max rel err {row.scipy_max_rel_err:.2g} ({row.scipy_max_ulp_err:.3g} ULP)"]
    if row.scipy_n_nonfinite:
        parts.append(f"inf/NaN at {row.scipy_n_nonfinite} of {row.n_points} points")
    return f"SciPy {row.function} {row.region} ({row.variable} {row.lo:.4g}..{row.hi:.4g}): " + (
        ", ".join(parts)
    )


# ---------------------------------------------------------------- accuracy


def _nan_to_inf(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _e_over_expm1(e: NDArray[np.float64]) -> NDArray[np.float64]:
    """e / expm1(e) with its limits 1 at e = 0 and 0 at e = inf."""
    with np.errstate(all="ignore"):
        ratio = e / np.expm1(e)
    return np.where(e == 0, 1.0, np.where(np.isinf(e), 0.0, ratio))


def condition(
    name: str,
    z: NDArray[np.float64],
    e: NDArray[np.float64],
    value: NDArray[np.float64],
    mu: float,
    beta: float,
) -> NDArray[np.float64]:
    """Relative condition number kappa of ``name`` (see the module docstring).

    Parameters
    ----------
    name : str
        One of :data:`FUNCTIONS`.
    z, e : ndarray
        z = (x - mu) / beta and exp(-z) at the points (for ppf and isf: of the result).
    value : ndarray
        The true value of the function.
    mu, beta : float
        Location and scale.
    """
    a = np.abs(z)
    with np.errstate(all="ignore"):
        size = np.abs(value)
        exponent = a * np.abs(1.0 - e) + e + np.abs(z + e)
        kappa = {
            "pdf": lambda: exponent,
            "logpdf": lambda: (exponent + abs(math.log(beta))) / size,
            "cdf": lambda: e * (a + 1.0),
            "logcdf": lambda: a + 1.0,
            "sf": lambda: (a + 1.0) * _e_over_expm1(e),
            "logsf": lambda: (a + 1.0) * _e_over_expm1(e) / size,
            "ppf": lambda: (abs(mu) + beta * (1.0 + 2.0 * a)) / size,
            "isf": lambda: (abs(mu) + beta * (1.0 + 2.0 * a)) / size,
        }[name]()
    return np.asarray(kappa, dtype=np.float64)


@dataclass(frozen=True)
class _Errors:
    """Errors of one evaluation against the truth on a region."""

    n_points: int
    n_underflow: int
    n_nonfinite: int
    max_abs_err: float
    max_rel_err: float
    max_ulp_err: float
    tolerance_ulp: float
    error_ratio: float

    @property
    def passed(self) -> bool:
        return self.error_ratio <= 1.0 and self.n_nonfinite == 0

    def accuracy_fields(self) -> dict[str, Any]:
        """The :class:`Accuracy` fields these errors fill: the figures and ``passed``."""
        return {**asdict(self), "passed": self.passed}


def _errors(
    value: NDArray[np.float64], truth: NDArray[np.float64], tolerance_ulp: NDArray[np.float64]
) -> _Errors:
    """Compare ``value`` with ``truth`` where the truth is a normal float; check underflow."""
    value = np.broadcast_to(np.asarray(value, dtype=np.float64), truth.shape)
    size = np.abs(truth)
    normal = np.isfinite(truth) & (size >= TINY)
    underflow = size < TINY
    finite = np.isfinite(value)
    compared = normal & finite
    with np.errstate(all="ignore"):
        err = np.abs(value - truth)
        ulp = err / np.spacing(size)
        ratio = np.where(underflow, err / TINY, ulp / tolerance_ulp)
    ratio = np.where(normal & ~finite, np.inf, ratio)
    judged = normal | underflow
    ratio = np.where(judged, np.where(np.isnan(ratio), np.inf, ratio), 0.0)
    # The tolerance shown is the one where the ULP error is largest, to read beside it.
    worst = int(np.argmax(np.where(compared, ulp, -1.0)))

    def largest(values: NDArray[np.float64]) -> float:
        return float(values[compared].max()) if compared.any() else math.nan

    return _Errors(
        n_points=int(normal.sum()),
        n_underflow=int(underflow.sum()),
        n_nonfinite=int((normal & ~finite).sum()),
        max_abs_err=largest(err),
        max_rel_err=largest(err / np.where(normal, size, 1.0)),
        max_ulp_err=largest(ulp),
        tolerance_ulp=float(tolerance_ulp[worst]) if compared.any() else math.nan,
        error_ratio=float(ratio.max()) if ratio.size else 0.0,
    )


@dataclass(frozen=True)
class _Region:
    """The nominal grid of one function on one region (z, p or q values)."""

    function: str
    region: str
    variable: str
    values: NDArray[np.float64]


def _z_grid(lo: float, hi: float, n: int) -> NDArray[np.float64]:
    """Geometric spacing in |z| within a tail (dense toward the bulk), linear across 0."""
    if lo < 0 < hi:
        return np.linspace(lo, hi, n)
    if hi <= 0:
        return -np.geomspace(-lo, -hi, n)
    return np.geomspace(lo, hi, n)


def _probability_regions(name: str, mu: float, beta: float, n: int) -> list[_Region]:
    """Grids of p (ppf) or q (isf): both tails down to 1e-300, the bulk, the root."""
    small = np.geomspace(P_MIN, P_TAIL, n)
    near_one = 1.0 - np.geomspace(P_TAIL, EPS / 2.0, n)
    bulk = np.linspace(P_TAIL, 1.0 - P_TAIL, n)
    # The root of ppf and isf, at x = 0: p = cdf(0) = exp(-e0), q = sf(0), e0 = exp(mu / beta).
    with np.errstate(over="ignore"):
        e0 = math.exp(mu / beta) if mu / beta < 709.0 else math.inf
    root = math.exp(-e0) if name == "ppf" else -math.expm1(-e0)
    lower, upper = ("left tail", "right tail") if name == "ppf" else ("right tail", "left tail")
    variable = "p" if name == "ppf" else "q"
    regions = [
        _Region(name, lower, variable, small),
        _Region(name, "bulk", variable, bulk),
        _Region(name, upper, variable, near_one),
    ]
    if P_MIN <= root <= 1.0 - P_TAIL:
        grid = root * (1.0 + np.linspace(-ROOT_WIDTH, ROOT_WIDTH, n // 2 + 1))
        regions.append(_Region(name, "root", variable, grid))
    return regions


def _scipy(name: str, args: NDArray[np.float64], mu: float, beta: float) -> NDArray[np.float64]:
    from scipy import stats

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(getattr(stats.gumbel_r, name)(args, loc=mu, scale=beta), dtype=float)


def _reference_rows(
    functions: Mapping[str, Function], mu: float, beta: float, n: int
) -> list[Accuracy]:
    rows = []
    for region, lo, hi in Z_REGIONS:
        z_grid = _z_grid(lo, hi, n)
        x = mu + beta * z_grid
        x = np.unique(x[np.isfinite(x)])
        truth = reference.reference_x(x, mu, beta)
        z, e = truth["z"], truth["e"]
        for name in reference.X_FUNCTIONS:
            tol = ULP_FACTOR * (1.0 + condition(name, z, e, truth[name], mu, beta))
            grid = _Region(name, region, "z", z_grid)
            rows.append(_compare(functions[name], grid, x, truth[name], tol, mu, beta))
    for name, ref in (("ppf", reference.reference_ppf), ("isf", reference.reference_isf)):
        for grid in _probability_regions(name, mu, beta, n):
            p = np.unique(grid.values)
            value = ref(p, mu, beta)
            with np.errstate(all="ignore"):
                z = (value - mu) / beta
            tol = ULP_FACTOR * (1.0 + condition(name, z, np.exp(-z), value, mu, beta))
            rows.append(_compare(functions[name], grid, p, value, tol, mu, beta))
    return rows


def _compare(
    function: Function,
    region: _Region,
    args: NDArray[np.float64],
    truth: NDArray[np.float64],
    tol: NDArray[np.float64],
    mu: float,
    beta: float,
) -> Accuracy:
    ours_value = np.asarray(function(args, mu, beta), dtype=np.float64)
    scipy_value = _scipy(region.function, args, mu, beta)
    ours, theirs = _errors(ours_value, truth, tol), _errors(scipy_value, truth, tol)
    normal = np.isfinite(truth) & (np.abs(truth) >= TINY)
    with np.errstate(all="ignore"):
        apart = np.abs(ours_value - scipy_value) / np.spacing(np.abs(truth))
    apart = np.where(np.isnan(apart), np.inf, apart)
    return Accuracy(
        function=region.function,
        kind="reference",
        region=region.region,
        variable=region.variable,
        lo=float(region.values.min()),
        hi=float(region.values.max()),
        **ours.accuracy_fields(),
        max_ulp_vs_scipy=float(apart[normal].max()) if normal.any() else math.nan,
        scipy_n_nonfinite=theirs.n_nonfinite,
        scipy_max_abs_err=theirs.max_abs_err,
        scipy_max_rel_err=theirs.max_rel_err,
        scipy_max_ulp_err=theirs.max_ulp_err,
        scipy_error_ratio=theirs.error_ratio,
        scipy_deviates=not theirs.passed,
    )


def _identity_row(
    name: str,
    region: str,
    z: NDArray[np.float64],
    value: NDArray[np.float64],
    target: NDArray[np.float64],
    tol_abs: NDArray[np.float64],
) -> Accuracy:
    """Compare ``value`` with ``target`` (the float64 quantity it must reproduce)."""
    with np.errstate(all="ignore"):
        tol_ulp = tol_abs / np.spacing(np.abs(target))
    found = _errors(value, target, tol_ulp)
    return Accuracy(
        function=name,
        kind="identity",
        region=region,
        variable="z",
        lo=float(z.min()) if z.size else math.nan,
        hi=float(z.max()) if z.size else math.nan,
        **found.accuracy_fields(),
    )


def _identity_rows(f: Mapping[str, Function], mu: float, beta: float, n: int) -> list[Accuracy]:
    """Round trips, pdf against the derivative of cdf, logpdf against log(pdf)."""
    z_grid = np.concatenate([_z_grid(lo, hi, n) for _, lo, hi in Z_REGIONS])
    x = np.unique(mu + beta * z_grid)
    x = x[np.isfinite(x)]
    with np.errstate(all="ignore"):
        z = (x - mu) / beta
        e = np.exp(-z)
        a = np.abs(z)
        cdf, sf = np.asarray(f["cdf"](x, mu, beta)), np.asarray(f["sf"](x, mu, beta))
        pdf, logpdf = np.asarray(f["pdf"](x, mu, beta)), np.asarray(f["logpdf"](x, mu, beta))
    inverse_error = ULP_FACTOR * EPS * (np.abs(x) + abs(mu) + beta * (1.0 + 2.0 * a))
    rows = []

    # ppf(cdf(x)): a relative error r of cdf moves x by beta r / e (e = -log cdf).
    inside = (cdf >= TINY) & (cdf < 1.0)
    with np.errstate(all="ignore"):
        cdf_error = ULP_FACTOR * EPS * (1.0 + condition("cdf", z, e, cdf, mu, beta))
        tol = inverse_error + beta * cdf_error / e
        back = np.asarray(f["ppf"](cdf, mu, beta))
    rows.append(
        _identity_row(
            "ppf(cdf(x))", "cdf in (0,1)", z[inside], back[inside], x[inside], tol[inside]
        )
    )

    # isf(sf(x)): a relative error r of sf moves x by beta r expm1(e) / e.
    inside = (sf >= TINY) & (sf < 1.0)
    with np.errstate(all="ignore"):
        sf_error = ULP_FACTOR * EPS * (1.0 + condition("sf", z, e, sf, mu, beta))
        tol = inverse_error + beta * sf_error / _e_over_expm1(e)
        back = np.asarray(f["isf"](sf, mu, beta))
    rows.append(
        _identity_row("isf(sf(x))", "sf in (0,1)", z[inside], back[inside], x[inside], tol[inside])
    )

    # pdf = d cdf / dx by a five-point stencil on cdf (z <= 0) or on -sf (z > 0), whichever
    # is smaller, so the differences do not cancel. The step is a fixed fraction of the local
    # scale beta / (1 + e), rounded so that x + h is a float (h = 0 where x is too coarse).
    scale = beta / (1.0 + e)
    h = (x + DERIVATIVE_STEP * scale) - x
    left = z <= 0
    with np.errstate(all="ignore"):
        values = [
            np.where(left, f["cdf"](x + k * h, mu, beta), -np.asarray(f["sf"](x + k * h, mu, beta)))
            for k in (-2, -1, 1, 2)
        ]
        derivative = (values[0] - 8.0 * values[1] + 8.0 * values[2] - values[3]) / (12.0 * h)
        smallest = np.min(np.abs(values), axis=0)
        outer = np.where(left, cdf, sf)
        kappa = np.where(
            left, condition("cdf", z, e, cdf, mu, beta), condition("sf", z, e, sf, mu, beta)
        )
        # Relative error bounds: truncation (h/s)^4 |F^(5)| s^4 / (30 pdf) with the bracket
        # <= 1, allowed 10 times over; rounding of the four values (sum of |weights| / 12 =
        # 1.5); rounding of the nodes x + k h, at most half a spacing each.
        truncation = (h / scale) ** 4 / 3.0
        rounding = 1.5 * ULP_FACTOR * EPS * (1.0 + kappa) * np.abs(outer) / (h * pdf)
        nodes = 0.75 * np.spacing(np.abs(x) + 2.0 * h) / h
        tol = (truncation + rounding + nodes) * pdf
    inside = (pdf >= TINY) & (smallest >= TINY) & (h > 0) & np.isfinite(tol)
    rows.append(
        _identity_row(
            "d cdf/dx", "pdf normal", z[inside], derivative[inside], pdf[inside], tol[inside]
        )
    )

    # logpdf = log(pdf): a relative error r of pdf is an absolute error r of its log.
    inside = pdf >= TINY
    with np.errstate(all="ignore"):
        log_pdf = np.log(pdf)
        pdf_error = 1.0 + condition("pdf", z, e, pdf, mu, beta)
        logpdf_error = 1.0 + condition("logpdf", z, e, logpdf, mu, beta)
        tol = EPS * (ULP_FACTOR * (pdf_error + logpdf_error * np.abs(logpdf)) + np.abs(logpdf))
    rows.append(
        _identity_row(
            "log(pdf)",
            "pdf normal",
            z[inside],
            log_pdf[inside],
            logpdf[inside],
            tol[inside],
        )
    )
    return rows


def accuracy_table(
    mu: float = 0.0,
    beta: float = 1.0,
    *,
    functions: Mapping[str, Function] | None = None,
    points: int = GRID_POINTS,
) -> tuple[Accuracy, ...]:
    """Accuracy of the Gumbel functions against the mpmath reference and SciPy.

    Parameters
    ----------
    mu, beta : float
        Location and scale.
    functions : mapping, optional
        Replacements for some of :data:`FUNCTIONS` (``{"sf": my_sf}``), each called as
        ``f(x, mu, beta)``; the rest come from :mod:`gumbelcheck.gumbel`.
    points : int
        Grid points per region.

    Returns
    -------
    tuple of Accuracy
        One row per function and region, then one per identity.
    """
    f = _function_set(functions)
    return tuple(_reference_rows(f, mu, beta, points) + _identity_rows(f, mu, beta, points))


def _function_set(functions: Mapping[str, Function] | None) -> dict[str, Function]:
    replaced = dict(functions or {})
    unknown = sorted(set(replaced) - set(FUNCTIONS))
    if unknown:
        raise InputError(
            f"unknown functions {', '.join(unknown)}; replace some of {', '.join(FUNCTIONS)}"
        )
    return {name: replaced.get(name, getattr(gumbel, name)) for name in FUNCTIONS}


# ---------------------------------------------------------------- sampling


@dataclass(frozen=True, eq=False)
class _SamplingKernel:
    """A block's draws as power sums about the true mean, and the run's first ``keep`` draws.

    A picklable object, so that worker processes receive it by value.
    """

    sampler: Sampler
    mu: float
    beta: float
    center: float
    keep: int

    def __call__(
        self, rng: np.random.Generator, n: int, start: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        draws = np.asarray(self.sampler(rng, n, self.mu, self.beta), dtype=np.float64)
        d = draws - self.center
        d2 = d * d
        sums = np.array([n, d.sum(), d2.sum(), (d2 * d).sum(), (d2 * d2).sum()])
        return sums, draws[: max(0, self.keep - start)]  # the first `keep` draws of the run


def _fold_sampling(
    acc: tuple[NDArray[np.float64], NDArray[np.float64]],
    part: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # The kernel sends only the run's first `keep` draws, so part's are all kept.
    kept = np.concatenate([acc[1], part[1]]) if part[1].size else acc[1]
    return acc[0] + part[0], kept


def sampling_check(
    mu: float,
    beta: float,
    *,
    sampler: Sampler,
    sampler_name: str,
    samples: int,
    seed: int,
    alpha: float,
    block_size: int,
    workers: int,
    progress: Callable[[int], None] | None,
    backend: str | engine.Backend = "local",
) -> SamplingCheck:
    """Draw ``samples`` values with ``sampler`` on the block engine and test them.

    See the module docstring; returns a :class:`SamplingCheck`.
    """
    from scipy import stats

    center = mu + EULER_GAMMA * beta
    variance = math.pi**2 * beta**2 / 6.0
    keep = min(samples, GOF_MAX_DRAWS)

    kernel = _SamplingKernel(sampler, mu, beta, center, keep)

    plan = engine.Plan(samples=samples, block_size=block_size)
    sums, draws = engine.run_blocks(
        plan, seed, kernel, _fold_sampling, workers=workers, backend=backend, progress=progress
    )
    n = samples
    shift = sums[1] / n
    m2 = sums[2] / n - shift**2
    m4 = sums[4] / n - 4 * shift * sums[3] / n + 6 * shift**2 * sums[2] / n - 3 * shift**4
    mean = center + shift
    s2 = m2 * n / (n - 1)
    z_level = float(stats.norm.isf(alpha / 2.0))
    mean_half = z_level * math.sqrt(s2 / n)
    var_half = z_level * math.sqrt(max(m4 - s2 * s2, 0.0) / n)

    model = stats.gumbel_r(loc=mu, scale=beta)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # SciPy's CvM series divides 0 by 0 for very large statistics; the bound below
        # replaces its p-value there.
        warnings.simplefilter("ignore", RuntimeWarning)
        ks = stats.kstest(draws, model.cdf)
        cvm = stats.cramervonmises(draws, model.cdf)
    ks_log_p = ks_log_sf(float(ks.statistic), draws.size, exact=True)
    # W^2 = n int (F_n - F)^2 dF <= n D^2, so P(W^2 >= w) <= P(D >= sqrt(w / n)) exactly:
    # an upper bound that also corrects SciPy's series, which is far too large for big W^2
    # (and is clipped to 0 where it is too small).
    bound = ks_log_sf(math.sqrt(float(cvm.statistic) / draws.size), draws.size, exact=True)
    cvm_log_p = min(math.log(cvm.pvalue), bound) if cvm.pvalue > 0 else bound
    tests = (
        TestResult(
            name="ks",
            statistic=float(ks.statistic),
            df=None,
            pvalue=math.exp(ks_log_p),
            log10_pvalue=ks_log_p / LN10,
        ),
        TestResult(
            name="cramer-von-mises",
            statistic=float(cvm.statistic),
            df=None,
            pvalue=math.exp(cvm_log_p),
            log10_pvalue=cvm_log_p / LN10,
        ),
        normal_test("mean-z", float(shift / math.sqrt(variance / n))),
        normal_test(
            "variance-z",
            float((s2 - variance) / (variance * math.sqrt(2.0 / (n - 1) + EXCESS_KURTOSIS / n))),
        ),
    )
    decisive = min(tests, key=lambda t: t.log10_pvalue)
    log10_p = min(0.0, math.log10(len(tests)) + decisive.log10_pvalue)
    return SamplingCheck(
        sampler=sampler_name,
        samples=n,
        gof_draws=int(draws.size),
        mean=Moment(
            name="mean",
            expected=center,
            estimate=mean,
            ci_low=mean - mean_half,
            ci_high=mean + mean_half,
        ),
        variance=Moment(
            name="variance",
            expected=variance,
            estimate=s2,
            ci_low=s2 - var_half,
            ci_high=s2 + var_half,
        ),
        sd=math.sqrt(s2),
        sd_expected=math.sqrt(variance),
        tests=tests,
        test=decisive.name,
        statistic=decisive.statistic,
        pvalue=10.0**log10_p,
        log10_pvalue=log10_p,
        alpha=alpha,
        ks_distance=float(ks.statistic),
        mean_shift_sd=shift / math.sqrt(variance),
        variance_ratio=s2 / variance,
    )


def dist(
    mu: float | str = 0.0,
    beta: float | str = 1.0,
    *,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    functions: Mapping[str, Function] | None = None,
    sampler: Sampler | None = None,
    points: int = GRID_POINTS,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> DistResult:
    """Check the Gumbel(mu, beta) functions and draws through the inverse CDF.

    Parameters
    ----------
    mu : float or str
        Location (finite).
    beta : float or str
        Scale (finite, > 0).
    samples : int or str
        Number of draws N (``"1M"`` and ``"1e6"`` are accepted); at least 1,000.
    seed : int, optional
        Root seed; fresh entropy (recorded in the provenance) when None.
    alpha : float or str
        Significance level of the sampling tests.
    functions : mapping, optional
        Replacements for some of ``pdf, logpdf, cdf, logcdf, sf, logsf, ppf, isf``, each
        called as ``f(x, mu, beta)``; used to show that a wrong formula fails.
    sampler : callable, optional
        ``sampler(rng, n, mu, beta)`` returning n draws; by default
        :func:`gumbelcheck.gumbel.sample`, gumbelcheck's ppf(U) with U on (0, 1). Replace it
        to show that a wrong sampler fails.
    points : int
        Grid points per accuracy region.
    block_size : int, optional
        Draws per block (default 2**19); part of the reproducibility contract.
    workers : int, optional
        Worker processes; all cores by default. The result does not depend on it.
    scheduler : str, optional
        Run the blocks on a Dask cluster: its scheduler's address (``tcp://host:8786``) or
        ``local:N`` (N local worker processes); by default the ``GUMBELCHECK_SCHEDULER``
        environment variable, or this machine. The result does not depend on it.
    progress : callable, optional
        Called with the number of draws finished after each block.

    Returns
    -------
    DistResult

    Examples
    --------
    >>> from gumbelcheck.checks.dist import dist
    >>> result = dist(0.0, 1.0, samples=100_000, seed=1)
    >>> result.verdict
    'PASS'
    """
    return prepare(
        mu,
        beta,
        samples=samples,
        seed=seed,
        alpha=alpha,
        functions=functions,
        sampler=sampler,
        points=points,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


def prepare(
    mu: float | str = 0.0,
    beta: float | str = 1.0,
    *,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    functions: Mapping[str, Function] | None = None,
    sampler: Sampler | None = None,
    points: int = GRID_POINTS,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[DistResult]:
    """Validate the input of :func:`dist` (parameters as there) and return it ready to run;
    raises InputError, before any work, on anything invalid."""
    location, scale = _parameters(mu, beta)
    config = RunConfig.create(
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
        min_samples=MIN_SAMPLES,
    )
    config.check_memory(32, engine.default_block_size(1))
    _function_set(functions)
    return Prepared(
        samples=config.samples,
        run=partial(run, location, scale, functions, sampler, points, config),
    )


#: Largest |mu| and beta, smallest beta: the grids x = mu + beta z (|z| up to about 750), the
#: moments (beta^2) and their references stay finite and normal in float64.
MAX_LOCATION, MAX_SCALE, MIN_SCALE = 1e100, 1e100, 1e-100

#: beta must be at least this many units in the last place of mu, so that x = mu + beta z
#: resolves z to about six digits.
MIN_SCALE_ULPS = 2**20


def _parameters(mu: float | str, beta: float | str) -> tuple[float, float]:
    """Validated (mu, beta): finite, in range, and beta resolvable next to mu."""
    location = parse_real(mu, "`mu`")
    scale = parse_real(beta, "`beta`", positive=True)
    if abs(location) > MAX_LOCATION:
        raise InputError(f"`mu` {location:g} is beyond +-{MAX_LOCATION:g}; use a smaller |mu|")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise InputError(
            f"`beta` {scale:g} is outside [{MIN_SCALE:g}, {MAX_SCALE:g}]; use a scale in range"
        )
    resolvable = MIN_SCALE_ULPS * math.ulp(location)
    if scale < resolvable:
        raise InputError(
            f"`beta` {scale:g} is too small next to `mu` {location:g}: x = mu + beta z cannot "
            f"resolve z in float64 below beta = {resolvable:.3g} (2**20 ulp of mu); use a "
            "larger beta or shift mu towards 0"
        )
    return location, scale


def run(
    mu: float,
    beta: float,
    functions: Mapping[str, Function] | None,
    sampler: Sampler | None,
    points: int,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> DistResult:
    """Run the dist check on validated input (see :func:`prepare`)."""
    size = config.plan(engine.default_block_size(1)).block_size
    draw = gumbel.sample if sampler is None else sampler
    name = "gumbel.sample" if sampler is None else getattr(sampler, "__name__", repr(sampler))
    replaced = sorted(functions or {})
    label = "gumbelcheck.gumbel" + (f" with {', '.join(replaced)} replaced" if replaced else "")
    accuracy = accuracy_table(mu, beta, functions=functions, points=points)
    sampling = sampling_check(
        mu,
        beta,
        sampler=draw,
        sampler_name=name,
        samples=config.samples,
        seed=config.seed,
        alpha=config.alpha,
        block_size=size,
        workers=config.workers,
        progress=progress,
        backend=config.backend,
    )
    return DistResult(
        mu=mu,
        beta=beta,
        functions=label,
        ulp_factor=ULP_FACTOR,
        accuracy=accuracy,
        sampling=sampling,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=size,
            noise=name,
        ),
    )
