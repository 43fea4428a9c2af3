"""Calibration: p-values of replicates against exact multinomial p-values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from gumbelcheck import engine
from gumbelcheck.checks.calibration import calibrate

Cli = Callable[..., Result]
PI = [0.1, 0.2, 0.7]


def test_a_correct_sampler_is_calibrated() -> None:
    result = calibrate(PI, samples=10_000, replicates=300, seed=3)
    assert result.passed, result.summary().reason
    assert result.rate_low <= 0.01 <= result.rate_high
    assert result.size_pvalue > 0.01
    assert result.ks_pvalue > 0.01
    assert result.replicate_seeds == tuple(engine.child_seed(3, 0, r) for r in range(300))
    assert result.reference_seeds[0] == engine.child_seed(3, 1, 0)


def test_a_wrong_sampler_fails_the_calibration() -> None:
    result = calibrate(PI, samples=10_000, replicates=100, seed=3, sampler="gumbel-scale-2")
    assert not result.passed
    assert result.ks_pvalue < 1e-10
    assert result.rejections == 100
    assert "KS p" in result.summary().reason


def test_small_n_discrete_pvalues_need_the_exact_multinomial_reference() -> None:
    # N = 10: Pearson's statistic takes six values, its p-values are far from uniform.
    result = calibrate([0.5, 0.5], samples=10, replicates=200, seed=5)
    assert result.uniform_ks_pvalue < 1e-6  # a KS test against Uniform(0, 1) wrongly rejects
    assert result.ks_pvalue > 0.5  # the exact multinomial comparison does not
    assert result.passed


def test_calibration_is_reproducible_for_any_worker_count() -> None:
    one = calibrate(PI, samples=300_000, replicates=3, seed=9, workers=1)
    two = calibrate(PI, samples=300_000, replicates=3, seed=9, workers=2)
    assert one.pvalues.tolist() == two.pvalues.tolist()
    assert one.reference_pvalues.tolist() == two.reference_pvalues.tolist()


def test_cli_replicates_pass_fail_and_reports(cli: Cli, tmp_path: Path) -> None:
    base = ["maxtrick", "--pi", "0.1,0.2,0.7", "-n", "5000", "--replicates", "100", "-q"]
    path = tmp_path / "calibration.csv"
    passed = cli(*base, "--seed", "1", "--csv", str(path))
    assert passed.exit_code == 0, passed.output
    assert "Clopper-Pearson" in passed.stdout
    frame = pd.read_csv(path, comment="#")
    assert len(frame) == 200
    assert set(frame["source"]) == {"race", "exact-multinomial"}
    failed = cli(*base, "--seed", "1", "--noise", "gaussian", "--json")
    assert failed.exit_code == 1
    data = json.loads(failed.stdout)
    assert data["check"] == "calibration"
    assert data["verdict"] == "FAIL"
    assert len(data["pvalue_deciles"]) == 9


@pytest.mark.parametrize(("value", "needle"), [("1", "--replicates 1"), ("many", "'many'")])
def test_cli_bad_replicates_exit_2(cli: Cli, value: str, needle: str) -> None:
    result = cli("maxtrick", "--pi", "0.5,0.5", "--replicates", value)
    assert result.exit_code == 2
    assert needle in result.stderr
