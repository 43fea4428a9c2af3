"""gumbelcheck.testing: the assertions a library puts in its own test suite."""

from __future__ import annotations

import numpy as np
import pytest

from gumbelcheck import returns_counts
from gumbelcheck.checks.plan import plan
from gumbelcheck.core.errors import InputError
from gumbelcheck.testing import assert_counts, assert_sampler, detectable_tv, samples_for_tv

PI = [0.1, 0.2, 0.7]


def choice(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(logits.size, size=n, p=np.exp(logits))


def tempered(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Samples proportional to pi^(1/1.05): TV 0.0151 from pi (closed form)."""
    q = np.exp(logits / 1.05)
    return np.random.default_rng(seed).choice(logits.size, size=n, p=q / q.sum())


def test_a_correct_sampler_passes() -> None:
    assert_sampler(choice, PI)
    assert_sampler(choice, logits=[-np.inf, 0.0, 1.0, 2.0], tv=0.005)


def test_a_wrong_sampler_fails_with_the_worst_categories_and_the_seed() -> None:
    q = np.asarray(PI) ** (1 / 1.05)
    assert 0.5 * np.abs(q / q.sum() - PI).sum() > 0.015  # beyond the default tv = 0.01
    with pytest.raises(AssertionError) as raised:
        assert_sampler(tempered, PI, seed=3)
    message = str(raised.value)
    assert "does not match Categorical(pi): pearson-chi2 p = " in message
    assert "reproduce with seed=3, samples=247094" in message
    lines = message.splitlines()
    assert lines[1].split() == ["category", "observed", "expected", "residual"]
    assert [line.split()[0] for line in lines[2:]] == ["2", "0", "1"]


def test_the_outcome_is_deterministic_under_a_seed() -> None:
    # A sampler 0.004 away passes or fails, but the same way every time.
    def slightly_off(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
        p = np.exp(logits) + np.array([0.004, 0.0, -0.004])
        return np.random.default_rng(seed).choice(3, size=n, p=p)

    outcomes = set()
    for _ in range(2):
        try:
            assert_sampler(slightly_off, PI, seed=1, samples=2_000_000)
            outcomes.add("pass")
        except AssertionError as error:
            outcomes.add(str(error))
    assert len(outcomes) == 1


def test_counts_and_the_counting_form() -> None:
    rng = np.random.default_rng(5)
    assert_counts(rng.multinomial(1_000_000, PI), PI)
    with pytest.raises(AssertionError, match="counts does not match"):
        assert_counts(rng.multinomial(1_000_000, [0.11, 0.2, 0.69]), PI)

    @returns_counts
    def on_device(logits: np.ndarray, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).multinomial(n, np.exp(logits))

    assert_sampler(on_device, PI, tv=1e-3)


def test_the_planning_functions_are_each_others_inverse() -> None:
    n = samples_for_tv(0.01, PI)
    assert detectable_tv(n, PI) <= 0.01 < detectable_tv(n - 1000, PI)
    # At power 0.9 and alpha 0.01 they agree with `gumbelcheck plan`.
    planned = plan(PI, tv=1e-4, alpha=0.01, power=0.9).samples
    assert samples_for_tv(1e-4, PI, false_fail_rate=0.01, false_pass_rate=0.1) == planned
    with pytest.raises(InputError, match="`tv` 0 is outside"):
        samples_for_tv(0, PI)
    with pytest.raises(InputError, match="false_pass_rate"):
        samples_for_tv(0.1, PI, false_pass_rate=1.5)
