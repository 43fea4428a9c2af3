"""The check registry and the result contract: a new check is one module plus one entry."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from gumbelcheck import engine, maxtrick
from gumbelcheck.checks import registry
from gumbelcheck.checks.sweep import sweep
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.result import SUMMARY_KEYS, ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.output.junit import suite_cases, write_junit
from gumbelcheck.stats import binomial_test
from gumbelcheck.suite.run import run_suite
from gumbelcheck.suite.spec import parse_suite

Cli = Callable[..., Result]


# --- A toy check, added the way a new check is: one module's worth of code, one entry ------


def _heads(p: float, rng: np.random.Generator, n: int, start: int) -> int:
    return int(np.count_nonzero(rng.random(n) < p))


@dataclass(frozen=True, kw_only=True, eq=False)
class CoinResult(ResultReport):
    check: ClassVar[str] = "coin"
    samples: int
    heads: int
    alpha: float
    log10_pvalue: float
    provenance: provenance.Provenance = field(repr=False)

    @property
    def passed(self) -> bool:
        return self.log10_pvalue >= math.log10(self.alpha)

    def summary(self) -> Summary:
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=False,
            null_hypothesis="the coin is fair",
            rule="exact",
            test="binomial",
            statistic=float(self.heads),
            df=None,
            pvalue=10.0**self.log10_pvalue,
            log10_pvalue=self.log10_pvalue,
            alpha=self.alpha,
            effect=f"heads {self.heads / self.samples:.3g}",
            mde="",
            samples=self.samples,
            reason="" if self.passed else "too many or too few heads",
            figures={"heads": self.heads},
        )

    def to_frame(self) -> pd.DataFrame:
        tails = self.samples - self.heads
        return pd.DataFrame({"side": ["heads", "tails"], "count": [self.heads, tails]})

    def to_dict(self) -> dict[str, Any]:
        return self._json()


def _run_coin(p: float, config: RunConfig, progress: Callable[[int], None] | None) -> CoinResult:
    plan = config.plan(1000)
    heads = engine.run_blocks(plan, config.seed, partial(_heads, p), int.__add__, progress=progress)
    return CoinResult(
        samples=config.samples,
        heads=heads,
        alpha=config.alpha,
        log10_pvalue=binomial_test(heads, config.samples, 0.5)[1],
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=1000,
            noise="coin",
        ),
    )


def prepare_coin(
    *, p: float | str = 0.5, samples: int | str = 10_000, seed: int | None = None,
    alpha: float | str = 0.01, workers: int | str | None = None,
) -> Prepared[CoinResult]:  # fmt: skip
    bias = float(p)
    if not 0 <= bias <= 1:
        raise InputError(f"`p` {p} is outside [0, 1]")
    config = RunConfig.create(samples=samples, seed=seed, alpha=alpha, workers=workers)
    return Prepared(samples=config.samples, run=partial(_run_coin, bias, config))


def _coin_view(result: CoinResult) -> str:
    return f"coin: {result.heads} heads of {result.samples}  verdict: {result.verdict}"


@pytest.fixture
def coin() -> Iterator[registry.CheckInfo]:
    info = registry.register(
        registry.CheckInfo(name="coin", help="a fair coin", prepare=prepare_coin, view=_coin_view)
    )
    yield info
    registry.unregister("coin")


COIN_SUITE = """\
[[check]]
name = "fair"
check = "coin"
samples = 20000
seed = 1

[[check]]
name = "biased"
check = "coin"
p = 0.6
samples = 20000
seed = 2
"""


def test_a_registered_toy_check_runs_in_suites_junit_and_csv(
    coin: registry.CheckInfo, tmp_path: Path
) -> None:
    result = run_suite(parse_suite(COIN_SUITE))
    verdicts = {e.name: e.passed for e in result.entries}
    assert verdicts == {"fair": True, "biased": False}
    fair = result.entries[0]
    assert fair.csv_text().startswith("# check: coin\n# verdict: PASS\n")
    assert pd.read_csv(pd.io.common.StringIO(fair.csv_text()), comment="#")["count"].sum() == 20000
    write_junit(suite_cases(result), tmp_path / "junit.xml")
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert {c.get("name"): c.find("failure") is None for c in cases} == verdicts


def test_a_registered_toy_check_gets_a_cli_command(coin: registry.CheckInfo, cli: Cli) -> None:
    fair = cli("coin", "--samples", "20000", "--seed", "1", "--json")
    assert fair.exit_code == 0, fair.output
    assert list(json.loads(fair.stdout))[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS)
    biased = cli("coin", "--p", "0.6", "--samples", "20000", "--seed", "1")
    assert biased.exit_code == 1
    assert "verdict: FAIL" in biased.stdout
    bad = cli("coin", "--p", "2")
    assert bad.exit_code == 2
    assert bad.stderr == "gumbelcheck: error: --p 2 is outside [0, 1]\n"


# --- The contract ---------------------------------------------------------------------------


def test_every_command_json_starts_with_the_same_summary_keys(cli: Cli, tmp_path: Path) -> None:
    runs = [
        ["maxtrick", "--pi", "0.1,0.2,0.7", "-n", "1e4", "--seed", "1"],
        ["maxtrick", "--pi", "0.5,0.5", "-n", "1000", "--replicates", "5", "--seed", "1"],
        ["dist", "-n", "1000", "--seed", "1"],
        ["sweep", "--pi", "0.1,0.2,0.7", "--tau", "0.1,1", "-n", "1000", "--seed", "1"],
        ["controls", "-n", "1000", "--seed", "1"],
    ]
    for args in runs:
        result = cli(*args, "--json", "-q")
        assert result.exit_code in (0, 1), result.output
        data = json.loads(result.stdout)
        assert list(data)[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS), args
        assert isinstance(data["hard_failure"], bool)
    suite_toml = tmp_path / "s.toml"
    suite_toml.write_text(
        '[[check]]\nname = "m"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nsamples = 1000\nseed = 1\n'
    )
    out = tmp_path / "out"
    suite = cli("suite", "--config", str(suite_toml), "--out", str(out), "--json", "-q")
    assert list(json.loads(suite.stdout))[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS)
    replay = cli("replay", str(out), "--json", "-q")
    assert replay.exit_code == 0, replay.output
    assert list(json.loads(replay.stdout))[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS)


def test_a_suite_runs_controls_and_calibration() -> None:
    spec = parse_suite(
        """\
