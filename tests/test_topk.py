"""gumbelcheck topk: Gumbel-top-k against the exact Plackett-Luce law."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from gumbelcheck.checks.topk import (
    MAX_TUPLES,
    ahead_probabilities,
    inclusion_probabilities,
    order_pairs,
    plackett_luce,
    topk,
)
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
    with pytest.raises(InputError, match=r"ordered tuples; the full .* --law marginals"):
        topk(np.full(40, 1 / 40), m=4, law="full")
    with pytest.raises(InputError, match="`law` 'exact' is not known"):
        topk(PI, m=2, law="exact")
    with pytest.raises(InputError, match="quadrature takes at most"):
        topk(np.full(70_000, 1 / 70_000), m=4)
    result = cli("topk", "--pi", "0.5,0.3,0.2", "--m", "2", "--samples", "1e5", "--seed", "1")
    assert result.exit_code == 0, result.output
    bad = cli("topk", "--pi", "0.5,0.5", "--m", "3")
    assert bad.exit_code == 2
    assert "--m 3 exceeds" in bad.stderr


SAMPLERS = "tests/data/user_samplers.py"


def enumerated_laws(p: np.ndarray, m: int) -> tuple[np.ndarray, Callable[[int, int], float]]:
    """Inclusion and "i ahead of j" probabilities by brute force over every ordered tuple."""
    tuples = np.array(list(itertools.permutations(np.flatnonzero(p > 0), m)))
    probability = plackett_luce(p, tuples)
    inclusion = np.array([probability[(tuples == i).any(axis=1)].sum() for i in range(p.size)])

    def ahead(i: int, j: int) -> float:
        rows = [
            q
            for t, q in zip(tuples.tolist(), probability, strict=True)
            if i in t and (j not in t or t.index(i) < t.index(j))
        ]
        return math.fsum(rows)

    return inclusion, ahead


@pytest.mark.parametrize(("k", "m"), [(3, 1), (4, 2), (5, 3), (6, 6), (7, 2), (8, 4)])
def test_quadrature_laws_match_enumeration(k: int, m: int) -> None:
    rng = np.random.default_rng(k * 10 + m)
    p = rng.dirichlet(np.full(k, 0.5))
    if k > m + 1:
        p[1] = 0.0  # a zero weight stays out of every law
        p /= p.sum()
    inclusion, ahead = enumerated_laws(p, m)
    np.testing.assert_allclose(inclusion_probabilities(p, m), inclusion, rtol=0, atol=1e-12)
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
    exact = [ahead(i, j) for i, j in pairs]
    np.testing.assert_allclose(ahead_probabilities(p, m, pairs), exact, rtol=0, atol=1e-12)
    if m == k:  # a full ranking: P(i before j) = p_i / (p_i + p_j)
        i, j = 0, 2
        assert ahead_probabilities(p, m, [(i, j)])[0] == pytest.approx(p[i] / (p[i] + p[j]))


def test_quadrature_laws_for_skewed_and_many_categories() -> None:
    # one category of nearly all the mass: P(0 not in a sample of 2) = sum over ordered
    # pairs of the tiny ones, 6 x 1e-18 (enumeration in float64 loses it in 1 - p_0).
    p = np.array([1 - 3e-9, 1e-9, 1e-9, 1e-9])
    inclusion = inclusion_probabilities(p, 2)
    assert inclusion[1] == pytest.approx(1 / 3, rel=1e-8)
    assert inclusion.sum() == pytest.approx(2.0, rel=1e-14)
    many = np.random.default_rng(0).dirichlet(np.ones(1000))
    assert inclusion_probabilities(many, 10).sum() == pytest.approx(10.0, rel=1e-12)
    assert order_pairs(np.array([0.1, 0.4, 0.0, 0.5])) == ((3, 1), (3, 0), (1, 0))


def test_auto_law_is_full_while_the_tuples_can_be_enumerated() -> None:
    p = np.full(30, 1 / 30)
    assert math.perm(30, 2) <= MAX_TUPLES < math.perm(30, 4)
    assert topk(p, m=2, samples=1000, seed=1).law == "full"
    assert topk(p, m=4, samples=1000, seed=1).law == "marginals"


@pytest.mark.parametrize("m", [2, 4])
def test_marginal_laws_pass_gumbel_top_k_and_reject_a_tempered_one(m: int) -> None:
    p = np.random.default_rng(5).dirichlet(np.ones(30))
    right = topk(p, m=m, samples=300_000, seed=4, law="marginals")
    assert right.passed, right.summary().reason
    wrong = topk(p, m=m, samples=300_000, seed=4, noise="gumbel-scale-1.05", law="marginals")
    assert not wrong.passed
    assert wrong.summary().rule == "holm(3 marginal laws)"
    assert wrong.log10_pvalue < -10


def test_marginal_laws_agree_with_the_full_test_on_a_small_support() -> None:
    full = topk(PI, m=2, samples=200_000, seed=6, law="full")
    marginals = topk(PI, m=2, samples=200_000, seed=6, law="marginals")
    assert full.passed
    assert marginals.passed
    assert marginals.inclusion == pytest.approx(full.inclusion, abs=1e-14)
    assert marginals.observed_inclusion == pytest.approx(full.observed_inclusion, abs=0)
    assert marginals.marginals is not None
    assert sum(marginals.marginals.first_counts) == 200_000
    frame = marginals.to_frame()
    assert list(frame.columns[:3]) == ["category", "pi", "m_pi"]


@pytest.mark.parametrize("law", ["full", "marginals"])
def test_numpy_choice_passes_and_wrong_samplers_fail(law: str) -> None:
    pi = PI if law == "full" else np.random.default_rng(5).dirichlet(np.ones(30))
    m = 2 if law == "full" else 3
    right = topk(pi, m=m, samples=50_000, seed=7, sampler=f"{SAMPLERS}:choice_without_replacement")
    assert right.law == law
    assert right.passed, right.summary().reason
    for name in ("deduplicated", "independent_inclusion"):
        wrong = topk(pi, m=m, samples=50_000, seed=7, sampler=f"{SAMPLERS}:{name}")
        assert not wrong.passed, name
        assert wrong.log10_pvalue < -20, (name, wrong.log10_pvalue)
        assert wrong.invalid_draws == 0


def test_marginal_invalid_samples_and_workers() -> None:
    p = np.random.default_rng(5).dirichlet(np.ones(30))
    repeats = topk(p, m=3, samples=100_000, seed=2, noise="with-replacement")
    assert repeats.law == "marginals"
    assert repeats.summary().hard_failure
    assert repeats.invalid_draws > 0
    one = topk(p, m=3, samples=300_000, seed=9, workers=1)
    two = topk(p, m=3, samples=300_000, seed=9, workers=2)
    assert {**one.to_dict(), "provenance": None} == {**two.to_dict(), "provenance": None}


def test_marginals_on_the_command_line(cli: Cli, tmp_path: Path) -> None:
    args = ["topk", "--pi", ",".join(["0.1"] * 10), "--m", "3", "--law", "marginals"]
    args += ["--samples", "1e5", "--seed", "1"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "first position" in result.output
    assert "pairwise order" in result.output
    junit = tmp_path / "topk.xml"
    report = json.loads(cli(*args, "--json", "--junit", str(junit)).stdout)
    assert 'name="topk"' in junit.read_text()
    assert report["law"] == "marginals"
    assert len(report["pairs"]) == 15
