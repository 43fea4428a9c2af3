"""Samplers users ship: ``--sampler file.py:function`` / ``module:function`` / a callable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from gumbelcheck import check_counts, maxtrick, returns_counts
from gumbelcheck.checks import maxtrick as check
from gumbelcheck.core.params import categorical
from gumbelcheck.core.run import RunConfig
from gumbelcheck.samplers import SamplerError, load_user_sampler, resolve

Cli = Callable[..., Result]
DATA = Path(__file__).resolve().parent / "data"
FILE = DATA / "user_samplers.py"
PI = [0.1, 0.2, 0.7]


def spec(function: str) -> str:
    return f"{FILE}:{function}"


def _without_volatile(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.startswith(("# created_utc", "# command"))
    )


def test_a_correct_file_sampler_passes_and_two_runs_give_the_same_csv(
    cli: Cli, tmp_path: Path
) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        args = ["--pi", "0.1,0.2,0.7", "-n", "1e6", "--seed", "7", "--sampler", spec("choice")]
        result = cli("maxtrick", *args, "--csv", str(path), "-q")
        assert result.exit_code == 0, result.output
        assert "verdict: PASS" in result.stdout
    first, second = (p.read_text() for p in paths)
    assert _without_volatile(first) == _without_volatile(second)
    digest = hashlib.sha256(FILE.read_bytes()).hexdigest()
    assert f"# sampler_origin: sha256:{digest}" in first
    assert f"# noise: {spec('choice')}" in first


def test_workers_and_backends_do_not_change_a_user_samplers_result() -> None:
    # Worker processes load the file from its path (the function is not importable there).
    dist = categorical(PI)
    sampler = resolve(spec("choice"))
    config = RunConfig.create(samples=600_000, seed=3, block_size=20_000, workers=1)
    results = {
        (backend, workers): check.run(
            dist, sampler, replace(config, backend=backend, workers=workers)
        ).counts
        for backend in ("threads", "processes")
        for workers in (1, 2)
    }
    assert len(set(results.values())) == 1, results


@pytest.mark.parametrize(
    ("function", "exponent"), [("tempered", 1 / 1.05)], ids=["pi^(1/1.05)"]
)
def test_a_wrong_sampler_fails_and_its_counts_fit_its_exact_law(
    function: str, exponent: float
) -> None:
    result = maxtrick(PI, samples=2_000_000, seed=5, sampler=spec(function))
    assert not result.passed
    assert result.gof.log10_pvalue < -10
    # The law it really samples, by closed form: pi^(1/1.05), normalized.
    q = np.asarray(PI) ** exponent
    assert check_counts(q / q.sum(), counts=result.counts).passed


def test_reused_noise_fails() -> None:
    result = maxtrick(PI, samples=1_000_000, seed=5, sampler=spec("reused_noise"))
    assert not result.passed
    assert result.gof.log10_pvalue < -1000


@pytest.mark.parametrize(("function", "per_block"), [("out_of_range", None), ("negative", 1)])
def test_draws_outside_the_categories_are_a_hard_failure(
    function: str, per_block: int | None
) -> None:
    n, block = 300_000, 65_536
    result = maxtrick(PI, samples=n, seed=1, sampler=spec(function))
    sizes = [min(block, n - start) for start in range(0, n, block)]
    expected = sum(-(-size // 1000) if per_block is None else per_block for size in sizes)
    assert result.gof.outside_draws == expected
    summary = result.summary()
    assert summary.verdict == "FAIL"
    assert summary.hard_failure
    assert summary.figures["outside_draws"] == expected
    assert f"{expected} draws outside the categories 0..2" in summary.reason


def test_the_counting_form_passes_and_a_python_callable_works() -> None:
    assert maxtrick(PI, samples=1_000_000, seed=2, sampler=spec("multinomial_counts")).passed

    @returns_counts
    def closure(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).multinomial(n, np.exp(logits))

    # A closure does not pickle: the engine runs it on threads, with the same result.
    one = maxtrick(PI, samples=300_000, seed=2, sampler=closure, workers=1)
    two = maxtrick(PI, samples=300_000, seed=2, sampler=closure, workers=2)
    assert one.passed
    assert one.counts == two.counts
    assert one.provenance.sampler_origin.startswith("module ")


def test_a_module_spec_records_where_the_module_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(DATA))
    result = maxtrick(PI, samples=100_000, seed=1, sampler="user_samplers:choice")
    assert result.passed
    digest = hashlib.sha256(FILE.read_bytes()).hexdigest()
    assert result.provenance.sampler_origin == f"module user_samplers (sha256:{digest})"


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("raises", r"raised RuntimeError: CUDA out of memory second line \(block 0, n = "),
        ("too_short", r"returned 65535 values of shape \(65535,\) for n = 65536"),
        ("fractional", r"returned indices that are not whole numbers \(0.5\)"),
        ("nan", "returned NaN indices"),
        ("strings", "returned <U1 values"),
        ("counts_off_by_one", "returned counts that add up to 65537, not n = 65536"),
    ],
)
def test_a_broken_contract_is_one_line_naming_the_spec_block_and_seed(
    function: str, message: str
) -> None:
    with pytest.raises(SamplerError, match=message) as raised:
        maxtrick(PI, samples=200_000, seed=1, sampler=spec(function), workers=1)
    text = str(raised.value)
    assert "\n" not in text
    assert spec(function) in text
    assert "seed = " in text


def test_the_seed_in_the_error_reproduces_the_call() -> None:
    with pytest.raises(SamplerError) as raised:
        maxtrick(PI, samples=100, seed=9, sampler=spec("too_short"), workers=1)
    seed = int(str(raised.value).rsplit("seed = ", 1)[1].rstrip(")"))
    # The engine's seed for block 0: the block generator's first draw below 2**63.
    from gumbelcheck.engine import block_generator

    assert seed == int(block_generator(9, 0).integers(2**63))


@pytest.mark.parametrize(
    ("sampler", "message"),
    [
        ("tests/data/missing.py:f", "does not exist"),
        (f"{FILE}:nope", "has no attribute 'nope'"),
        (f"{FILE}:not_callable", "is a int, not a function"),
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
        (":f", "is not of the form"),
    ],
)
def test_a_spec_that_cannot_be_loaded_exits_2_before_sampling(
    cli: Cli, sampler: str, message: str
) -> None:
    result = cli("maxtrick", "--pi", "0.1,0.2,0.7", "--sampler", sampler, "-n", "1e12")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "--sampler" in result.stderr


def test_a_sampler_that_raises_in_a_worker_process_exits_2_with_one_line(cli: Cli) -> None:
    result = cli(
        "maxtrick", "--pi", "0.1,0.2,0.7", "--sampler", spec("raises"), "-n", "1e6",
        "--workers", "2", "-q",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "raised RuntimeError: CUDA out of memory" in result.stderr
    assert "Traceback" not in result.output


def test_a_user_sampler_pickles_by_its_spec() -> None:
    import pickle

    sampler = load_user_sampler(spec("choice"))
    again = pickle.loads(pickle.dumps(sampler))
    assert again.name == sampler.name
    assert again.origin == sampler.origin


def test_calibration_of_a_user_sampler_names_it_in_its_hypothesis() -> None:
    from gumbelcheck.checks.calibration import calibrate

    result = calibrate(PI, samples=2_000, replicates=20, seed=1, sampler=spec("choice"))
    assert result.null_hypothesis.startswith(f"the draws of {spec('choice')}(logits, n, seed)")
    assert result.provenance.sampler_origin.startswith("sha256:")


def test_a_users_gumbel_softmax_passes_the_sweep_with_workers_1_and_2() -> None:
    from gumbelcheck import sweep

    one = sweep(PI, tau="1e-3:1e3:7", samples=40_000, seed=4, sampler=spec("relaxed"), workers=1)
    two = sweep(PI, tau="1e-3:1e3:7", samples=40_000, seed=4, sampler=spec("relaxed"), workers=2)
    assert one.passed, one.failures
    assert one.to_frame().equals(two.to_frame())
    assert one.user_sampler
    frame = one.to_frame()
    assert (frame["off_simplex"] == 0).all()
    # At tau = 1e-3 y_j underflows to 0: the KS test there is untested, not failed.
    assert np.isnan(frame["logistic_ks_pvalue"].iloc[0])
    assert frame["logistic_ks_pvalue"].iloc[-1] > 0.01
    assert frame["logistic_max_error"].isna().all()  # needs g: not measured
    assert one.summary().rule == f"holm({14 - frame['logistic_ks_pvalue'].isna().sum()} tests)"
    assert one.provenance.noise == spec("relaxed")
    assert one.provenance.sampler_origin.startswith("sha256:")


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ("relaxed_tau_misplaced", "Categorical(pi) fails at tau = 0.001, 0.1, 10; the logistic"),
        ("relaxed_naive", "NaN or infinite y at tau = 0.001"),
        ("relaxed_unnormalized", "y off the simplex"),
    ],
)
def test_a_wrong_gumbel_softmax_fails_the_sweep(function: str, reason: str) -> None:
    from gumbelcheck import sweep

    result = sweep(PI, tau="1e-3,0.1,1,10", samples=40_000, seed=4, sampler=spec(function))
    assert not result.passed
    assert reason in result.summary().reason


def test_the_sweep_refuses_a_broken_relaxed_sampler(cli: Cli) -> None:
    args = ["sweep", "--pi", "0.1,0.2,0.7", "--tau", "1", "-n", "1000"]
    flat = cli(*args, "--sampler", spec("relaxed_flat"))
    assert flat.exit_code == 2
    assert "returned shape (3,); the relaxed form function(logits, n, seed, tau)" in flat.stderr
    builtin = cli(*args, "--sampler", "race")
    assert builtin.exit_code == 2
    assert "is not a SPEC" in builtin.stderr
