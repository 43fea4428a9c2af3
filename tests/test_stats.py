"""Statistics: exact tails where p underflows, the decision rules, effect sizes."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from scipy import stats

from gumbelcheck.stats import (
    KS_ASYMPTOTIC_N,
    binomial_test,
    categorical_gof,
    cochran_holds,
    g_statistic,
    ks_log_sf,
    log_binom_tail,
    log_chi2_sf,
    multinomial_mc_test,
    pearson_statistic,
    wilson_interval,
)


@pytest.mark.parametrize("x", [10.0, 1e3, 1e4, 1e6, 1e9])
def test_log_chi2_sf_is_exact_for_two_degrees_of_freedom(x: float) -> None:
    # For df = 2 the survival function is exp(-x/2) exactly.
    assert log_chi2_sf(x, 2) == pytest.approx(-x / 2, rel=1e-12)


@pytest.mark.parametrize(("x", "df"), [(5e3, 7), (2e4, 48), (1e5, 1)])
def test_log_chi2_sf_matches_high_precision_where_scipy_underflows(x: float, df: int) -> None:
    assert stats.chi2.sf(x, df) == 0.0
    with mpmath.workdps(40):
        reference = float(
            mpmath.log(mpmath.gammainc(mpmath.mpf(df) / 2, x / 2, mpmath.inf, regularized=True))
        )
    assert log_chi2_sf(x, df) == pytest.approx(reference, rel=1e-10)


def _mp_binom_tail(x: int, n: int, p: float, upper: bool) -> float:
    with mpmath.workdps(50):
        ks = range(x, n + 1) if upper else range(x + 1)
        total = mpmath.fsum(
            mpmath.binomial(n, k) * mpmath.mpf(p) ** k * (1 - mpmath.mpf(p)) ** (n - k) for k in ks
        )
        return float(mpmath.log(total))


@pytest.mark.parametrize(
    ("x", "n", "p", "upper"),
    [(400, 1000, 0.001, True), (3, 2000, 0.5, False), (10, 100, 0.3, True), (20, 100, 0.3, False)],
)
def test_log_binomial_tails_match_exact_sums(x: int, n: int, p: float, upper: bool) -> None:
    assert log_binom_tail(x, n, p, upper=upper) == pytest.approx(
        _mp_binom_tail(x, n, p, upper), rel=1e-9
    )


def test_binomial_test_doubles_the_smaller_tail() -> None:
    pvalue, log10_p = binomial_test(3, 1000, 0.001)
    expected = 2 * stats.binom.sf(2, 1000, 0.001)
    assert pvalue == pytest.approx(expected, rel=1e-10)
    assert log10_p == pytest.approx(math.log10(expected), rel=1e-10)
    assert binomial_test(1, 1000, 0.001)[0] == 1.0


def test_wilson_interval_known_value() -> None:
    low, high = wilson_interval(np.array([50, 0]), 100)
    assert low[0] == pytest.approx(0.37529, abs=1e-4)
    assert high[0] == pytest.approx(0.62471, abs=1e-4)
    assert low[1] == 0.0
    assert 0.0 < high[1] < 0.07


def test_statistics_agree_with_scipy() -> None:
    observed = np.array([12, 30, 58])
    expected = np.array([10.0, 30.0, 60.0])
    assert pearson_statistic(observed, expected) == pytest.approx(
        stats.chisquare(observed, expected).statistic
    )
    g = stats.power_divergence(observed, expected, lambda_="log-likelihood").statistic
    assert g_statistic(observed, expected) == pytest.approx(g)


@pytest.mark.parametrize(
    ("expected", "holds"),
    [
        ([5, 5, 90], True),
        ([4.9, 5, 90.1], False),
        ([1, 5, 5, 5, 84], True),
        ([1, 1, 5, 5, 88], False),
    ],
)
def test_cochran_rule(expected: list[float], holds: bool) -> None:
    assert cochran_holds(np.array(expected)) is holds


def _exact_multinomial_pvalue(observed: np.ndarray, p: np.ndarray) -> float:
    n, k = int(observed.sum()), p.size
    x2 = pearson_statistic(observed, n * p)
    total = 0.0
    for counts in itertools.product(range(n + 1), repeat=k - 1):
        if sum(counts) > n:
            continue
        full = np.array([*counts, n - sum(counts)])
        if pearson_statistic(full, n * p) >= x2 - 1e-12:
            total += stats.multinomial.pmf(full, n, p)
    return total


def test_monte_carlo_multinomial_test_matches_full_enumeration() -> None:
    p = np.array([0.5, 0.3, 0.2])
    observed = np.array([1, 1, 4])
    exact = _exact_multinomial_pvalue(observed, p)
    result = multinomial_mc_test(observed, p, seed=1)
    se = math.sqrt(exact * (1 - exact) / 100_000)
    assert abs(result.pvalue - exact) < 4 * se


def test_rule_selection() -> None:
    p = np.array([0.5, 0.5 - 1e-7, 1e-7])
    assert categorical_gof(np.array([10, 10, 0]), p, alpha=0.01, seed=0).rule == "exact-multinomial"
    rare = categorical_gof(np.array([5_000_000, 4_999_999, 1]), p, alpha=0.01, seed=0)
    assert rare.rule == "rare-bins-binomial"
    assert rare.bin_test == ("chi2", "chi2", "binomial")
    common = categorical_gof(np.array([300, 700]), np.array([0.3, 0.7]), alpha=0.01, seed=0)
    assert common.rule == "cochran"
    assert [t.name for t in common.tests] == ["pearson-chi2", "g-test"]
    single = categorical_gof(np.array([0, 100]), np.array([0.0, 1.0]), alpha=0.01, seed=0)
    assert single.rule == "single-category"
    assert single.passed


def test_rare_bin_excess_fails_with_an_exact_log10_pvalue() -> None:
    p = np.array([0.5, 0.5 - 1e-7, 1e-7])
    result = categorical_gof(np.array([4_999_000, 4_999_000, 2000]), p, alpha=0.01, seed=0)
    assert result.rule == "rare-bins-binomial"
    assert not result.passed
    assert result.pvalue == 0.0
    # log P(X >= 2000) for Poisson(1) is about -(2000 ln 2000 - 2000 - 1) - 0.5 ln(2 pi 2000)
    assert -5800 < result.log10_pvalue < -5700


def test_zero_probability_draws_fail_even_when_the_test_passes() -> None:
    result = categorical_gof(
        np.array([3000, 1, 7000]), np.array([0.3, 0.0, 0.7]), alpha=0.01, seed=0
    )
    assert not result.passed
    assert result.zero_probability_draws == 1
    assert "zero-probability" in result.reason


def test_huge_statistic_keeps_an_exact_log10_pvalue() -> None:
    p = np.full(3, 1 / 3)
    result = categorical_gof(np.array([10**6, 0, 0]), p, alpha=0.01, seed=0)
    assert result.pvalue == 0.0
    assert result.log10_pvalue == pytest.approx(-result.statistic / 2 / math.log(10), rel=1e-12)


def test_effect_sizes() -> None:
    result = categorical_gof(
        np.array([150, 250, 600]), np.array([0.1, 0.2, 0.7]), alpha=0.01, seed=0
    )
    assert result.tv_distance == pytest.approx(0.1)
    assert result.cohen_w == pytest.approx(math.sqrt(0.05**2 / 0.1 + 0.05**2 / 0.2 + 0.1**2 / 0.7))


@pytest.mark.parametrize("n", [10_000, 32_768, 1_000_000])
def test_ks_asymptotic_pvalue_stays_within_2_5_percent_of_the_exact_one(n: int) -> None:
    for p in (0.5, 0.05, 1e-3, 1e-5, 1e-8):
        d = float(stats.kstwo.isf(p, n))
        asymptotic = math.exp(ks_log_sf(d, n, exact=False))
        assert asymptotic == pytest.approx(p, rel=0.025)
        assert ks_log_sf(d, n, exact=True) == pytest.approx(math.log(p), rel=1e-6)  # isf round trip
    # The default picks the exact form below KS_ASYMPTOTIC_N draws.
    d = float(stats.kstwo.isf(0.01, KS_ASYMPTOTIC_N - 1))
    assert ks_log_sf(d, KS_ASYMPTOTIC_N - 1) == ks_log_sf(d, KS_ASYMPTOTIC_N - 1, exact=True)


@pytest.mark.parametrize("exact", [True, False])
def test_ks_pvalue_falls_back_to_the_dkw_bound_where_it_underflows(exact: bool) -> None:
    n, d = 100_000, 0.2  # p ~ exp(-8000)
    assert ks_log_sf(d, n, exact=exact) == pytest.approx(math.log(2.0) - 2.0 * n * d * d)
    assert ks_log_sf(0.0, n, exact=exact) == 0.0
