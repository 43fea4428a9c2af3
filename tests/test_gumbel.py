"""The Gumbel functions: identities, known values, independent tail references, edge cases."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from gumbelcheck import gumbel
from gumbelcheck.engine import block_generator

EPS = float(np.finfo(np.float64).eps)

z_values = st.floats(min_value=-6.0, max_value=30.0, allow_nan=False)
locations = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)
scales = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
probabilities = st.floats(min_value=1e-300, max_value=1.0, exclude_max=True)


@settings(max_examples=300)
@given(z=z_values, mu=locations, beta=scales)
def test_cdf_plus_sf_is_one(z: float, mu: float, beta: float) -> None:
    x = mu + beta * z
    total = gumbel.cdf(x, mu, beta) + gumbel.sf(x, mu, beta)
    assert total == pytest.approx(1.0, abs=4 * EPS)


@settings(max_examples=300)
@given(z=z_values, mu=locations, beta=scales)
def test_logs_are_the_logs_where_the_values_are_normal(z: float, mu: float, beta: float) -> None:
    x = mu + beta * z
    for value, log_value in (
        (gumbel.pdf(x, mu, beta), gumbel.logpdf(x, mu, beta)),
        (gumbel.cdf(x, mu, beta), gumbel.logcdf(x, mu, beta)),
        (gumbel.sf(x, mu, beta), gumbel.logsf(x, mu, beta)),
    ):
        if value >= np.finfo(np.float64).tiny:
            # relative error of the value ~ (1 + |log value| |z|) eps, absolute in the log
            assert math.log(value) == pytest.approx(
                log_value, rel=1e-13, abs=1e-13 * (1 + abs(z) * (1 + abs(log_value)))
            )


@settings(max_examples=300)
@given(p=probabilities, mu=locations, beta=scales)
def test_isf_of_one_minus_p_is_ppf_and_cdf_inverts_ppf(p: float, mu: float, beta: float) -> None:
    x = gumbel.ppf(p, mu, beta)
    # cdf(ppf(p)) = p up to the condition of cdf at x: |log p| |z| eps relative.
    z = (x - mu) / beta
    rel = 8 * EPS * (1 + abs(math.log(p)) * (1 + abs(z) + abs(mu) / beta))
    assert gumbel.cdf(x, mu, beta) == pytest.approx(p, rel=rel)
    q = 1.0 - p  # exact for p >= 0.5; then isf(q) must equal ppf(p)
    if p >= 0.5:
        assert gumbel.isf(q, mu, beta) == pytest.approx(x, rel=1e-12, abs=1e-12 * (abs(mu) + beta))


@settings(max_examples=200)
@given(x=st.floats(min_value=-1e3, max_value=1e3), mu=locations, beta=scales)
def test_agrees_with_scipy_in_the_bulk(x: float, mu: float, beta: float) -> None:
    z = (x - mu) / beta
    assume(-3.0 < z < 30.0)
    dist = stats.gumbel_r(loc=mu, scale=beta)
    for name in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"):
        ours, theirs = getattr(gumbel, name)(x, mu, beta), getattr(dist, name)(x)
        assert ours == pytest.approx(theirs, rel=1e-11, abs=1e-300), name


def test_known_values_at_the_mode_and_the_median() -> None:
    e = math.exp(-1.0)
    assert gumbel.pdf(0.0) == pytest.approx(e, rel=EPS)
    assert gumbel.cdf(0.0) == pytest.approx(e, rel=EPS)
    assert gumbel.sf(0.0) == pytest.approx(1.0 - e, rel=EPS)
    assert gumbel.logcdf(0.0) == -1.0
    assert gumbel.logpdf(0.0) == -1.0
    assert gumbel.pdf(3.0, 3.0, 2.0) == pytest.approx(e / 2.0, rel=EPS)
    median = -math.log(math.log(2.0))
    assert gumbel.ppf(0.5) == pytest.approx(median, rel=EPS)
    assert gumbel.isf(0.5) == pytest.approx(median, rel=EPS)
    assert gumbel.ppf(math.exp(-1.0)) == pytest.approx(0.0, abs=2 * EPS)


def test_limits_and_special_arguments() -> None:
    assert gumbel.pdf(-np.inf) == 0.0
    assert gumbel.pdf(np.inf) == 0.0
    assert gumbel.logpdf(-np.inf) == -np.inf
    assert gumbel.cdf(-np.inf) == 0.0
    assert gumbel.sf(np.inf) == 0.0
    assert gumbel.logsf(np.inf) == -np.inf
    assert gumbel.logsf(-np.inf) == 0.0
    assert gumbel.ppf(0.0) == -np.inf
    assert gumbel.ppf(1.0) == np.inf
    assert gumbel.isf(0.0) == np.inf
    assert gumbel.isf(1.0) == -np.inf


@pytest.mark.parametrize("name", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"])
def test_invalid_scale_and_nan_give_nan_like_scipy(name: str) -> None:
    f = getattr(gumbel, name)
    assert np.isnan(f(1.0, 0.0, 0.0))
    assert np.isnan(f(1.0, 0.0, -2.0))
    assert np.isnan(f(1.0, 0.0, np.nan))
    assert np.isnan(f(np.nan))
    with np.errstate(all="ignore"):
        assert np.isnan(getattr(stats.gumbel_r, name)(1.0, 0.0, -2.0))


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_probabilities_outside_the_unit_interval_give_nan(name: str) -> None:
    values = getattr(gumbel, name)(np.array([-0.5, 1.5, np.nan, 0.5]), 0.0, 1.0)
    assert np.isnan(values[:3]).all()
    assert np.isfinite(values[3])
    assert np.isnan(getattr(gumbel, name)(0.5, 0.0, 0.0))


def test_functions_broadcast_and_return_scalars_for_scalars() -> None:
    x = np.linspace(-2, 5, 7)[:, None]
    beta = np.array([0.5, 1.0, 2.0])
    assert gumbel.cdf(x, 1.0, beta).shape == (7, 3)
    assert isinstance(gumbel.cdf(0.5), np.floating)
    assert isinstance(gumbel.ppf(0.5), np.floating)


def test_no_floating_point_warnings_escape() -> None:
    x = np.array([-1e308, -800.0, -750.0, 0.0, 750.0, 1e308, np.inf, -np.inf, np.nan])
    with np.errstate(all="raise"):
        for name in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"):
            getattr(gumbel, name)(x)
        gumbel.ppf(np.array([-1.0, 0.0, 1.0, 2.0]))
        gumbel.isf(np.array([-1.0, 0.0, 1.0, 2.0]))


# Far tails, against references that do not use the implementation's forms.


def test_right_tail_sf_and_logsf_follow_the_asymptotic_series() -> None:
    # sf = e - e^2/2 + e^3/6 - ..., with e = exp(-z); for z >= 40 two terms are exact to 1e-17.
    z = np.array([40.0, 100.0, 300.0, 700.0])
    e = np.exp(-z)
    np.testing.assert_allclose(gumbel.sf(z), e - e * e / 2, rtol=2 * EPS)
    # logsf = -z - e/2 + ...: beyond sf's underflow (z > 745) still -z, not -inf.
    z = np.array([40.0, 700.0, 745.0, 800.0, 1e5, 1e300])
    np.testing.assert_allclose(gumbel.logsf(z), -z - np.exp(-z) / 2, rtol=EPS)
    assert stats.gumbel_r.logsf(800.0) == -np.inf  # SciPy's generic log(sf) underflows


def test_left_tail_logs_and_sf_match_closed_forms() -> None:
    # logcdf = -exp(-z) exactly; logsf = log(1 - exp(-e)) = -exp(-e) (1 + exp(-e)/2 + ...).
    z = np.array([-3.0, -5.0, -6.5])
    e = np.exp(-z)
    np.testing.assert_allclose(gumbel.logcdf(z), -e, rtol=EPS)
    np.testing.assert_allclose(gumbel.logsf(z), -np.exp(-e) * (1 + np.exp(-e) / 2), rtol=4 * EPS)
    # logpdf where pdf underflows: -z - e, exact to rounding
    z = np.array([-40.0, -700.0])
    np.testing.assert_allclose(gumbel.logpdf(z), -z - np.exp(-z), rtol=EPS)
    assert gumbel.pdf(-40.0) == 0.0


def test_tail_quantiles_against_mpmath_at_100_digits() -> None:
    with mpmath.workdps(100):
        for q in (1e-300, 1e-100, 1e-20, 2**-53):
            expected = -mpmath.log(-mpmath.log1p(-mpmath.mpf(q)))
            assert gumbel.isf(q) == pytest.approx(float(expected), rel=2 * EPS)
            expected = -mpmath.log(-mpmath.log(mpmath.mpf(q)))
            assert gumbel.ppf(q) == pytest.approx(float(expected), rel=2 * EPS)
        p = 1.0 - 2**-53
        expected = -mpmath.log(-mpmath.log(mpmath.mpf(p)))
        assert gumbel.ppf(p) == pytest.approx(float(expected), rel=2 * EPS)
    # isf(1e-300) = 690.8, where ppf(1 - q) cannot go past 36.7.
    assert gumbel.isf(1e-300) == pytest.approx(-math.log(1e-300), rel=1e-12)
    assert gumbel.ppf(1.0 - 1e-300) == np.inf


def test_sample_draws_through_the_inverse_cdf_within_float64_range() -> None:
    draws = gumbel.sample(block_generator(7, 0), 200_000, 2.0, 3.0)
    assert draws.shape == (200_000,)
    assert np.isfinite(draws).all()
    assert (draws > 2.0 + 3.0 * -3.61).all()
    assert (draws < 2.0 + 3.0 * 36.8).all()
    # the same uniforms through ppf
    u = 1.0 - block_generator(7, 0).random(200_000)
    np.testing.assert_array_equal(draws, gumbel.ppf(u, 2.0, 3.0))
