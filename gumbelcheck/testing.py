"""Assertions for a library's own test suite (pytest or unittest).

Modelled on TensorFlow Probability's ``statistical_testing`` triple (an assertion, the N it
needs, the discrepancy an N resolves), with gumbelcheck's exact tests behind it:

* :func:`assert_sampler` draws N samples from a sampler, N chosen so that the assertion
  fails a correct sampler with probability at most ``false_fail_rate`` and passes a sampler
  whose law is at total-variation distance ``tv`` or more from Categorical(pi) with
  probability at most ``false_pass_rate``;
* :func:`assert_counts` tests counts made elsewhere at the same false-fail rate;
* :func:`samples_for_tv` and :func:`detectable_tv` are the planning functions behind them.

The guarantee against a TV of ``tv`` rests on Pearson's chi-square test (noncentral
chi-square with lambda = N w^2, and w >= 2 TV for any deviation of total variation TV). When
the chosen N leaves expected counts below 5 the check applies its exact rare-bin or exact
multinomial rules, whose false-fail rate is still at most ``false_fail_rate``; the power
figure is then the chi-square approximation's. Runs are seeded (``seed=0`` by default) and
so deterministic: a test that passes once passes every time.

Examples
--------
A pytest test of torch.multinomial::

    import torch
    from gumbelcheck.testing import assert_sampler

    def multinomial(logits, n, seed):
        generator = torch.Generator().manual_seed(seed)
        probs = torch.from_numpy(logits).exp()
        return torch.multinomial(probs, n, replacement=True, generator=generator)

    def test_multinomial_is_categorical():
        assert_sampler(multinomial, [0.1, 0.2, 0.7], tv=1e-3)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import categorical, parse_alpha

__all__ = ["assert_counts", "assert_sampler", "detectable_tv", "samples_for_tv"]

#: Default probability that an assertion fails a correct sampler.
FALSE_FAIL_RATE = 1e-6

#: Default probability that an assertion passes a sampler at least ``tv`` away.
FALSE_PASS_RATE = 1e-6

#: Default total-variation distance an assertion is guaranteed to catch.
TV = 0.01

#: Categories listed in an assertion's message.
WORST = 5

Distribution = str | Sequence[float] | NDArray[np.float64] | None


def _df(pi: Distribution, logits: Distribution) -> int:
    dist = categorical(pi, logits)
    df = int(dist.support.sum()) - 1
    if df < 1:
        raise InputError("only one category has positive probability: there is nothing to test")
    return df


def _rates(false_fail_rate: float, false_pass_rate: float) -> tuple[float, float]:
    alpha = parse_alpha(false_fail_rate)
    try:
        beta = parse_alpha(false_pass_rate)
    except InputError:
        raise InputError(
            f"`false_pass_rate` {false_pass_rate} is outside (0, 1); use a rate like 1e-6"
        ) from None
    return alpha, beta


def samples_for_tv(
    tv: float,
    pi: Distribution = None,
    *,
    logits: Distribution = None,
    false_fail_rate: float = FALSE_FAIL_RATE,
    false_pass_rate: float = FALSE_PASS_RATE,
) -> int:
    """The N at which the check catches any law at total variation ``tv`` from Categorical(pi).

    Parameters
    ----------
    tv : float
        Total-variation distance to catch, in (0, 1].
    pi, logits : array_like or str
        The distribution (only the number of categories with positive probability matters).
    false_fail_rate : float
        Significance level: the probability of failing a correct sampler.
    false_pass_rate : float
        Probability of passing a sampler whose law is ``tv`` or more away.

    Returns
    -------
    int
        N = ceil(lambda* / (2 tv)^2), lambda* the noncentrality at which the chi-square test
        at level ``false_fail_rate`` has power 1 - ``false_pass_rate``.
    """
    from gumbelcheck.stats import detectable_noncentrality

    if not (isinstance(tv, int | float) and 0 < tv <= 1):
        raise InputError(f"`tv` {tv!r} is outside (0, 1]; use a distance like 1e-3")
    alpha, beta = _rates(false_fail_rate, false_pass_rate)
    noncentrality = detectable_noncentrality(_df(pi, logits), alpha, 1.0 - beta)
    return math.ceil(noncentrality / (2.0 * tv) ** 2)


def detectable_tv(
    samples: int,
    pi: Distribution = None,
    *,
    logits: Distribution = None,
    false_fail_rate: float = FALSE_FAIL_RATE,
    false_pass_rate: float = FALSE_PASS_RATE,
) -> float:
    """The smallest total variation that ``samples`` draws catch at the stated rates.

    The inverse of :func:`samples_for_tv`: every law at least this far from Categorical(pi)
    fails the check with probability at least 1 - ``false_pass_rate``.
    """
    from gumbelcheck.stats import minimum_detectable_w

    if not (isinstance(samples, int) and samples >= 1):
        raise InputError(f"`samples` {samples!r} is not a whole number >= 1")
    alpha, beta = _rates(false_fail_rate, false_pass_rate)
    return minimum_detectable_w(samples, _df(pi, logits), alpha, 1.0 - beta) / 2.0


def assert_sampler(
    sampler: Callable[..., Any] | str,
    pi: Distribution = None,
    *,
    logits: Distribution = None,
    tv: float = TV,
    false_fail_rate: float = FALSE_FAIL_RATE,
    false_pass_rate: float = FALSE_PASS_RATE,
    samples: int | None = None,
    seed: int = 0,
    workers: int | None = 1,
) -> None:
    """Assert that ``sampler`` draws from Categorical(pi).

    Parameters
    ----------
    sampler : callable or str
        ``sampler(logits, n, seed)`` returning n category indices (or k counts, declared with
        :func:`gumbelcheck.returns_counts`); or a SPEC ``module:function`` / ``file.py:fn``.
    pi, logits : array_like or str
        The distribution, as for :func:`gumbelcheck.maxtrick`.
    tv : float
        Total-variation distance the assertion is guaranteed (up to ``false_pass_rate``) to
        catch; it sets N through :func:`samples_for_tv`.
    false_fail_rate : float
        Probability of failing a correct sampler (the test's level).
    false_pass_rate : float
        Probability of passing a sampler whose law is ``tv`` or more away.
    samples : int, optional
        Draws N; by default :func:`samples_for_tv`'s.
    seed : int
        Root seed: the same seed gives the same draws and the same outcome.
    workers : int, optional
        Workers to run blocks on (1 by default, as test runners often run tests in
        parallel; None for all cores). The outcome does not depend on it.

    Raises
    ------
    AssertionError
        When the check fails: the message names the test, its p-value, the worst categories
        (observed, expected, residual) and the seed to reproduce it.
    gumbelcheck.SamplerError
        When the sampler breaks its contract (raises, returns the wrong shape or NaN).
    """
    from gumbelcheck.checks.maxtrick import maxtrick

    n = samples if samples is not None else samples_for_tv(
        tv, pi, logits=logits, false_fail_rate=false_fail_rate, false_pass_rate=false_pass_rate
    )
    result = maxtrick(
        pi,
        logits=logits,
        samples=n,
        seed=seed,
        alpha=false_fail_rate,
        sampler=sampler,
        workers=workers,
    )
    if not result.passed:
        raise AssertionError(_message(result, f"sampler {result.noise}", seed))


def assert_counts(
    counts: ArrayLike,
    pi: Distribution = None,
    *,
    logits: Distribution = None,
    false_fail_rate: float = FALSE_FAIL_RATE,
    seed: int = 0,
) -> None:
    """Assert that per-category ``counts`` are a sample of Categorical(pi).

    Parameters
    ----------
    counts : array_like
        The k per-category counts (every category, also those never drawn).
    pi, logits : array_like or str
        The distribution.
    false_fail_rate : float
        Probability of failing counts that really are a multinomial sample.
    seed : int
        Seed of the Monte Carlo exact multinomial test (used only for small N).

    Raises
    ------
    AssertionError
        When the counts fail the test, naming the worst categories.
    """
    from gumbelcheck.checks.counts import check_counts

    result = check_counts(pi, logits=logits, counts=counts, alpha=false_fail_rate, seed=seed)
    if not result.passed:
        raise AssertionError(_message(result, "counts", None))


def _message(result: Any, what: str, seed: int | None) -> str:
    """Why the check failed, the worst categories, and how to reproduce it."""
    g = result.gof
    frame = result.to_frame()
    deviation = np.abs(np.nan_to_num(frame["residual"].to_numpy(), nan=0.0))
    zero = (frame["pi"].to_numpy() == 0) & (frame["observed"].to_numpy() > 0)
    order = np.argsort(-np.where(zero, np.inf, deviation), kind="stable")[:WORST]
    rows = "\n".join(
        f"  {int(i):>8}  {frame['observed'][i]:>14,}  {frame['expected'][i]:>16,.1f}"
        f"  {frame['residual'][i]:>9.3g}"
        for i in order
    )
    reproduce = "" if seed is None else f"; reproduce with seed={seed}, samples={result.samples}"
    return (
        f"{what} does not match Categorical(pi): {g.reason} "
        f"(N = {result.samples:,}, TV = {g.tv_distance:.3g}, this N catches TV >= "
        f"{g.mde_tv:.3g} with power 0.9){reproduce}\n"
        f"  category        observed          expected   residual\n{rows}"
    )
