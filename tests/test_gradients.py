"""gumbelcheck gradients: exact gradients, the estimators, their verdicts and controls."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import Result

from gumbelcheck.checks.gradients import (
    MIN_RARE_DRAWS,
    GradientKernel,
    Objective,
    annealing_schedule,
    discrete_gradient,
    gradients,
    near_ties,
    prepare,
)
from gumbelcheck.concrete import concrete_moments
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import categorical

Cli = Callable[..., Result]

PI = np.array([0.1, 0.2, 0.7])


def _softmax_rows(x: np.ndarray, tau: float) -> np.ndarray:
    e = np.exp((x - x.max(axis=1, keepdims=True)) / tau)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("tau", [0.1, 1.0, 5.0])
def test_concrete_moments_match_brute_force_monte_carlo(tau: float) -> None:
    theta = np.log(PI)
    n = 1_000_000
    g = -np.log(-np.log(np.random.default_rng(7).random((n, 3))))
    y = _softmax_rows(theta + g, tau)
    m = concrete_moments(theta, tau)
    for exact, values in ((m.mean, y), (m.second, y**2)):
        se = values.std(axis=0) / math.sqrt(n)
        assert np.all(np.abs(values.mean(axis=0) - exact) < 5 * se)
    assert m.mean.sum() == pytest.approx(1.0, abs=1e-12)


def test_concrete_moments_known_values_and_limits() -> None:
    # NUMERICS.md: k = 2, p = 0.9, tau = 1: E[y_1] = 0.816.
    assert concrete_moments(np.log([0.1, 0.9]), 1.0).mean[1] == pytest.approx(0.81601529, 1e-7)
    # tau -> 0: y is one-hot, E[y] = E[y^2] = pi; large tau: y -> uniform.
    small = concrete_moments(np.log(PI), 1e-4)
    np.testing.assert_allclose(small.mean, PI, atol=1e-3)
    np.testing.assert_allclose(small.second, PI, atol=1e-3)
    np.testing.assert_allclose(concrete_moments(np.log(PI), 1e4).mean, 1 / 3, atol=1e-3)


@pytest.mark.parametrize("tau", [1e-3, 0.7, 300.0])
def test_exact_gradients_agree_with_central_finite_differences(tau: float) -> None:
    rng = np.random.default_rng(3)
    theta = rng.normal(size=4)
    h = 1e-5
    for objective in (
        Objective("linear", rng.normal(size=4)),
        Objective("quadratic", rng.random(4)),
    ):
        values = objective.value(np.eye(4))

        def discrete(t: np.ndarray, values: np.ndarray = values) -> float:
            p = np.exp(t - t.max())
            return float(discrete_gradient(p / p.sum(), values)[0])

        _, exact_discrete = discrete_gradient(np.exp(theta) / np.exp(theta).sum(), values)
        _, exact_relaxed = objective.relaxed(theta, tau)
        for i in range(4):
            step = np.zeros(4)
            step[i] = h
            fd = (discrete(theta + step) - discrete(theta - step)) / (2 * h)
            assert exact_discrete[i] == pytest.approx(fd, abs=1e-8)
            up, down = (
                objective.relaxed(theta + step, tau)[0],
                objective.relaxed(theta - step, tau)[0],
            )
            assert exact_relaxed[i] == pytest.approx((up - down) / (2 * h), abs=1e-8)


def test_conditional_gumbel_draws_given_the_argmax_have_the_right_law() -> None:
    # Mixed over argmax D ~ pi, the top-down draws must be iid Gumbel(theta_i, 1).
    dist = categorical(PI)
    kernel = GradientKernel(dist, Objective("linear", PI), np.array([1.0]), 1, "none", 0.0, PI)
    rng = np.random.default_rng(5)
    hard = rng.choice(3, size=200_000, p=PI)
    x = kernel._conditional(rng, hard, hard.size)[0]
    assert np.array_equal(x.argmax(axis=1), hard)
    for i in range(3):
        assert stats.kstest(x[:, i] - dist.logp[i], stats.gumbel_r.cdf).pvalue > 1e-3


def test_correct_estimators_pass_with_bias_falling_and_variance_rising_as_tau_falls() -> None:
    result = gradients(PI, samples=100_000, seed=2, workers=1)
    assert result.passed, result.summary().reason
    gs = [r for r in result.rows if r.estimator == "gumbel-softmax"]
    exact = [r.exact_bias_norm for r in gs]  # increasing tau
    assert all(a < b for a, b in itertools.pairwise(exact))
    variance = [r.trace_variance for r in gs]
    assert all(a > b for a, b in itertools.pairwise(variance))
    for r in gs:  # the estimated bias agrees with the exact one
        assert abs(r.bias_norm - r.exact_bias_norm) < 5 * r.bias_norm_se + 1e-9
    reinforce, baseline = result.row("reinforce"), result.row("reinforce-baseline")
    assert baseline.trace_variance < reinforce.trace_variance
    for tau in result.taus:  # Rao-Blackwellization: no more variance than straight-through
        assert (
            result.row("gumbel-rao", tau).trace_variance
            <= result.row("straight-through", tau).trace_variance
        )
    assert all(t.mde > 0 for t in result.tests)
    assert result.summary().rule == f"holm({3 + 3 + 5 * (3 + 3 + 1)} tests)"


@pytest.mark.parametrize(
    ("control", "test"),
    [
        ("score-sign", "reinforce unbiased"),
        ("tau-misplaced", "gumbel-softmax unbiased"),
        ("rao-noisy", "gumbel-rao total variance"),
        ("rao-unconditional", "gumbel-rao mean"),
    ],
)
def test_negative_controls_fail(control: str, test: str) -> None:
    result = gradients(PI, tau="0.2,1,5", samples=50_000, seed=2, control=control, workers=1)
    assert not result.passed
    rejected = [(t.name, t.tau) for t in result.tests if t.rejected]
    assert rejected
    assert all(name.startswith(test) for name, _ in rejected), rejected
    if control == "tau-misplaced":  # at tau = 1 the misplaced temperature changes nothing
        assert [tau for _, tau in rejected] == [0.2, 5.0]
    elif control != "score-sign":  # the Gumbel-Rao controls fail at every temperature
        assert [tau for _, tau in rejected] == [0.2, 1.0, 5.0]


@pytest.mark.parametrize("pi", [(1e-6, 0.3, 0.7 - 1e-6), (1e-12, 0.3, 0.7 - 1e-12)])
def test_too_few_draws_of_a_rare_category_are_refused_before_sampling(
    pi: tuple[float, ...],
) -> None:
    # With no draw of category 1 expected, every z test was rejected (|z| ~ 1000; 1e12 for
    # Gumbel-Softmax, whose y_1 underflows to 1e-120 with a standard error of 1e-58).
    with pytest.raises(InputError, match=r"expected draws of the rarest outcome .* raise"):
        prepare(pi, samples=50_000)
    with pytest.raises(InputError, match="at least 1000"):
        prepare(PI, samples=2)
    enough = math.ceil(MIN_RARE_DRAWS / 1e-6)
    assert prepare((1e-6, 0.3, 0.7 - 1e-6), samples=enough).samples == enough


def test_near_the_rare_category_floor_correct_estimators_pass_and_a_wrong_one_fails() -> None:
    pi = (1e-3, 0.3, 0.699)  # N p = 100 = MIN_RARE_DRAWS
    options = {"tau": "1", "samples": 100_000, "seed": 3, "draws": 1, "workers": 1}
    assert gradients(pi, **options).passed
    wrong = gradients(pi, control="score-sign", **options)
    assert [t.name for t in wrong.tests if t.rejected] == [
        "reinforce unbiased for the discrete gradient"
    ]


def test_gumbel_softmax_at_a_tiny_temperature_is_not_applicable_rather_than_failed() -> None:
    # tau = 1e-4, N = 5e4: 0.45 near-ties expected; the mean of the correct estimator rests
    # on them and seed 5's z test gave |z| = 51. Its figures are still reported.
    result = gradients(PI, tau="1e-4,0.5", samples=50_000, seed=5, draws=1, workers=1)
    assert result.passed, result.summary().reason
    low, high = (t for t in result.tests if t.estimator == "gumbel-softmax")
    assert near_ties(PI, 50_000, 1e-4) == pytest.approx(0.45)
    assert not low.applicable
    assert not low.rejected
    assert "near-ties" in low.note
    assert low.statistic > 50  # what the z test would say
    assert low.log10_pvalue < -100
    assert math.isnan(low.holm_log10_pvalue)
    assert math.isnan(low.mde)
    assert high.applicable
    assert high.note == ""
    in_family = sum(t.hypotheses for t in result.tests if t.applicable)
    assert result.summary().rule == f"holm({in_family} tests)"
    assert in_family == 3 + 3 + 3 + 2 * (3 + 1)  # the tau = 1e-4 Gumbel-Rao tests count
    assert math.isfinite(result.row("gumbel-softmax", 1e-4).trace_variance)
    # The same temperature with the temperature misplaced still fails where it is tested.
    wrong = gradients(PI, tau="1e-4,0.5", samples=50_000, seed=5, draws=1, workers=1,
                      control="tau-misplaced")  # fmt: skip
    assert [(t.estimator, t.tau) for t in wrong.tests if t.rejected] == [("gumbel-softmax", 0.5)]


def test_results_do_not_depend_on_the_worker_count() -> None:
    options = {"tau": "0.3,3", "samples": 20_000, "seed": 9, "block_size": 3_000, "draws": 3}
    one = gradients(PI, workers=1, **options)
    two = gradients(PI, workers=2, **options)
    assert one.rows == two.rows
    assert one.tests == two.tests


def test_a_user_objective_gives_the_built_in_results() -> None:
    target = np.array([0.0, 0.5, 1.0])

    def loss(y: np.ndarray) -> np.ndarray:
        return np.square(y - target).sum(axis=1)

    options = {"tau": "0.5,2", "samples": 20_000, "seed": 4, "workers": 1, "draws": 2}
    built_in = gradients(PI, objective="quadratic", **options)
    numeric = gradients(PI, objective=loss, **options)  # central differences
    loss.gradient = lambda y: 2.0 * (y - target)  # type: ignore[attr-defined]
    exact = gradients(PI, objective=loss, **options)
    unknown = [replace(r, exact_bias_norm=math.nan) for r in built_in.rows]
    assert [replace(r, exact_bias_norm=math.nan) for r in exact.rows] == unknown
    for a, b in zip(numeric.rows, built_in.rows, strict=True):
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-6, atol=1e-8)
    assert not any(t.estimator == "gumbel-softmax" for t in exact.tests)  # relaxed unknown
    assert exact.passed


def test_annealing_schedule() -> None:
    schedule, share = annealing_schedule("1:0.5:1e-4:20000")
    assert schedule[0] == (0, 1.0)
    assert schedule[-1] == (20000, 0.5)
    assert schedule[2] == (5000, pytest.approx(math.exp(-0.5)))
    reach = math.ceil(math.log(2) / 1e-4)
    assert share == pytest.approx((20000 - reach + 1) / 20001)
    with pytest.raises(InputError, match="TAU_MIN 2 is above TAU0 1"):
        annealing_schedule("1:2:1e-4:100")


def test_the_command_writes_its_reports_and_refuses_bad_input(cli: Cli, tmp_path: Path) -> None:
    csv, junit = tmp_path / "g.csv", tmp_path / "g.xml"
    ok = cli("gradients", "--pi", "0.1,0.2,0.7", "--tau", "0.5,2", "-n", "2e4", "--seed", "1",
             "--draws", "2", "--csv", str(csv), "--junit", str(junit))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "gumbel-rao" in ok.stdout
    assert "verdict: PASS" in ok.stdout
    assert "# check: gradients" in csv.read_text()
    assert 'tests="1"' in junit.read_text()
    out = cli("gradients", "--pi", "0.1,0.2,0.7", "--anneal", "1:0.5:1e-4:20000", "-n", "2e4",
              "--seed", "1", "--draws", "2", "--json")  # fmt: skip
    assert out.exit_code == 0
    report = json.loads(out.stdout)
    assert report["check"] == "gradients"
    assert len(report["schedule"]) == 9
    assert report["tau"] == sorted(set(report["tau"]))
    wrong = cli("gradients", "--pi", "0.1,0.2,0.7", "--tau", "0.5,2", "-n", "2e4",
                "--control", "score-sign", "--draws", "2")  # fmt: skip
    assert wrong.exit_code == 1
    file = tmp_path / "loss.py"
    file.write_text("def f(y):\n    return (y[:, 0] - y[:, 2]) ** 2\n")
    user = cli("gradients", "--pi", "0.1,0.2,0.7", "--objective", f"{file}:f", "--tau", "1",
               "-n", "2e4", "--draws", "2")  # fmt: skip
    assert user.exit_code == 0, user.output
    for args, message in [
        (("--control", "nope"), "--control 'nope' is not known"),
        (("--tau", "1e-9"), "outside [0.0001, 10000]"),
        (("--target", "1,2"), "--target has 2 values for 3 categories"),
        (("--anneal", "1:0.5"), "is not TAU0:TAU_MIN:RATE:STEPS"),
        (("--anneal", "1:0.5:1e-4:10", "--tau", "1"), "give --tau or --anneal"),
        (("--objective", "nope"), "--objective 'nope' is not known"),
        (("--objective", f"{tmp_path}/none.py:f"), "does not exist"),
    ]:
        bad = cli("gradients", "--pi", "0.1,0.2,0.7", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert message in bad.stderr, bad.stderr
    for args, message in [
        (("--pi", "1e-6,0.3,0.699999"), "expected draws of the rarest outcome"),
        (("--pi", "0.1,0.2,0.7", "-n", "2"), "--samples 2 is too small"),
    ]:
        bad = cli("gradients", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert message in bad.stderr, bad.stderr
    zero = cli("gradients", "--pi", "0,0.5,0.5")
    assert zero.exit_code == 2
    assert "positive probability" in zero.stderr


def test_the_figure(tmp_path: Path) -> None:
    from gumbelcheck.output.figures import gradients_png  # matplotlib is in the test extra

    path = tmp_path / "gradients.png"
    gradients_png(gradients(PI, tau="0.3,3", samples=5_000, seed=1, draws=2, workers=1), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_committed_results_show_the_trade_off() -> None:
    # The default suite's report: Gumbel-Softmax's bias falls and its variance rises as tau
    # falls (rows in increasing tau).
    import pandas as pd

    path = Path(__file__).resolve().parent.parent / "results" / "gradients-quadratic.csv"
    table = pd.read_csv(path, comment="#")
    gs = table[table["estimator"] == "gumbel-softmax"].sort_values("tau")
    assert len(gs) == 5
    for column in ("bias_norm", "exact_bias_norm"):
        assert gs[column].is_monotonic_increasing
    assert gs["trace_variance"].is_monotonic_decreasing
