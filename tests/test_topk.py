"""gumbelcheck topk: Gumbel-top-k against the exact Plackett-Luce law."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from typer.testing import Result

from gumbelcheck.checks.topk import plackett_luce, topk
from gumbelcheck.core.errors import InputError
from gumbelcheck.samplers import SamplerError

Cli = Callable[..., Result]
PI = [0.5, 0.3, 0.15, 0.05]


def test_plackett_luce_by_hand_and_the_inclusion_trap() -> None:
    p = np.array(PI)
    assert plackett_luce(p, np.array([[1, 0]]))[0] == pytest.approx(0.3 * 0.5 / 0.7)
    result = topk(PI, m=2, samples=200_000, seed=1)
    # P(0 included) = 0.5 + sum_j p_j 0.5 / (1 - p_j), not 2 x 0.5 = 1.
    second = sum(q * 0.5 / (1 - q) for q in PI[1:])
    assert result.inclusion[0] == pytest.approx(0.5 + second)
    assert sum(result.inclusion) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"pi": PI, "m": 2}, {"pi": PI, "m": 4}, {"logits": [-math.inf, 0.0, 1.0, 2.0], "m": 2}],
)
def test_gumbel_top_k_is_plackett_luce(kwargs: dict) -> None:
    result = topk(samples=500_000, seed=2, **kwargs)
    assert result.passed, result.summary().reason
    assert result.invalid_draws == 0


def test_wrong_ways_fail() -> None:
    scaled = topk(PI, m=2, samples=500_000, seed=2, noise="gumbel-scale-1.05")
    assert not scaled.passed
    assert scaled.gof.log10_pvalue < -20
    repeats = topk(PI, m=2, samples=100_000, seed=2, noise="with-replacement")
    assert repeats.summary().hard_failure
    assert repeats.invalid_draws > 0


def numpy_without_replacement(logits: np.ndarray, n: int, seed: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.exp(logits)
    return np.array([rng.choice(logits.size, size=m, replace=False, p=p) for _ in range(n)])


def shuffled_order(logits: np.ndarray, n: int, seed: int, m: int) -> np.ndarray:
    """Wrong: a Plackett-Luce sample, then shuffled: the right inclusion probabilities, but
    the order carries no information."""
    draws = numpy_without_replacement(logits, n, seed, m)
    rng = np.random.default_rng(seed + 1)
    return rng.permuted(draws, axis=1)


def test_user_samplers_without_replacement() -> None:
    right = topk(PI, m=2, samples=20_000, seed=3, sampler=numpy_without_replacement)
    assert right.passed, right.summary().reason
    shuffled = topk(PI, m=2, samples=20_000, seed=3, sampler=shuffled_order)
    assert not shuffled.passed

    def flat(logits: np.ndarray, n: int, seed: int, m: int) -> np.ndarray:
        return np.zeros(n, dtype=int)

    with pytest.raises(SamplerError, match=r"returned shape \(1000,\); the form function\(logits"):
        topk(PI, m=2, samples=1000, seed=3, sampler=flat)


def test_bad_input(cli: Cli) -> None:
    with pytest.raises(InputError, match="exceeds the 3 categories with positive weight"):
        topk([0.5, 0.3, 0.2, 0.0], m=4)
    with pytest.raises(InputError, match="ordered tuples"):
        topk(np.full(40, 1 / 40), m=4)
    result = cli("topk", "--pi", "0.5,0.3,0.2", "--m", "2", "--samples", "1e5", "--seed", "1")
    assert result.exit_code == 0, result.output
    bad = cli("topk", "--pi", "0.5,0.5", "--m", "3")
    assert bad.exit_code == 2
    assert "--m 3 exceeds" in bad.stderr
