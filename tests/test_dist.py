"""gumbelcheck dist: passes for correct functions and sampler, fails for wrong ones."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gumbelcheck import gumbel
from gumbelcheck.checks.dist import COLUMNS, accuracy_table, dist
from gumbelcheck.cli import app
from gumbelcheck.core.errors import InputError

# A coarser grid keeps the tests fast; the CLI runs the full one.
POINTS = 60


def _rows(rows: Any) -> dict[tuple[str, str], Any]:
    return {(row.function, row.region): row for row in rows}


@pytest.mark.parametrize(("mu", "beta"), [(0.0, 1.0), (3.7, 0.3), (-1000.0, 50.0), (1e6, 1e-3)])
def test_accuracy_passes_for_several_parameters(mu: float, beta: float) -> None:
    rows = accuracy_table(mu, beta, points=POINTS)
    failed = [(r.function, r.region, r.error_ratio) for r in rows if not r.passed]
    assert failed == []
    assert all(r.n_points > 0 for r in rows if r.kind == "identity")


def test_scipy_logsf_deviates_in_the_far_right_tail_and_nowhere_else() -> None:
    rows = accuracy_table(0.0, 1.0, points=POINTS)
    deviating = {(r.function, r.region) for r in rows if r.scipy_deviates}
    assert deviating == {("logsf", "far right")}
    far = _rows(rows)[("logsf", "far right")]
    assert far.scipy_n_nonfinite > 0  # -inf beyond z = 745
    assert far.passed
    assert far.max_ulp_err <= 1


def _naive_sf(x: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    return 1.0 - gumbel.cdf(x, mu, beta)


def _naive_logsf(x: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    with np.errstate(divide="ignore"):
        return np.log(gumbel.sf(x, mu, beta))


def _ppf_through_one_minus_p(p: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    return gumbel.isf(1.0 - np.asarray(p), mu, beta)


def _ppf_through_reciprocal(p: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    with np.errstate(divide="ignore"):
        return mu - beta * np.log(np.log(1.0 / np.asarray(p)))


def _cdf_split_z(x: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    return np.exp(-np.exp(-(np.asarray(x) / beta - mu / beta)))


def _pdf_without_scale(x: Any, mu: float = 0.0, beta: float = 1.0) -> Any:
    return gumbel.pdf(x, mu, beta) * beta


@pytest.mark.parametrize(
    ("functions", "mu", "beta", "failing"),
    [
        ({"sf": _naive_sf}, 0.0, 1.0, ("sf", "right tail")),
        ({"logsf": _naive_logsf}, 0.0, 1.0, ("logsf", "far right")),
        ({"ppf": _ppf_through_one_minus_p}, 0.0, 1.0, ("ppf", "left tail")),
        ({"ppf": _ppf_through_reciprocal}, 0.0, 1.0, ("ppf", "right tail")),
        ({"cdf": _cdf_split_z}, 1000.0, 3.0, ("cdf", "bulk")),
        ({"pdf": _pdf_without_scale}, 0.0, 2.0, ("pdf", "bulk")),
    ],
)
def test_a_wrong_formula_fails_the_accuracy_check(
    functions: dict[str, Any], mu: float, beta: float, failing: tuple[str, str]
) -> None:
    rows = _rows(accuracy_table(mu, beta, functions=functions, points=POINTS))
    assert not rows[failing].passed
    # The other functions are untouched and still pass.
    assert all(r.passed for key, r in rows.items() if key[0] in ("logcdf", "isf"))


def test_unknown_function_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown functions cfd"):
        accuracy_table(functions={"cfd": gumbel.cdf}, points=POINTS)


def test_sampling_check_passes_with_a_fixed_seed() -> None:
    result = dist(2.0, 3.0, samples=200_000, seed=11, points=POINTS)
    assert result.passed, result.reason
    s = result.sampling
    assert [t.name for t in s.tests] == ["ks", "cramer-von-mises", "mean-z", "variance-z"]
    assert s.mean.ci_low < 2.0 + np.euler_gamma * 3.0 < s.mean.ci_high
    assert s.variance.ci_low < math.pi**2 * 9.0 / 6.0 < s.variance.ci_high
    # mu and beta are not the mean and the standard deviation
    assert s.mean.expected == pytest.approx(2.0 + 0.5772156649015329 * 3.0)
    assert s.sd_expected == pytest.approx(math.pi * 3.0 / math.sqrt(6.0))


def _left_gumbel(rng: np.random.Generator, n: int, mu: float, beta: float) -> Any:
    return -gumbel.sample(rng, n, -mu, beta)  # mu + beta log(-log U): the gumbel_l convention


def _scale_105(rng: np.random.Generator, n: int, mu: float, beta: float) -> Any:
    return gumbel.sample(rng, n, mu, 1.05 * beta)


@pytest.mark.parametrize("sampler", [_left_gumbel, _scale_105])
def test_sampling_check_fails_for_a_wrong_sampler(sampler: Any) -> None:
    result = dist(0.0, 1.0, samples=200_000, seed=11, sampler=sampler, points=POINTS)
    assert result.accuracy_passed
    assert not result.sampling.passed
    assert not result.passed
    assert result.sampling.log10_pvalue < -10
    assert "sampling" in result.reason


def test_large_statistics_keep_a_finite_log10_pvalue() -> None:
    result = dist(0.0, 1.0, samples=200_000, seed=3, sampler=_left_gumbel, points=POINTS)
    logs = {t.name: t.log10_pvalue for t in result.sampling.tests}
    # p underflows to 0 for KS, CvM and the mean; their log10 stays finite. The mirrored
    # distribution has the same variance, so that test alone cannot see it.
    for name in ("ks", "cramer-von-mises", "mean-z"):
        assert math.isfinite(logs[name])
        assert logs[name] < -1000
    assert logs["variance-z"] > -3


def test_result_is_identical_for_any_number_of_workers() -> None:
    one = dist(samples=300_000, seed=5, points=POINTS, block_size=50_000, workers=1)
    two = dist(samples=300_000, seed=5, points=POINTS, block_size=50_000, workers=2)
    assert one.sampling.mean == two.sampling.mean
    assert one.sampling.variance == two.sampling.variance
    assert one.sampling.tests == two.sampling.tests
    assert one.sampling.gof_draws == 300_000


def test_gof_subsample_is_capped_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from gumbelcheck.checks import dist as module

    monkeypatch.setattr(module, "GOF_MAX_DRAWS", 10_000)
    result = dist(samples=30_000, seed=5, points=POINTS, block_size=4_000)
    assert result.sampling.gof_draws == 10_000
    assert result.sampling.samples == 30_000


def test_frame_summary_and_json_are_consistent() -> None:
    result = dist(samples=10_000, seed=1, points=POINTS)
    frame = result.to_frame()
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == len(result.accuracy)
    assert not frame.duplicated(["function", "region"]).any()
    summary = result.summary().flat()
    for key in ("check", "verdict", "rule", "test", "statistic", "df", "pvalue", "log10_pvalue"):
        assert key in summary
    assert summary["check"] == "dist"
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta": 0.0}, "`beta` 0.0 is not positive"),
        ({"beta": -1.0}, "`beta` -1.0 is not positive"),
        ({"beta": math.nan}, "`beta` nan is not finite"),
        ({"mu": math.inf}, "`mu` inf is not finite"),
        ({"samples": 10}, "`samples` 10 is too small"),
    ],
)
def test_bad_parameters_are_input_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        dist(**kwargs)


# The command line.


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["dist", *args])


def test_cli_passes_and_prints_the_report() -> None:
    result = _invoke("--mu", "1.5", "--beta", "2", "--samples", "20000", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "verdict: PASS" in result.output
    assert "SciPy deviations" in result.output
    assert "logsf" in result.output
    assert "is not the sd" in result.output


def test_cli_json_and_csv(tmp_path: Any) -> None:
    path = tmp_path / "dist.csv"
    result = _invoke("--samples", "20000", "--seed", "1", "--json", "--csv", str(path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "PASS"
    assert data["provenance"]["seed"] == 1
    frame = pd.read_csv(path, comment="#")
    assert tuple(frame.columns) == COLUMNS
    assert frame.loc[frame.function == "logsf", "scipy_deviates"].any()
    assert path.read_text().startswith("# check: dist")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beta", "0"], "--beta 0 is not positive"),
        (["--beta", "-2"], "--beta -2 is not positive"),
        (["--beta", "nan"], "--beta nan is not finite"),
        (["--mu", "nan"], "--mu nan is not finite"),
        (["--mu", "inf"], "--mu inf is not finite"),
        (["--mu", "abc"], "--mu 'abc' is not a number"),
        (["--alpha", "2"], "--alpha 2 is outside (0, 1)"),
    ],
)
def test_cli_bad_input_is_one_line_with_exit_code_2(args: list[str], message: str) -> None:
    result = _invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_cli_bad_csv_path_fails_before_computing(tmp_path: Any) -> None:
    result = _invoke("--csv", str(tmp_path / "missing" / "x.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_cli_exit_code_1_when_the_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from gumbelcheck import gumbel as module

    monkeypatch.setattr(module, "logsf", _naive_logsf)
    result = _invoke("--samples", "20000", "--seed", "1", "--quiet")
    assert result.exit_code == 1
    assert "verdict: FAIL" in result.output
