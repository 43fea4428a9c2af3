"""Tests of the Gumbel-Softmax temperature sweep (gumbelcheck sweep)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from typer.testing import CliRunner

from gumbelcheck import engine
from gumbelcheck.checks.sweep import SweepResult, gumbel_softmax, sweep
from gumbelcheck.cli import app
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import parse_tau_grid
from gumbelcheck.stats import holm_reject
from gumbelcheck.suite.spec import DEFAULT_SUITE, parse_suite

PI = [0.1, 0.2, 0.7]
LOGP = np.log(PI)

COLUMNS = [
    "tau",
    "one_hot_gap",
    "one_hot_gap_se",
    "uniform_gap",
    "uniform_gap_se",
    "entropy",
    "entropy_se",
    "mean_bias",
    "mean_bias_se",
    "one_hot_fraction",
    "one_hot_fraction_se",
    "argmax_pvalue",
    "logistic_ks_pvalue",
    "logistic_max_error",
    "logistic_rel_error",
]


# Deliberately wrong relaxations ------------------------------------------------------------


Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def naive_exp(x: NDArray[np.float64], tau: float, out: Pair) -> Pair:
    """softmax without the log-space care: exp overflows (inf / inf = NaN) and underflows."""
    e = np.exp(x / tau)
    y = e / e.sum(axis=1, keepdims=True)
    return y, np.log(y)


def misplaced_tau(x: NDArray[np.float64], tau: float, out: Pair) -> Pair:
    """softmax(ln pi / tau + g): argmax samples proportional to pi^(1/tau)."""
    return gumbel_softmax(x - LOGP + LOGP / tau, 1.0, out)


def inverted_tau(x: NDArray[np.float64], tau: float, out: Pair) -> Pair:
    """softmax(tau (ln pi + g)): the argmax is right, the temperature runs backwards."""
    return gumbel_softmax(x, 1.0 / tau, out)


@pytest.fixture(scope="module")
def default_grid() -> SweepResult:
    """The README example: 25 log-spaced tau in [1e-3, 1e3], N = 1e5."""
    return sweep(PI, tau="1e-3:1e3:25", samples=100_000, seed=5)


# The exact relaxation ----------------------------------------------------------------------


def test_reference_one_hot_gap_at_tau_1() -> None:
    # NUMERICS.md: E[1 - max y] = 0.2857 for pi = (0.1, 0.2, 0.7) at tau = 1 (a 400^3
    # Gauss-Legendre quadrature over the three uniforms gives 0.285775).
    result = sweep(PI, tau=1, samples=1_000_000, seed=1)
    point = result.points[0]
    assert point.one_hot_gap_se < 3e-4
    assert abs(point.one_hot_gap - 0.2857) < 3 * point.one_hot_gap_se
    assert result.passed, result.failures


def test_default_grid_passes_and_runs_from_one_hot_to_uniform(default_grid: SweepResult) -> None:
    result = default_grid
    assert result.passed, result.failures
    frame = result.to_frame()
    assert list(frame["tau"]) == pytest.approx(np.geomspace(1e-3, 1e3, 25).tolist())
    assert set(COLUMNS) <= set(frame.columns)
    assert "one_hot_fraction_f32" not in frame.columns
    # With common random numbers each per-sample gap is monotone in tau, so the means are.
    assert (np.diff(frame["one_hot_gap"]) > 0).all()
    assert (np.diff(frame["uniform_gap"]) < 0).all()
    # The ends: nearly one-hot at tau = 1e-3, nearly uniform at tau = 1e3.
    assert frame["one_hot_gap"].iloc[0] < 1e-3
    assert frame["uniform_gap"].iloc[-1] < 1e-3
    # max y rounds to exactly 1 once the gap / tau > ~36.7; the other entries vanish at ~745.
    assert frame["one_hot_fraction"].iloc[0] > 0.5
    assert frame["one_hot_fraction"].iloc[-1] == 0
    # E[y] tends to pi as tau -> 0 and to uniform as tau -> inf.
    assert frame["mean_bias"].iloc[0] < 4 * frame["mean_bias_se"].iloc[0] + 3e-3
    uniform_tv = 0.5 * sum(abs(p - 1 / 3) for p in PI)
    assert frame["mean_bias"].iloc[-1] == pytest.approx(uniform_tv, abs=1e-3)
    assert (frame["logistic_rel_error"] < 1e-15).all()
    assert (frame["nonfinite"] == 0).all()
    summary = result.summary().flat()
    assert summary["rule"] == "holm(50 tests)"
    assert summary["reason"] == ""
    assert result.pair == (2, 1)


def test_float32_one_hot_fraction() -> None:
    result = sweep(PI, tau="1e-3,0.01,0.1,1", samples=20_000, seed=3, float32=True)
    frame = result.to_frame()
    # float32's exp underflows at a gap / tau of ~104 instead of ~745: more one-hot samples.
    assert (frame["one_hot_fraction_f32"] >= frame["one_hot_fraction"]).all()
    assert frame["one_hot_fraction_f32"].iloc[1] > frame["one_hot_fraction"].iloc[1] + 0.3
    assert frame["one_hot_fraction_f32"].iloc[-1] == 0


@pytest.mark.parametrize("fork", [False, True])
def test_same_seed_same_frame_for_any_worker_count(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fork:  # worker processes even for this short run (threads otherwise)
        monkeypatch.setattr(engine.local, "PROCESS_MIN_SECONDS", 0.0)
    # More samples than the KS test keeps: the later blocks return no law values.
    kwargs = {"tau": "0.01,1,100", "samples": 40_000, "seed": 11, "block_size": 3_000}
    one = sweep(PI, workers=1, **kwargs).to_frame()
    two = sweep(PI, workers=2, **kwargs).to_frame()
    again = sweep(PI, workers=2, **kwargs).to_frame()
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(two, again, check_exact=True)
    other = sweep(PI, workers=2, **{**kwargs, "seed": 12}).to_frame()
    assert not one["one_hot_gap"].equals(other["one_hot_gap"])


def test_zero_probability_category_and_logits() -> None:
    result = sweep(logits="-inf,0,1,2", tau="0.1,1,10", samples=20_000, seed=4)
    assert result.passed, result.failures
    assert result.pi[0] == 0
    assert all(p.argmax_counts[0] == 0 for p in result.points)
    assert all(math.isfinite(p.entropy) for p in result.points)


# Wrong relaxations must fail ---------------------------------------------------------------


def test_naive_exp_relaxation_is_caught() -> None:
    result = sweep(PI, tau="1e-3:1e3:25", samples=100_000, seed=5, relaxation=naive_exp)
    assert not result.passed
    reason = result.summary().reason
    assert "NaN or infinite y at tau = 0.001" in reason
    assert "the logistic law fails at tau = 0.001" in reason
    small = result.points[0]
    assert small.nonfinite > 0
    assert not small.logistic_max_error <= 1e-6
    # Away from the overflow the naive form is right: the same numbers as the log-space one.
    assert not result.points[-1].logistic_rejected


def test_misplaced_tau_fails_the_argmax_test() -> None:
    result = sweep(PI, tau="0.5,2", samples=100_000, seed=6, relaxation=misplaced_tau)
    assert not result.passed
    assert all(p.argmax_rejected for p in result.points)
    assert "argmax(y) ~ Categorical(pi) fails at tau = 0.5, 2" in result.summary().reason
    # At tau = 1 the misplaced form coincides with the right one.
    assert sweep(PI, tau=1, samples=100_000, seed=6, relaxation=misplaced_tau).passed


def test_inverted_temperature_fails_monotonicity_and_the_law() -> None:
    result = sweep(PI, tau="0.1,1,10", samples=20_000, seed=7, relaxation=inverted_tau)
    assert not result.passed
    assert not any(p.argmax_rejected for p in result.points)
    reason = result.summary().reason
    assert "one_hot_gap falls as tau grows" in reason
    assert "uniform_gap rises as tau grows" in reason
    assert "the logistic law fails at tau = 0.1, 10" in reason


def test_float64_limits_fail_where_the_relaxation_breaks() -> None:
    # Subnormal tau: (x - max x) / tau overflows to -inf and the law is lost.
    tiny = sweep(PI, tau="1e-320", samples=10_000, seed=8)
    assert tiny.failures == ("the logistic law fails at tau = 1e-320",)
    # Huge tau: all log y round to -ln k, argmax ties go to category 0.
    huge = sweep(PI, tau="1e17", samples=10_000, seed=8)
    assert huge.points[0].argmax_rejected
    assert huge.points[0].logistic_rejected


# Input validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("0,1", "0 is not a finite positive temperature"),
        ("-1:10:3", "-1 is not a finite positive temperature"),
        ("nan", "nan is not a finite positive temperature"),
        ("inf", "inf is not a finite positive temperature"),
        ("1e-3:1e3:0", "at least 1"),
        ("1e-3:1e3:2.5", "is not a whole number"),
        ("10:1:5", "START < STOP"),
        ("1:2:1", "asks for 1 value between two different ends"),
        ("0.1,abc", "('abc') is not a number"),
        ("1,0.5,1", "lists 1 more than once"),
        ("", "is empty"),
    ],
)
def test_bad_tau_grids(grid: str, message: str) -> None:
    with pytest.raises(InputError) as error:
        parse_tau_grid(grid)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_tau_grids() -> None:
    assert parse_tau_grid("2,0.1,1").tolist() == [0.1, 1.0, 2.0]
    assert parse_tau_grid("1e-3:1e3:7").tolist() == pytest.approx(
        [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000], rel=1e-12
    )
    assert parse_tau_grid("5:5:1").tolist() == [5.0]
    assert parse_tau_grid(0.5).tolist() == [0.5]
    assert parse_tau_grid([3, 1]).tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pi": [1.0]}, "at least two categories with positive probability"),
        ({"pi": [0.0, 1.0, 0.0]}, "at least two categories with positive probability"),
        ({"pi": PI, "samples": 1}, "at least 2"),
        ({"pi": PI, "tau": "1e-3:1e3:201"}, "at most 200"),
        ({"pi": PI, "alpha": 2}, "outside (0, 1)"),
    ],
)
def test_bad_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as error:
        sweep(**kwargs)
    assert message in str(error.value)


def test_holm() -> None:
    log10 = np.log10([0.001, 0.02, 0.04, 0.5])
    assert holm_reject(log10, 0.05).tolist() == [True, False, False, False]
    assert holm_reject(np.log10([0.01, 0.011, 0.9]), 0.05).tolist() == [True, True, False]
    assert holm_reject(np.array([math.nan, 0.0]), 0.05).tolist() == [True, False]


def test_default_suite_has_a_sweep() -> None:
    specs = [spec for spec in parse_suite(DEFAULT_SUITE).checks if spec.check == "sweep"]
    assert len(specs) == 1


# CLI ---------------------------------------------------------------------------------------

runner = CliRunner()
BASE = ["sweep", "--pi", "0.1,0.2,0.7", "--tau", "0.01,1,100", "-n", "20000", "--seed", "9"]


def test_cli_pass_json() -> None:
    result = runner.invoke(app, [*BASE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "PASS"
    assert [p["tau"] for p in data["points"]] == [0.01, 1.0, 100.0]
    assert data["provenance"]["seed"] == 9


def test_cli_rich_report() -> None:
    result = runner.invoke(app, BASE)
    assert result.exit_code == 0, result.output
    for text in ("gumbelcheck sweep", "one_hot_gap", "uniform_gap", "verdict: PASS", "holm(6"):
        assert text in result.stdout


def test_cli_fail_exit_1() -> None:
    result = runner.invoke(app, ["sweep", "--pi", "0.1,0.2,0.7", "--tau", "1e-320", "-n", "1e4"])
    assert result.exit_code == 1
    assert "verdict: FAIL" in result.stdout
    assert "the logistic law fails" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tau", "0,1"], "0 is not a finite positive temperature"),
        (["--tau", "1e-3:1e3:x"], "is not a whole number"),
        (["--pi", "0.5,0.6"], "sums to"),
        (["--samples", "1"], "at least 2"),
    ],
)
def test_cli_input_errors_exit_2(args: list[str], message: str) -> None:
    argv = ["sweep", "--pi", "0.1,0.2,0.7", "-n", "1000", *args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("gumbelcheck: error: ")
    assert message in result.stderr


def test_cli_csv(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    result = runner.invoke(app, [*BASE, "--float32", "--csv", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(path, comment="#")
    assert {*COLUMNS, "one_hot_fraction_f32"} <= set(frame.columns)
    assert len(frame) == 3
    assert "# seed: 9" in path.read_text().splitlines()


def test_cli_csv_bad_folder_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BASE, "--csv", str(tmp_path / "missing" / "x.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_cli_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "sweep.png"
    result = runner.invoke(app, [*BASE, "--plot", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    path = tmp_path / "sweep.png"
    result = runner.invoke(app, [*BASE, "--plot", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "--plot needs matplotlib" in result.stderr
    assert not path.exists()


@pytest.mark.parametrize("n", [500, 9_999, 32_768])
def test_ks_logistic_matches_scipy(n: int) -> None:
    from scipy import stats

    from gumbelcheck.stats import ks_logistic

    values = np.random.default_rng(n).logistic(size=n) * 1.02  # slightly too wide
    d, pvalue, log10_p = ks_logistic(values)
    reference = stats.kstest(values, "logistic")
    assert d == pytest.approx(reference.statistic, rel=1e-12)
    # Exact below KS_ASYMPTOTIC_N draws, Stephens' asymptotic form above.
    assert pvalue == pytest.approx(reference.pvalue, rel=1e-9 if n < 10_000 else 0.02)
    assert log10_p == pytest.approx(math.log10(pvalue))
