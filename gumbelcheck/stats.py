"""Goodness-of-fit machinery for categorical counts.

The decision rule, in order:

``single-category``
    Only one category has positive probability: no test, every draw must land there.
``cochran``
    Cochran's rule holds (every expected count >= 5, or every one >= 1 with at most 20 %
    below 5): Pearson's chi-square over the full support (categories never drawn included)
    decides; the G-test is reported beside it.
``exact-multinomial``
    Cochran's rule fails and N < 10,000 (or no expected count reaches 5): a Monte Carlo
    exact multinomial test, the null distribution of Pearson's statistic simulated from
    seeded multinomial draws; p = (1 + #{X2* >= X2}) / (1 + R), R = 100,000 (10,000 to
    100,000 once k exceeds 100, see :func:`multinomial_replicates`).
``rare-bins-binomial``
    Cochran's rule fails at larger N because some categories are rare: every rare bin
    (expected count < 5) gets an exact two-sided binomial test of its own, and Pearson's
    chi-square covers the common bins (with the rare ones pooled into one bin when their
    expected total reaches 5, otherwise conditionally on the common bins' total). The check's
    p-value is the Bonferroni-adjusted minimum of these, so rare categories are tested
    individually instead of being hidden in a pool.

Draws on a zero-probability category are a hard failure under every rule.
p-values that underflow float64 keep an exact log10 (see :func:`log_chi2_sf`).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.engine import block_generator


class _Lazy:
    """A module imported on first use: scipy.special costs 0.2 s to import, which worker
    processes (they only run kernels) need not pay. (scipy.stats is avoided altogether where
    it can be: its import alone costs 0.6 s of every run.)"""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self._name)
        return getattr(module, attribute)


special = _Lazy("scipy.special")

LN10 = math.log(10.0)

#: Below this natural-log p-value scipy's tails lose accuracy; exact fallbacks take over.
_LOG_UNDERFLOW = -600.0

#: Below this N, when Cochran's rule fails, the exact multinomial test decides.
MULTINOMIAL_MAX_N = 10_000

#: Replicates of the Monte Carlo exact multinomial test (fewer for many categories, see
#: :func:`multinomial_replicates`).
MULTINOMIAL_REPLICATES = 100_000


def multinomial_replicates(k: int) -> int:
    """Replicates for k categories: 100,000, down to 10,000 once k exceeds 100.

    Keeps the test's cost near 10^7 simulated counts; the p-value stays valid for any number
    of replicates, its resolution is 1 / (R + 1).
    """
    return max(10_000, min(MULTINOMIAL_REPLICATES, 10**7 // k))


#: spawn_key of the generator used by the Monte Carlo test (beyond any block index).
STATS_STREAM = 2**63


@dataclass(frozen=True, kw_only=True)
class TestResult:
    """One hypothesis test.

    Attributes
    ----------
    name : str
        Which test (``pearson-chi2``, ``g-test``, ``exact-binomial[i]``, ...).
    statistic : float
        The test statistic (the observed count for binomial tests).
    df : int or None
        Degrees of freedom for chi-square tests.
    pvalue : float
        The p-value; may underflow to 0.
    log10_pvalue : float
        log10 of the p-value, exact also where ``pvalue`` underflows.
    """

    name: str
    statistic: float
    df: int | None
    pvalue: float
    log10_pvalue: float


@dataclass(frozen=True, kw_only=True, eq=False)
class CategoricalGof:
    """Goodness of fit of categorical counts to a probability vector.

    Attributes
    ----------
    rule : str
        Which decision rule applied (see the module docstring).
    test : str
        Name of the deciding test.
    statistic, df, pvalue, log10_pvalue
        Of the deciding test; under ``rare-bins-binomial`` the p-value is Bonferroni-adjusted
        over all its tests and the statistic is the coarse Pearson statistic.
    alpha : float
        Significance level.
    passed : bool
        False when the p-value is below alpha or a zero-probability category was drawn.
    reason : str
        Why the check failed (empty when it passed).
    tests : tuple of TestResult
        Every test computed.
    expected, residual, fraction, fraction_low, fraction_high, bin_pvalue : ndarray
        Per category: expected count, standardized residual (O - E) / sqrt(E (1 - p)),
        observed fraction with its 99 % Wilson interval, exact binomial p-value of the bin
        (NaN for bins not tested on their own).
    bin_test : tuple of str
        Per category: ``chi2``, ``binomial``, ``multinomial``, ``zero-probability`` or ``none``.
    tv_distance : float
        Total-variation distance 0.5 * sum |O/N - pi|.
    cohen_w : float
        Cohen's w = sqrt(sum over the support of (O/N - pi)^2 / pi).
    zero_probability_draws : int
        Draws that landed on categories of probability 0.
    outside_draws : int
        Draws that landed outside the categories 0..k-1 (a user sampler's out-of-range
        indices); like zero-probability draws, a failure whatever the p-value.
    mde_w, mde_tv : float
        Minimum detectable effect at this N and alpha with power 0.9 (noncentral chi-square
        over the support's df): Cohen's w, and the total-variation distance w / 2 that any
        deviation at least that large is guaranteed to reach.
    """

    rule: str
    test: str
    statistic: float
    df: int | None
    pvalue: float
    log10_pvalue: float
    alpha: float
    passed: bool
    reason: str
    tests: tuple[TestResult, ...]
    expected: NDArray[np.float64]
    residual: NDArray[np.float64]
    fraction: NDArray[np.float64]
    fraction_low: NDArray[np.float64]
    fraction_high: NDArray[np.float64]
    bin_pvalue: NDArray[np.float64]
    bin_test: tuple[str, ...]
    tv_distance: float
    cohen_w: float
    zero_probability_draws: int
    mde_w: float
    mde_tv: float
    outside_draws: int = 0


def log_chi2_sf(x: float, df: int) -> float:
    """Natural log of the chi-square survival function, exact where sf underflows.

    scipy's chi-square tail (``chdtrc``, also behind ``chi2.logsf``) underflows to 0 near
    x ~ 1500 for small df; below 1e-260 the regularized upper incomplete gamma Q(df/2, x/2)
    is evaluated with mpmath instead, whose exponent range is unbounded.
    """
    if x <= 0:
        return 0.0
    sf = float(special.chdtrc(df, x))
    if sf > math.exp(_LOG_UNDERFLOW):
        return math.log(sf)
    import mpmath

    return float(mpmath.log(mpmath.gammainc(df / 2, x / 2, mpmath.inf, regularized=True)))


#: From this many draws on, :func:`ks_log_sf` uses the asymptotic form by default.
KS_ASYMPTOTIC_N = 10_000


def ks_log_sf(d: float, n: int, *, exact: bool | None = None) -> float:
    """Natural log of the one-sample Kolmogorov-Smirnov p-value P(D_n >= d).

    Exact (``scipy.stats.kstwo``) when ``exact`` is true, or by default for
    n < :data:`KS_ASYMPTOTIC_N`. Otherwise Kolmogorov's limit law at Stephens' modified
    statistic d (sqrt(n) + 0.12 + 0.11 / sqrt(n)), from scipy.special alone (scipy.stats costs
    0.5 s to import): within 2.5 % of the exact p-value down to p = 1e-8 for n >= 10,000.
    Where the p-value underflows, the Dvoretzky-Kiefer-Wolfowitz-Massart bound
    ln 2 - 2 n d^2 takes over.
    """
    if exact is None:
        exact = n < KS_ASYMPTOTIC_N
    with np.errstate(all="ignore"):
        if exact:
            from scipy import stats

            log_p = float(stats.kstwo.logsf(d, n))
        else:
            root = math.sqrt(n)
            log_p = float(np.log(special.kolmogorov(d * (root + 0.12 + 0.11 / root))))
    if not math.isfinite(log_p):
        log_p = math.log(2.0) - 2.0 * n * d * d
    return min(0.0, log_p)


def log_binom_tail(x: int, n: int, p: float, *, upper: bool) -> float:
    """Natural log of P(X >= x) (``upper``) or P(X <= x) for X ~ Binomial(n, p).

    Uses scipy where its value is a normal float and otherwise sums the tail in log space
    from the pmf at ``x`` (ratios of consecutive terms), which converges fast exactly there.
    """
    if upper and x <= 0:
        return 0.0
    if not upper and x >= n:
        return 0.0
    tail = float(special.bdtrc(x - 1, n, p) if upper else special.bdtr(x, n, p))
    if tail > math.exp(_LOG_UNDERFLOW):
        return math.log(tail)
    if (upper and x > n) or (not upper and x < 0):
        return -math.inf
    odds = p / (1.0 - p)
    term, total, j = 1.0, 1.0, 0
    while term > 1e-17 * total:
        if upper:
            if x + j >= n:
                break
            term *= (n - x - j) / (x + j + 1) * odds
        else:
            if x - j <= 0:
                break
            term *= (x - j) / (n - x + j + 1) / odds
        total += term
        j += 1
    return _binom_logpmf(x, n, p) + math.log(total)


def _binom_logpmf(x: int, n: int, p: float) -> float:
    """log P(X = x) for X ~ Binomial(n, p)."""
    log_choose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    return float(log_choose + special.xlogy(x, p) + special.xlog1py(n - x, -p))


def binomial_test(x: int, n: int, p: float) -> tuple[float, float]:
    """Exact two-sided binomial test, doubling the smaller tail; returns (p, log10 p)."""
    log_tail = min(log_binom_tail(x, n, p, upper=False), log_binom_tail(x, n, p, upper=True))
    log_p = min(0.0, math.log(2.0) + log_tail)
    return math.exp(log_p), log_p / LN10


def wilson_interval(
    count: NDArray[np.int64], n: int, confidence: float = 0.99
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for binomial proportions ``count / n``."""
    z = float(-special.ndtri((1.0 - confidence) / 2.0))
    phat = count / n
    denominator = 1.0 + z * z / n
    center = (phat + z * z / (2 * n)) / denominator
    half = z * np.sqrt(phat * (1.0 - phat) / n + z * z / (4.0 * n * n)) / denominator
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def pearson_statistic(observed: NDArray[np.int64], expected: NDArray[np.float64]) -> float:
    """Pearson's X^2 = sum (O - E)^2 / E."""
    return float(np.sum((observed - expected) ** 2 / expected))


def g_statistic(observed: NDArray[np.int64], expected: NDArray[np.float64]) -> float:
    """The likelihood-ratio statistic G = 2 sum O ln(O / E), with 0 ln 0 = 0."""
    return float(2.0 * np.sum(special.xlogy(observed, observed / expected)))


def chi2_test(name: str, statistic: float, df: int) -> TestResult:
    """A chi-square test result with an exact log10 p-value."""
    log_p = log_chi2_sf(statistic, df)
    return TestResult(
        name=name, statistic=statistic, df=df, pvalue=math.exp(log_p), log10_pvalue=log_p / LN10
    )


def power(w: float, df: int, n: int, alpha: float) -> float:
    """Power of the chi-square test against a deviation of Cohen's w at N = n.

    The statistic is noncentral chi-square with noncentrality lambda = n w^2 under the
    alternative: power = P(chi2'(df, lambda) > chi2.isf(alpha, df)).
    """
    critical = special.chdtri(df, alpha)
    return float(1.0 - special.chndtr(critical, df, n * w * w))


def detectable_noncentrality(df: int, alpha: float, target_power: float = 0.9) -> float:
    """The noncentrality lambda* at which the chi-square test reaches ``target_power``."""
    return float(special.chndtrinc(special.chdtri(df, alpha), df, 1.0 - target_power))


def minimum_detectable_w(n: int, df: int, alpha: float, target_power: float = 0.9) -> float:
    """Smallest Cohen's w the test catches with probability ``target_power`` at N = n.

    Any deviation with total-variation distance TV has w >= 2 TV (Cauchy-Schwarz), so every
    deviation with TV >= w* / 2 is caught at least as often: the guaranteed detectable TV.
    """
    if df < 1:
        return math.nan
    return math.sqrt(detectable_noncentrality(df, alpha, target_power) / n)


#: Power at which minimum detectable effects are reported.
TARGET_POWER = 0.9


def ks_detectable_distance(n: int, alpha: float, target_power: float = TARGET_POWER) -> float:
    """A distance D* such that the KS test at level ``alpha`` on ``n`` draws rejects every law
    whose cdf is at least D* from the null's somewhere, with probability >= ``target_power``.

    By the Dvoretzky-Kiefer-Wolfowitz inequality P(sup |F_n - F| > e) <= 2 exp(-2 n e^2),
    the KS critical value is at most c = sqrt(ln(2 / alpha) / (2 n)), and the empirical cdf
    strays from the true one by more than e = sqrt(ln(2 / (1 - power)) / (2 n)) with
    probability at most 1 - power; D* = c + e is therefore a guaranteed (conservative) bound.
    """
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n)) + math.sqrt(
        math.log(2.0 / (1.0 - target_power)) / (2.0 * n)
    )


