"""Negative controls: wrong samplers are rejected, exact ones pass, true probabilities are right."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from typer.testing import CliRunner, Result

from gumbelcheck import engine
from gumbelcheck.checks.controls import (
    CONTROLS,
    LAWS,
    float32_probabilities,
    quadrature_probabilities,
)
from gumbelcheck.checks.maxtrick import maxtrick
from gumbelcheck.cli import app
from gumbelcheck.samplers import SAMPLERS
from gumbelcheck.stats import binomial_power, binomial_test, categorical_gof, power

Cli = Callable[..., Result]
BY_NAME = {c.name: c for c in CONTROLS}
PI3 = np.array([0.1, 0.2, 0.7])


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """One `gumbelcheck controls --json` run at the default N (the README's N)."""
    result = CliRunner().invoke(app, ["controls", "--seed", "2026", "--json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_control_behaves_as_expected_at_the_default_n(report: dict[str, Any]) -> None:
    rows = {row["control"]: row for row in report["controls_table"]}
    assert list(rows) == [c.name for c in CONTROLS]
    assert report["verdict"] == "PASS"
    for control in CONTROLS:
        row = rows[control.name]
        assert row["verdict"] == control.expected_verdict, control.name
        assert row["matched"] is True
        assert row["exact"] is control.sampler.exact
        # The counts agree with the computed true probabilities (validates the computation).
        assert row["consistency_pvalue"] > 1e-3, control.name
        if control.expected_verdict == "FAIL":
            assert row["predicted_power"] >= 0.99, control.name
            assert row["log10_pvalue"] < -2, control.name
        else:
            assert row["predicted_power"] == pytest.approx(0.01)  # the size: alpha
            assert row["pvalue"] >= 0.01


def test_the_float32_floor_is_caught_by_its_exact_binomial_test(report: dict[str, Any]) -> None:
    row = next(r for r in report["controls_table"] if r["control"] == "float32-rare")
    assert row["rule"] == "rare-bins-binomial"
    assert row["power_method"] == "exact-binomial"
    assert row["samples"] == 200_000_000
    rare = int(row["counts"].split()[1])
    assert rare >= 3  # expected 0.2 under pi, 11.9 under the float32 law


def test_float32_probability_is_the_floor_two_to_the_minus_24() -> None:
    q = float32_probabilities(np.array([1 - 1e-9, 1e-9]))
    assert q[1] == 2.0**-24 * (1 - 2.0**-24)  # only U = 0 for category 0 lets 1 win
    assert q.sum() == pytest.approx(1.0, abs=1e-15)
    # A common category is sampled almost right: the floor only matters in the far tail.
    q = float32_probabilities(np.array([0.3, 0.7]))
    assert q == pytest.approx([0.3, 0.7], abs=1e-6)


@pytest.mark.parametrize(("name", "scale"), [("gumbel-scale-2", 2.0), ("gumbel-scale-1.05", 1.05)])
def test_scaled_gumbel_samples_pi_to_the_power_one_over_s(name: str, scale: float) -> None:
    expected = PI3 ** (1 / scale) / np.sum(PI3 ** (1 / scale))
    np.testing.assert_allclose(BY_NAME[name].true_probabilities(), expected, rtol=1e-14)


def test_noise_on_pi_samples_softmax_of_pi() -> None:
    expected = np.exp(PI3) / np.exp(PI3).sum()
    np.testing.assert_allclose(BY_NAME["noise-on-pi"].true_probabilities(), expected, rtol=1e-14)


@pytest.mark.parametrize("pi", [[0.1, 0.2, 0.7], [1e-4, 0.3, 0.6999], [0.05, 0.15, 0.3, 0.5]])
def test_quadrature_with_gumbel_noise_returns_pi(pi: list[float]) -> None:
    np.testing.assert_allclose(
        quadrature_probabilities(np.array(pi), LAWS["gumbel"]), pi, atol=1e-12
    )


def test_quadrature_of_gaussian_noise_matches_the_two_category_closed_form() -> None:
    pi = np.array([0.7, 0.3])
    q = quadrature_probabilities(pi, LAWS["normal"])
    # g1 - g0 ~ N(0, 2): P(1 wins) = Phi((l1 - l0) / sqrt 2).
    assert q[1] == pytest.approx(special.ndtr(math.log(0.3 / 0.7) / math.sqrt(2)), abs=1e-12)


def _left_gumbel_closed_form(pi: list[float]) -> np.ndarray:
    """argmax pi_i E_i, E iid Exp(1): inclusion-exclusion over the other categories."""
    rate = 1 / np.asarray(pi)
    out = []
    for i in range(len(pi)):
        others = [j for j in range(len(pi)) if j != i]
        out.append(
            sum(
                (-1) ** m * rate[i] / (rate[i] + sum(rate[j] for j in subset))
                for m in range(len(others) + 1)
                for subset in itertools.combinations(others, m)
            )
        )
    return np.array(out)


@pytest.mark.parametrize("pi", [[0.1, 0.2, 0.7], [0.05, 0.15, 0.3, 0.5], [0.3, 0.7]])
def test_left_gumbel_quadrature_matches_inclusion_exclusion(pi: list[float]) -> None:
    q = quadrature_probabilities(np.array(pi), LAWS["left-gumbel"])
    np.testing.assert_allclose(q, _left_gumbel_closed_form(pi), atol=1e-12)
    if len(pi) == 2:  # two categories: the left convention is exact (logistic difference)
        np.testing.assert_allclose(q, pi, atol=1e-12)


def test_clamped_quadrature_without_a_reachable_cap_is_pi() -> None:
    q = quadrature_probabilities(PI3, LAWS["gumbel"], cap=45.0)
    np.testing.assert_allclose(q, PI3, atol=1e-12)
    clamped = BY_NAME["clamped"].true_probabilities()
    assert clamped.sum() == pytest.approx(1.0, abs=1e-12)
    assert clamped[1] < 0.001  # the cap at 6.9 starves the rare category


@pytest.mark.parametrize("name", ["logistic", "left-gumbel", "gaussian", "clamped"])
def test_monte_carlo_agrees_with_the_computed_probabilities(name: str) -> None:
    control = BY_NAME[name]
    result = maxtrick(control.pi, samples=400_000, seed=11, sampler=control.sampler)
    counts = np.asarray(result.counts)
    q = control.true_probabilities()
    assert categorical_gof(counts, q, alpha=0.01, seed=1).passed
    assert not categorical_gof(counts, np.asarray(control.pi), alpha=0.01, seed=1).passed


def test_power_formula() -> None:
    assert power(0.0, 2, 10**6, 0.01) == pytest.approx(0.01)
    # NUMERICS: power 0.9 at alpha 1e-3, df 2 needs lambda = 23.8.
    assert power(math.sqrt(23.8 / 1e6), 2, 10**6, 1e-3) == pytest.approx(0.9, abs=2e-3)


def test_binomial_power_equals_a_brute_force_sum() -> None:
    n, p0, q, alpha = 10**6, 1e-6, 4e-6, 0.01
    brute = sum(
        stats.binom.pmf(x, n, q)
        for x in range(60)
        if binomial_test(x, n, p0)[1] < math.log10(alpha)
    )
    assert binomial_power(n, p0, q, alpha) == pytest.approx(brute, rel=1e-9)


def test_child_seeds_are_reproducible_and_distinct() -> None:
    assert engine.child_seed(1, 0) == engine.child_seed(1, 0)
    seeds = {engine.child_seed(1, *key) for key in [(0,), (1,), (0, 0), (0, 1), (1, 0)]}
    assert len(seeds) == 5
    assert engine.child_seed(2, 0) != engine.child_seed(1, 0)


def test_every_wrong_sampler_has_a_control_that_expects_it_to_fail() -> None:
    expected = {c.sampler.name: c.expected_verdict for c in CONTROLS}
    for sampler in SAMPLERS.values():
        if sampler.exact:
            assert expected.get(sampler.name, "PASS") == "PASS", sampler.name
        else:
            assert expected[sampler.name] == "FAIL", sampler.name


def test_too_few_draws_exit_1_and_name_the_missed_controls(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "controls.csv"
    result = cli("controls", "--samples", "1e4", "--seed", "1", "-q", "--csv", str(path))
    assert result.exit_code == 1
    assert "float32-rare PASS (expected FAIL)" in " ".join(result.stdout.split())
    frame = pd.read_csv(path, comment="#")
    assert len(frame) == len(CONTROLS)
    assert not frame.set_index("control").loc["float32-rare", "matched"]
    assert "# verdict: FAIL" in path.read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--samples", "0"], "--samples 0"),
        (["--alpha", "2"], "--alpha 2"),
        (["--seed", "-1"], "-1"),
    ],
)
def test_controls_bad_input_exits_2(cli: Cli, args: list[str], needle: str) -> None:
    result = cli("controls", *args)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_controls_help_has_examples(cli: Cli) -> None:
    result = cli("controls", "--help")
    assert result.exit_code == 0
    assert "gumbelcheck controls --seed 1" in result.stdout