alpha = 0.01

[[check]]
name = "controls"
check = "controls"
seed = 2026

[[check]]
name = "calibration"
check = "calibration"
pi = [0.1, 0.2, 0.7]
samples = 10000
replicates = 50
seed = 1
"""
    )
    result = run_suite(spec)
    controls, calibration = result.entries
    assert controls.passed
    assert controls.result.summary().effect == "10/10 as expected"
    assert math.isnan(controls.holm_log10_pvalue)  # decided without a p-value: outside Holm
    assert calibration.passed
    assert calibration.result.check == "calibration"
    assert result.passed


def test_too_few_control_draws_fail_a_suite_as_a_hard_failure() -> None:
    spec = parse_suite('[[check]]\nname = "c"\ncheck = "controls"\nsamples = 10000\nseed = 1\n')
    (entry,) = run_suite(spec).entries
    assert entry.result.summary().hard_failure
    assert not entry.passed


def test_a_sweep_failure_without_a_hard_failure_goes_through_holm() -> None:
    # At the suite's alpha = 0.5 this sweep rejects on its own (p = 0.29); with a second check
    # in the family, Holm's adjusted p is 2 x 0.29 = 0.58 and the suite passes it.
    text = (
        "alpha = 0.5\n"
        '[[check]]\nname = "s"\ncheck = "sweep"\npi = [0.1, 0.2, 0.7]\ntau = "0.1,1,10"\n'
        "samples = 2000\nseed = 16\n"
        '[[check]]\nname = "m"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nsamples = 1000\nseed = 1\n'
    )
    entry, _ = run_suite(parse_suite(text)).entries
    summary = entry.result.summary()
    assert not entry.result.passed
    assert entry.result.alpha == 0.5  # the suite's level reached the check
    assert not summary.hard_failure
    assert summary.pvalue == pytest.approx(0.288, abs=1e-3)
    assert entry.holm_log10_pvalue == pytest.approx(math.log10(2 * 0.288), abs=1e-2)
    assert entry.passed


def test_a_sweep_with_nan_output_is_a_hard_failure() -> None:
    def nan_relaxation(x: Any, tau: float, out: Any) -> tuple[Any, Any]:
        y = np.full_like(x, np.nan)
        return y, y

    result = sweep([0.1, 0.2, 0.7], tau="0.1,1", samples=1000, seed=1, relaxation=nan_relaxation)
    assert not result.passed
    assert result.summary().hard_failure


def test_a_suite_validates_every_check_before_running_any() -> None:
    text = (
        '[[check]]\nname = "big"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nsamples = "1e12"\n'
        '[[check]]\nname = "bad"\ncheck = "dist"\nbeta = 0\n'
    )
    with pytest.raises(InputError, match=r"check 'bad': `beta` 0 is not positive"):
        run_suite(parse_suite(text))  # would take hours if the first check ran


@pytest.mark.parametrize("seed", [-1, 1.5, True, "x"])
def test_a_suite_seed_must_be_a_whole_number(seed: object) -> None:
    value = json.dumps(seed) if not isinstance(seed, bool) else "true"
    text = f'[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nseed = {value}\n'
    with pytest.raises(InputError, match="`seed`"):
        run_suite(parse_suite(text))


def test_unknown_suite_parameters_are_named() -> None:
    text = '[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nsample = 10\n'
    with pytest.raises(InputError, match="no parameter 'sample'"):
        parse_suite(text)


def test_library_errors_name_the_python_parameter_and_the_cli_its_flag(cli: Cli) -> None:
    with pytest.raises(InputError, match=r"^`block_size` 0 is too small"):
        maxtrick([0.5, 0.5], block_size=0)
    result = cli("maxtrick", "--pi", "0.5,0.5", "--block-size", "0")
    assert result.exit_code == 2
    assert result.stderr == (
        "gumbelcheck: error: --block-size 0 is too small; it must be at least 1\n"
    )


def test_the_run_configuration_carries_the_backend_and_results_do_not_depend_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    from gumbelcheck.checks import maxtrick as check
    from gumbelcheck.engine import local

    monkeypatch.setattr(local, "PROCESS_MIN_SECONDS", 0.0)
    ready = check.prepare([0.1, 0.2, 0.7], samples=200_000, seed=7, block_size=5000, workers=2)
    dist, sampler, config = ready.run.args  # type: ignore[attr-defined]
    counts = {
        backend: check.run(dist, sampler, replace(config, backend=backend)).counts
        for backend in ("local", "threads", "processes")
    }
    assert len(set(counts.values())) == 1
    with pytest.raises(InputError, match=r"^`backend` 'dask' is not known"):
        RunConfig.create(samples=10, backend="dask")
