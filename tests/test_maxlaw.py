"""gumbelcheck maxlaw: the max of perturbed logits and its independence from the argmax."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from typer.testing import Result

from gumbelcheck.checks.maxlaw import BINS, maxlaw
from gumbelcheck.core.errors import InputError

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    ("kwargs", "location"),
    [
        ({"pi": [0.1, 0.2, 0.7]}, 0.0),
        ({"pi": [1, 2, 7], "normalize": True}, math.log(10)),  # weights: ln sum w
        ({"logits": [-math.inf, 0.0, 1.5, 3.0]}, math.log(1 + math.exp(1.5) + math.exp(3))),
    ],
)
def test_the_gumbel_max_identity_holds(kwargs: dict, location: float) -> None:
    result = maxlaw(samples=400_000, seed=3, **kwargs)
    assert result.passed, result.summary().reason
    assert result.location == pytest.approx(location, rel=1e-12)
    assert result.law.mean.ci_low <= location + np.euler_gamma <= result.law.mean.ci_high


@pytest.mark.parametrize("noise", ["gumbel-scale-1.05", "gaussian"])
def test_wrong_noise_fails_both_experiments(noise: str) -> None:
    result = maxlaw([0.1, 0.2, 0.7], samples=400_000, seed=3, noise=noise)
    assert not result.passed
    assert result.law.log10_pvalue < -10
    assert result.joint.log10_pvalue < -10


def test_shared_uniform_breaks_independence_alone() -> None:
    """Both marginal laws exact, the index and the max from one uniform: only (b) fails."""
    pi = [0.1, 0.2, 0.7]
    result = maxlaw(pi, samples=400_000, seed=3, noise="shared-uniform")
    assert not result.passed
    assert result.law.log10_pvalue > math.log10(0.05)  # the max's law holds
    assert result.joint.log10_pvalue < -1000  # the table is far from pi_i / B
    table = np.asarray(result.counts)
    argmax = table.sum(axis=1)
    from gumbelcheck.stats import categorical_gof

    assert categorical_gof(argmax, np.asarray(pi), alpha=0.01, seed=1).passed  # argmax law too
    assert result.summary().test.startswith("independence")


def test_the_table_is_tested_against_pi_over_b_and_empty_categories_stay_empty() -> None:
    result = maxlaw(logits=[-math.inf, 0.0, 1.0], samples=100_000, seed=1)
    table = np.asarray(result.counts)
    assert table.shape == (3, BINS)
    assert table[0].sum() == 0
    frame = result.to_frame()
    np.testing.assert_allclose(frame["expected"].sum(), 100_000)
    assert result.joint.df == 2 * BINS - 1


def test_the_generated_command_and_bad_input(cli: Cli) -> None:
    ok = cli("maxlaw", "--pi", "0.1,0.2,0.7", "--samples", "2e5", "--seed", "1")
    assert ok.exit_code == 0, ok.output
    assert "max ~ Gumbel(ln sum w, 1)" in ok.stdout
    wrong = cli("maxlaw", "--pi", "0.1,0.2,0.7", "--samples", "2e5", "--noise", "gaussian")
    assert wrong.exit_code == 1
    bad = cli("maxlaw", "--pi", "0.1,0.2,0.7", "--noise", "uniform")
    assert bad.exit_code == 2
    assert "--noise 'uniform' is not known" in bad.stderr
    with pytest.raises(InputError):
        maxlaw([0.5, 0.5], samples=0)
