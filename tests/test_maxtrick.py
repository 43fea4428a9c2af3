"""The Gumbel-Max check: right samplers pass, wrong ones fail, results are reproducible."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gumbelcheck import maxtrick
from gumbelcheck.core.params import Categorical
from gumbelcheck.samplers import Sampler, argmax, uniforms

PI = [0.1, 0.2, 0.7]


@pytest.mark.parametrize("noise", ["race", "reference", "numpy"])
def test_exact_samplers_pass(noise: str) -> None:
    result = maxtrick(PI, samples=1_000_000, seed=2026, sampler=noise)
    assert result.passed, result.gof.reason
    assert result.gof.rule == "cochran"
    assert result.gof.df == 2
    assert result.gof.tv_distance < 2e-3


@pytest.mark.parametrize("noise", ["gaussian", "gumbel-scale-2", "noise-on-pi"])
def test_negative_controls_are_rejected_at_one_million_draws(noise: str) -> None:
    result = maxtrick(PI, samples=1_000_000, seed=2026, sampler=noise)
    assert not result.passed
    assert result.gof.log10_pvalue < -20
    assert "pearson-chi2" in result.gof.reason


def _clamped(rng: np.random.Generator, dist: Categorical, n: int) -> np.ndarray:
    """A copy that clamps u <= 0.999, capping the Gumbel noise at 6.9."""
    u = np.minimum(uniforms(rng, n, dist.k), 0.999)
    return argmax(dist.logp - np.log(-np.log(u)))


def test_clamped_uniforms_starve_a_rare_category() -> None:
    wrong = Sampler("clamped", False, "u <= 0.999", _clamped)
    result = maxtrick([1 - 1e-4, 1e-4], samples=1_000_000, seed=5, sampler=wrong)
    assert not result.passed
    assert result.counts[1] < 0.5 * result.gof.expected[1]


def test_noise_on_pi_draws_a_zero_category_and_fails_hard() -> None:
    result = maxtrick([0.25, 0.0, 0.75], samples=100_000, seed=1, sampler="noise-on-pi")
    assert result.gof.zero_probability_draws > 0
    assert "zero-probability" in result.gof.reason


def test_zero_probability_category_leaves_the_degrees_of_freedom() -> None:
    result = maxtrick([0.25, 0.0, 0.75], samples=100_000, seed=1)
    assert result.passed
    assert result.counts[1] == 0
    assert result.gof.df == 1


def test_single_category_passes_and_every_draw_lands_there() -> None:
    result = maxtrick([1.0], samples=10_000, seed=1)
    assert result.passed
    assert result.counts == (10_000,)
    assert result.gof.rule == "single-category"
    one_left = maxtrick([0.0, 1.0, 0.0], samples=10_000, seed=1, sampler="noise-on-pi")
    assert not one_left.passed


def test_rare_category_gets_its_own_exact_test_and_an_overdraw_fails() -> None:
    pi = [0.5, 0.5 - 1e-6, 1e-6]
    good = maxtrick(pi, samples=1_000_000, seed=3)
    assert good.passed
    assert good.gof.rule == "rare-bins-binomial"
    bad = maxtrick(pi, samples=1_000_000, seed=3, sampler="noise-on-pi")
    assert not bad.passed
    assert bad.gof.pvalue == 0.0
    assert math.isfinite(bad.gof.log10_pvalue)
    assert bad.gof.log10_pvalue < -1000


def test_small_n_uses_the_exact_multinomial_test() -> None:
    result = maxtrick(PI, samples=12, seed=1)
    assert result.gof.rule == "exact-multinomial"
    assert result.passed


def test_results_do_not_depend_on_the_number_of_workers() -> None:
    runs = [maxtrick(PI, samples=300_001, seed=9, workers=w, block_size=10_000) for w in (1, 2, 3)]
    assert runs[0].counts == runs[1].counts == runs[2].counts
    assert runs[0].to_frame().equals(runs[2].to_frame())


def test_block_size_is_part_of_the_reproducibility_contract() -> None:
    a = maxtrick(PI, samples=100_000, seed=9, block_size=1000)
    b = maxtrick(PI, samples=100_000, seed=9, block_size=2000)
    assert a.counts != b.counts
    assert a.provenance.block_size == 1000


def test_logits_with_minus_infinity_mean_probability_zero() -> None:
    result = maxtrick(logits=[-math.inf, 0.0, math.log(3.0)], samples=100_000, seed=1)
    assert result.pi == pytest.approx((0.0, 0.25, 0.75))
    assert result.counts[0] == 0
    assert result.passed


def test_result_serializes_to_plain_json_and_a_tidy_frame() -> None:
    result = maxtrick(PI, samples=10_000, seed=1)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["verdict"] == "PASS"
    assert data["provenance"]["seed"] == 1
    assert data["provenance"]["bit_generator"] == "PCG64"
    assert len(data["categories"]) == 3
    frame = result.to_frame()
    assert list(frame.columns) == [
        "category",
        "pi",
        "expected",
        "observed",
        "fraction",
        "fraction_low99",
        "fraction_high99",
        "residual",
        "bin_test",
        "bin_pvalue",
    ]
    assert frame["observed"].sum() == 10_000
