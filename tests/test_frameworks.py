"""The frameworks battery and its adapters, with torch and JAX installed for real (the test
extra installs them; CI runs these, nothing here is skipped)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from typer.testing import Result

from gumbelcheck import maxtrick
from gumbelcheck.checks.frameworks import (
    ProbeResult,
    frameworks,
    rare_samples,
    round_to,
    vocab_distribution,
)
from gumbelcheck.core.errors import InputError
from gumbelcheck.samplers.adapters import adapter

Cli = Callable[..., Result]


def _by_probe(result_probes: tuple[ProbeResult, ...]) -> dict[tuple[str, str], ProbeResult]:
    return {(p.sampler, p.probe): p for p in result_probes}


def test_float64_samplers_pass_and_float32_multinomial_loses_the_vocabulary_tail() -> None:
    result = frameworks(only=["torch.multinomial[float64", "torch.multinomial[float32"], seed=3)
    probes = _by_probe(result.probes)
    assert all(p.passed for (name, _), p in probes.items() if "float64" in name)
    tail = probes[("torch.multinomial[float32,cpu]", "vocab")]
    assert not tail.passed
    assert tail.cause == "sampler"  # the logits round exactly: the float32 cumulative sum
    assert tail.statistic == 0  # the whole tail (mass 3.3e-4) never drawn
    assert not result.passed
    assert result.summary().effect == "1/14 probes failed"


def rounds_to_bfloat16(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Exact sampling from logits first rounded to bfloat16 (what a bf16 model's logits are)."""
    p = np.exp(round_to(logits, "bfloat16"))
    return np.random.default_rng(seed).choice(logits.size, size=n, p=p / p.sum())


def test_failures_are_attributed_to_the_rounded_logits_or_to_the_sampler() -> None:
    result = frameworks(
        only=["torch.multinomial[bfloat16"], samplers=[(rounds_to_bfloat16, "bfloat16")]
    )
    probes = _by_probe(result.probes)
    # Logits near 20 round in steps of 0.125 in bfloat16: the law moves, and by exactly that.
    rounded = probes[("rounds_to_bfloat16", "logits 20")]
    assert not rounded.passed
    assert rounded.cause == "rounded logits"
    assert rounded.rounded_log10_pvalue > math.log10(rounded.alpha)
    # torch.multinomial in bfloat16 also rounds exp(logits): the rounded logits do not explain
    # its counts.
    torch_probe = probes[("torch.multinomial[bfloat16,cpu]", "logits 20")]
    assert not torch_probe.passed
    assert torch_probe.cause == "sampler"