def cochran_holds(expected: NDArray[np.float64]) -> bool:
    """Cochran's rule: all expected >= 5, or all >= 1 with at most 20 % below 5."""
    if np.all(expected >= 5):
        return True
    return bool(np.all(expected >= 1) and np.mean(expected < 5) <= 0.2)


def multinomial_mc_test(
    observed: NDArray[np.int64],
    p: NDArray[np.float64],
    seed: int,
    replicates: int | None = None,
) -> TestResult:
    """Monte Carlo exact multinomial test with Pearson's statistic (seeded, reproducible)."""
    n = int(observed.sum())
    expected = n * p
    x2 = pearson_statistic(observed, expected)
    replicates = replicates or multinomial_replicates(p.size)
    rng = block_generator(seed, STATS_STREAM)
    at_least = 0
    batch = max(1, min(replicates, 2**22 // p.size))
    done = 0
    while done < replicates:
        size = min(batch, replicates - done)
        sims = rng.multinomial(n, p, size=size)
        x2_sim = np.sum((sims - expected) ** 2 / expected, axis=1)
        at_least += int(np.count_nonzero(x2_sim >= x2 * (1.0 - 1e-12)))
        done += size
    pvalue = (1 + at_least) / (1 + replicates)
    return TestResult(
        name="exact-multinomial-mc",
        statistic=x2,
        df=None,
        pvalue=pvalue,
        log10_pvalue=math.log10(pvalue),
    )


def categorical_gof(
    counts: NDArray[np.int64],
    p: NDArray[np.float64],
    *,
    alpha: float,
    seed: int,
    outside: int = 0,
) -> CategoricalGof:
    """Test counts of N draws against Categorical(p) over the full support.

    Parameters
    ----------
    counts : ndarray of int
        Draws per category, zero-probability categories included.
    outside : int
        Draws that fell outside the categories (indices < 0 or >= k): a failure whatever the
        counts say; the test itself uses the draws inside.
    p : ndarray
        Category probabilities summing to 1.
    alpha : float
        Significance level.
    seed : int
        Seed for the Monte Carlo exact test (used only under the ``exact-multinomial`` rule).

    Returns
    -------
    CategoricalGof
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    k = p.size
    support = p > 0
    expected = n * p
    zero_draws = int(counts[~support].sum())
    fraction = counts / n
    low, high = wilson_interval(counts, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(
            support & (p < 1), (counts - expected) / np.sqrt(expected * (1.0 - p)), np.nan
        )
    bin_pvalue = np.full(k, np.nan)
    bin_test = np.where(support, "chi2", "zero-probability").astype(object)
    o, e, ps = counts[support], expected[support], p[support]
    tests: list[TestResult] = []

    if support.sum() == 1:
        rule = "single-category"
        bin_test[support] = "none"
        # Nothing to test: the only verdict is whether every draw landed in the support.
        decision = TestResult(
            name="none", statistic=math.nan, df=None, pvalue=1.0, log10_pvalue=0.0
        )
    elif cochran_holds(e):
        rule = "cochran"
        df = int(support.sum()) - 1
        decision = chi2_test("pearson-chi2", pearson_statistic(o, e), df)
        tests = [decision, chi2_test("g-test", g_statistic(o, e), df)]
    elif n < MULTINOMIAL_MAX_N or np.all(e < 5):
        rule = "exact-multinomial"
        bin_test[support] = "multinomial"
        decision = multinomial_mc_test(o, ps / ps.sum(), seed)
        tests = [decision]
    else:
        rule = "rare-bins-binomial"
        decision, tests = _rare_bins(counts, p, support, e < 5, bin_pvalue, bin_test)

    reasons = []
    if outside:
        reasons.append(f"{outside} draws outside the categories 0..{k - 1}")
    if zero_draws:
        reasons.append(f"{zero_draws} draws on zero-probability categories")
    if decision.log10_pvalue < math.log10(alpha):
        reasons.append(f"{decision.name} p = {_fmt_p(decision)} < alpha = {alpha:g}")
    with np.errstate(divide="ignore", invalid="ignore"):
        cohen_w = float(np.sqrt(np.sum((fraction[support] - ps) ** 2 / ps)))
    return CategoricalGof(
        rule=rule,
        test=decision.name,
        statistic=decision.statistic,
        df=decision.df,
        pvalue=decision.pvalue,
        log10_pvalue=decision.log10_pvalue,
        alpha=alpha,
        passed=not reasons,
        reason="; ".join(reasons),
        tests=tuple(tests) if tests else (decision,),
        expected=expected,
        residual=residual,
        fraction=fraction,
        fraction_low=low,
        fraction_high=high,
        bin_pvalue=bin_pvalue,
        bin_test=tuple(str(t) for t in bin_test),
        tv_distance=float(0.5 * np.sum(np.abs(fraction - p))),
        cohen_w=cohen_w,
        zero_probability_draws=zero_draws,
        mde_w=(mde := minimum_detectable_w(n, int(support.sum()) - 1, alpha, TARGET_POWER)),
        mde_tv=mde / 2,
        outside_draws=int(outside),
    )


def _rare_bins(
    counts: NDArray[np.int64],
    p: NDArray[np.float64],
    support: NDArray[np.bool_],
    rare: NDArray[np.bool_],
    bin_pvalue: NDArray[np.float64],
    bin_test: NDArray[np.object_],
) -> tuple[TestResult, list[TestResult]]:
    """Chi-square over the common bins, an exact binomial test for every rare bin.

    The coarse chi-square pools the rare bins into one when their expected total reaches 5;
    otherwise it tests the common bins conditionally on their total. Fills ``bin_pvalue`` and
    ``bin_test`` for the rare bins and returns the Bonferroni-combined decision.
    """
    n = int(counts.sum())
    o, e = counts[support], n * p[support]
    tests: list[TestResult] = []
    if e[rare].sum() >= 5:
        o_coarse = np.append(o[~rare], o[rare].sum())
        e_coarse = np.append(e[~rare], e[rare].sum())
        suffix = "common+pooled"
    else:
        o_coarse = o[~rare]
        e_coarse = e[~rare] * (o_coarse.sum() / e[~rare].sum())
        suffix = "common|total"
    df = o_coarse.size - 1
    if df >= 1:
        x2 = pearson_statistic(o_coarse, e_coarse)
        tests.append(chi2_test(f"pearson-chi2[{suffix}]", x2, df))
        tests.append(chi2_test(f"g-test[{suffix}]", g_statistic(o_coarse, e_coarse), df))
    log10_ps = [tests[0].log10_pvalue] if tests else []
    for i in np.flatnonzero(support)[rare]:
        pv, log10_pv = binomial_test(int(counts[i]), n, float(p[i]))
        tests.append(
            TestResult(
                name=f"exact-binomial[{i}]",
                statistic=float(counts[i]),
                df=None,
                pvalue=pv,
                log10_pvalue=log10_pv,
            )
        )
        bin_pvalue[i] = pv
        bin_test[i] = "binomial"
        log10_ps.append(log10_pv)
    log10_adj = min(0.0, min(log10_ps) + math.log10(len(log10_ps)))
    decision = TestResult(
        name=f"bonferroni({len(log10_ps)} tests)",
        statistic=tests[0].statistic if df >= 1 else math.nan,
        df=df if df >= 1 else None,
        pvalue=10.0**log10_adj,
        log10_pvalue=log10_adj,
    )
    return decision, tests


def _fmt_p(test: TestResult) -> str:
    if test.pvalue > 0:
        return f"{test.pvalue:.3g}"
    return f"10^{test.log10_pvalue:.1f}"


def holm(log10_pvalues: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values, in log10 (exact also where p underflows).

    The r-th smallest of m p-values (r = 0, 1, ...) is multiplied by (m - r), then a running
    maximum keeps the adjusted values monotone; capped at 1 (log10 0). Valid under any
    dependence between the tests. A NaN p-value (a test that could not be computed) counts as
    the strongest rejection.
    """
    log_p = np.asarray(log10_pvalues, dtype=np.float64)
    log_p = np.where(np.isnan(log_p), -np.inf, log_p)
    m = log_p.size
    order = np.argsort(log_p, kind="stable")
    scaled = np.minimum(0.0, log_p[order] + np.log10(m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled) if m else scaled
    return adjusted


def holm_reject(log10_pvalues: NDArray[np.float64], alpha: float) -> NDArray[np.bool_]:
    """Which hypotheses Holm's procedure rejects at family-wise level ``alpha``."""
    return holm(log10_pvalues) < math.log10(alpha)


def normal_test(name: str, statistic: float) -> TestResult:
    """Two-sided z test with an exact log10 p-value."""
    from scipy import stats  # lazily: importing scipy.stats costs 0.6 s

    log_p = min(0.0, math.log(2.0) + float(stats.norm.logsf(abs(statistic))))
    return TestResult(
        name=name, statistic=statistic, df=None, pvalue=math.exp(log_p), log10_pvalue=log_p / LN10
    )


def ks_logistic(values: NDArray[np.float64]) -> tuple[float, float, float]:
    """KS test against Logistic(0, 1): statistic, p-value, log10 p-value.

    The p-value is :func:`gumbelcheck.stats.ks_log_sf`'s: exact below
    :data:`~gumbelcheck.stats.KS_ASYMPTOTIC_N` draws, Stephens' asymptotic form from there on
    (within 1.3 % at the n = 32,768 draws of a large run), the DKW bound where it underflows.
    """
    if not np.isfinite(values).all():
        return math.nan, math.nan, math.nan
    n = values.size
    cdf = special.expit(np.sort(values))
    steps = np.arange(n + 1) / n
    d = float(max((steps[1:] - cdf).max(), (cdf - steps[:-1]).max()))
    log_p = ks_log_sf(d, n)
    return d, math.exp(log_p), log_p / LN10


def jackknife_mean_bias(
    group_n: NDArray[np.int64], group_sum: NDArray[np.float64], p: NDArray[np.float64]
) -> tuple[float, float]:
    """0.5 sum |mean - p| of vectors summed in groups, and its delete-a-group jackknife
    standard error.

    ``group_n`` holds the number of vectors per group, ``group_sum`` (groups x k) their
    sums; empty groups are skipped. The jackknife needs no sign choice for the absolute
    values, which a delta method would.
    """
    used = group_n > 0
    sizes, sums = group_n[used], group_sum[used]
    total = sums.sum(axis=0)
    bias = 0.5 * float(np.abs(total / sizes.sum() - p).sum())
    g = sizes.size
    leave_out = (total - sums) / (sizes.sum() - sizes)[:, None]
    estimates = 0.5 * np.abs(leave_out - p).sum(axis=1)
    se = math.sqrt((g - 1) / g * float(np.square(estimates - estimates.mean()).sum()))
    return bias, se


def binomial_power(n: int, p0: float, q: float, alpha: float) -> float:
    """Exact power of the two-sided binomial test of one rare bin (p0) when it has mass q.

    The rejection region {x : binomial_test(x, n, p0) < alpha} is x <= a or x >= b; b is
    found by stepping up from the mean and a by stepping down (n p0 < 5 under this rule, so
    both are a few steps away).
    """
    log_alpha = math.log10(alpha)
    mean = n * p0
    b = math.ceil(mean)
    while binomial_test(b, n, p0)[1] >= log_alpha:
        b += 1
    power = math.exp(log_binom_tail(b, n, q, upper=True))
    a = math.floor(mean)
    while a >= 0 and binomial_test(a, n, p0)[1] >= log_alpha:
        a -= 1
    if a >= 0:
        power += math.exp(log_binom_tail(a, n, q, upper=False))
    return power