def clamped(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Gumbel-max with uniforms clamped to u <= 0.999: the noise is capped at 6.9."""
    u = np.minimum(np.random.default_rng(seed).random((n, logits.size)), 0.999)
    return np.argmax(logits - np.log(-np.log(u)), axis=1)


def reused_rows(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Gumbel-max whose noise row is reused for two consecutive draws."""
    u = 1.0 - np.random.default_rng(seed).random(((n + 1) // 2, logits.size))
    g = np.repeat(-np.log(-np.log(u)), 2, axis=0)[:n]
    return np.argmax(logits + g, axis=1)


def ignores_seed(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(1).choice(logits.size, size=n, p=np.exp(logits))


def test_deliberately_broken_samplers_fail_with_the_right_reason() -> None:
    broken = [clamped, reused_rows, ignores_seed]
    result = frameworks(only=["numpy.choice[float64"], samplers=broken)
    probes = _by_probe(result.probes)
    # The clamp caps the noise: a category of mass 1e-6 (logit -13.8) can never win.
    rare = probes[("clamped", "rare 1e-06")]
    assert not rare.passed
    assert rare.statistic == 0
    assert rare.cause == "sampler"
    # Reused noise keeps the marginal law and breaks independence.
    assert probes[("reused_rows", "bulk")].passed
    pairs = probes[("reused_rows", "pairs")]
    assert not pairs.passed
    assert pairs.reason.startswith("pairs of one call are dependent")
    streams = probes[("ignores_seed", "streams")]
    assert not streams.passed
    assert "two seeds gave the same" in streams.reason
    assert all(p.passed for (name, _), p in probes.items() if name.startswith("numpy"))


def test_the_rare_probe_is_tail_aware() -> None:
    # A missing 1e-8 tail: about 1.2e9 draws, where a TV plan would ask 3.7e16.
    n = rare_samples(1e-8, 1e-4)
    assert 1.1e9 < n < 1.3e9  # ln(2e5) / 1e-8: zero draws then have p <= 1e-5
    tail = (2**18 - 1) * np.exp(-20.5)  # closed form of the vocabulary's tail mass
    assert vocab_distribution().p[1:].sum() == pytest.approx(tail / (1 + tail), rel=1e-12)


def test_rounding_is_the_frameworks_rounding() -> None:
    import torch

    values = np.log([0.1, 0.2, 0.7, 1e-8])
    for dtype in ("float32", "float16", "bfloat16"):
        expected = torch.tensor(values).to(getattr(torch, dtype)).double().numpy()
        np.testing.assert_array_equal(round_to(values, dtype), expected)


@pytest.mark.parametrize(
    "name",
    ["torch.multinomial", "torch.categorical[float32]", "torch.gumbel_softmax[float16]",
     "jax.categorical[float32,high]", "numpy.choice[float32]"],
)  # fmt: skip
def test_adapters_run_on_workers_and_reproduce(name: str) -> None:
    one = maxtrick([0.1, 0.2, 0.7], samples=300_000, seed=2, sampler=name, workers=1)
    two = maxtrick([0.1, 0.2, 0.7], samples=300_000, seed=2, sampler=name, workers=2)
    assert one.counts == two.counts
    assert one.passed
    assert one.provenance.sampler_origin.split()[0] == name.split(".")[0]


def test_bad_adapter_names_are_refused() -> None:
    with pytest.raises(InputError, match=r"'int8' is not an option of torch\.multinomial"):
        adapter("torch.multinomial[int8]")
    with pytest.raises(InputError, match="selects no installed adapter"):
        frameworks(only=["tensorflow"])


def test_the_cli_table_json_and_exit_code(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    junit = tmp_path / "f.xml"
    result = cli("frameworks", "--only", "numpy.choice[float64", "--json", "--junit", str(junit))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["check"] == "frameworks"
    assert [p["probe"] for p in data["probes"]] == [
        "bulk", "logits 20", "zero", "rare 1e-06", "vocab", "pairs", "streams"
    ]  # fmt: skip
    assert junit.exists()


def test_without_torch_and_jax_it_says_which_extras_to_install(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gumbelcheck.samplers import adapters

    real = adapters.installed
    monkeypatch.setattr(
        adapters, "installed", lambda f: None if f in ("torch", "jax") else real(f)
    )
    from gumbelcheck.checks import frameworks as check

    monkeypatch.setattr(check, "installed", adapters.installed)
    result = cli("frameworks")
    assert result.exit_code == 2
    assert "pip install 'gumbelcheck[torch]'" in result.stderr


def test_jax_low_mode_loses_a_1e8_tail_in_float32() -> None:
    # --full's rare probe (about 1.2e9 draws): JAX's "low" float32 Gumbel noise is capped near
    # 15.9, so a category 18.4 below the head is drawn at about 1e-12, not 1e-8.
    from gumbelcheck.checks import frameworks as battery

    configs, _ = battery._configs(["jax.categorical[float32,low"])
    (config,) = configs
    level = 0.01 / battery._battery_size(full=True)
    probe = battery._run_probe(config, "rare 1e-08", 7, level, 2, full=True)
    assert probe.samples > 1e9
    assert not probe.passed
    assert probe.statistic <= 1  # draws of the 1e-8 category, where about 12 are expected
    assert probe.cause == "sampler", (probe.log10_pvalue, probe.rounded_log10_pvalue, level)


def test_samplers_without_replacement_pass_plackett_luce_and_wrong_ones_fail() -> None:
    from gumbelcheck.checks import frameworks as battery
    from gumbelcheck.samplers.user import load_user_sampler

    only = ["torch.multinomial_without_replacement[float64", "jax.choice_without_replacement[f"]
    result = frameworks(only=only, seed=4)
    probes = _by_probe(result.probes)
    assert {probe for _, probe in probes} == {"plackett-luce", "plackett-luce zero"}
    assert len(probes) == 2 * (1 + 3)  # jax in float32, float16 and float64
    assert result.passed, result.summary().reason
    assert probes[("jax.choice_without_replacement[float16,cpu]", "plackett-luce")].samples > 1e5

    level = 0.01 / battery._battery_size(full=False)
    for name, probe, cause in [
        ("tempered_top", "plackett-luce", "sampler"),
        ("with_replacement", "plackett-luce zero", "contract"),
    ]:
        sampler = load_user_sampler(f"tests/data/user_samplers.py:{name}")
        config = battery._Config(sampler, "user", "-", "float64", "", "cpu", False, form="top")
        row = battery._run_probe(config, probe, 5, level, 1, full=False)
        assert not row.passed, name
        assert row.cause == cause, (name, row.reason)


def test_each_adapter_goes_with_its_check() -> None:
    with pytest.raises(InputError, match="draws samples without replacement; use it with"):
        maxtrick([0.5, 0.5], samples=10, sampler="torch.multinomial_without_replacement")
    from gumbelcheck.checks.topk import topk

    with pytest.raises(InputError, match="draws one index per draw; use it with maxtrick"):
        topk([0.5, 0.5], m=1, samples=10, sampler="numpy.choice")
    one = topk([0.4, 0.3, 0.3], m=2, samples=100_000, seed=1,
               sampler="torch.multinomial_without_replacement[float32]", workers=1)  # fmt: skip
    two = topk([0.4, 0.3, 0.3], m=2, samples=100_000, seed=1,
               sampler="torch.multinomial_without_replacement[float32]", workers=2)  # fmt: skip
    assert one.counts == two.counts
    assert one.passed
