"""Samplers: the fast exact forms agree with the literal formula, sample for sample."""

from __future__ import annotations

import numpy as np
import pytest

from gumbelcheck import samplers
from gumbelcheck.core.params import categorical
from gumbelcheck.engine import block_generator
from gumbelcheck.samplers import SAMPLERS, gumbel_noise, open_uniforms

PI = [0.05, 0.0, 0.15, 0.3, 0.5]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_race_picks_the_same_category_as_the_reference_formula(seed: int) -> None:
    dist = categorical(PI)
    race = SAMPLERS["race"].draw(block_generator(seed, 0), dist, 200_000)
    reference = SAMPLERS["reference"].draw(block_generator(seed, 0), dist, 200_000)
    np.testing.assert_array_equal(race, reference)


@pytest.mark.parametrize("name", [n for n, s in SAMPLERS.items() if s.exact])
def test_exact_samplers_never_draw_a_zero_probability_category(name: str) -> None:
    draws = SAMPLERS[name].draw(block_generator(3, 0), categorical(PI), 100_000)
    assert not np.any(draws == 1)
    assert draws.min() >= 0
    assert draws.max() <= 4


def test_race_handles_subnormal_probabilities_without_nan() -> None:
    dist = categorical([1.0, 5e-324], normalize=True)
    draws = SAMPLERS["race"].draw(block_generator(0, 0), dist, 10_000)
    assert set(np.unique(draws)) == {0}


class _StubGenerator:
    """Returns queued values from random(), to force the U = 1 corner case."""

    def __init__(self, *batches: np.ndarray) -> None:
        self.batches = list(batches)

    def random(self, size: int | tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
        values = np.asarray(self.batches.pop(0), dtype=np.float64).reshape(size)
        if out is None:
            return values
        out[...] = values
        return out


def test_open_uniforms_redraw_the_value_one() -> None:
    # random() = 0 would give U = 1 - 0 = 1 and -ln(-ln 1) = +inf: it must be redrawn.
    # Small k is drawn category-major: row i of the stub's first batch is category i.
    stub = _StubGenerator([[0.0, 0.0], [0.5, 0.25]], [0.0, 0.75], [0.5])
    u = open_uniforms(stub, 2, 2)  # type: ignore[arg-type]
    np.testing.assert_array_equal(u, [[0.5, 0.5], [0.25, 0.75]])


def test_reference_noise_is_finite_and_within_float64_range() -> None:
    g = gumbel_noise(block_generator(1, 0), 100_000, 10)
    assert np.isfinite(g).all()
    assert g.min() > -3.61
    assert g.max() < 36.8


@pytest.mark.parametrize("k", [2, 10, 64, 65, 300])
def test_race_counts_equal_the_literal_formula_in_both_layouts(k: int) -> None:
    weights = np.arange(1, k + 1, dtype=float)
    weights[k // 2] = 0.0
    dist = categorical(weights, normalize=True)
    n = 50_000
    fast = SAMPLERS["race"].counts(block_generator(k, 0), dist, n)
    literal = np.bincount(SAMPLERS["reference"].draw(block_generator(k, 0), dist, n), minlength=k)
    np.testing.assert_array_equal(fast, literal)


class _ConstantGenerator:
    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def random(self, size: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return np.full(size, self.value)
        out.fill(self.value)
        return out


def test_race_count_breaks_ties_like_argmax() -> None:
    # Equal uniforms and equal probabilities: every sample is a tie, argmax takes index 0.
    dist = categorical([0.5, 0.5])
    counts = SAMPLERS["race"].counts(_ConstantGenerator(), dist, 1000)  # type: ignore[arg-type]
    np.testing.assert_array_equal(counts, [1000, 0])


def _pruning_cases() -> dict[str, np.ndarray]:
    k = 1000
    skewed = np.full(k, 1e-6)
    skewed[7] = 1.0
    with_zeros = np.arange(1, k + 1, dtype=float)
    with_zeros[::3] = 0.0
    tiny = np.ones(200)
    tiny[[0, 5]] = [1e-300, 5e-324]  # 1 / pi overflows: the division path
    return {
        "uniform": np.ones(k),
        "linear": np.arange(1, k + 1, dtype=float),
        "skewed": skewed,
        "with-zeros": with_zeros,
        "subnormal": tiny,
        "k=65": np.arange(1, 66, dtype=float),
    }


@pytest.mark.parametrize("case", list(_pruning_cases()))
def test_pruned_race_picks_the_same_category_as_the_full_race(case: str) -> None:
    # Sample-major blocks score only likely winners; the result must equal the argmax of
    # every score, sample for sample (the fallback for samples without a candidate included).
    dist = categorical(_pruning_cases()[case], normalize=True)
    n = 20_000
    pruned = samplers.exact._pruned_race(block_generator(5, 0), dist, n)
    full = samplers.argmax(samplers.exact._race_scores(block_generator(5, 0), dist, n))
    np.testing.assert_array_equal(pruned, full)
    undecided = np.exp(samplers.exact.PRUNE_SCORE) * n  # expected samples scored in full
    assert undecided > 50  # the fallback path is exercised


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_pruned_race_breaks_ties_like_argmax(value: float) -> None:
    # random() = 0 makes every category a candidate with score 0; 0.5 makes none a candidate.
    dist = categorical(np.ones(100), normalize=True)
    counts = SAMPLERS["race"].counts(_ConstantGenerator(value), dist, 300)  # type: ignore[arg-type]
    np.testing.assert_array_equal(counts, np.eye(100, dtype=np.int64)[0] * 300)


def test_the_resolver_takes_names_and_sampler_objects() -> None:
    import pickle

    from gumbelcheck.core.errors import InputError
    from gumbelcheck.samplers import SAMPLERS, resolve

    assert resolve("race") is SAMPLERS["race"]
    assert resolve(SAMPLERS["gaussian"]) is SAMPLERS["gaussian"]
    with pytest.raises(InputError, match=r"^`noise` 'nope' is not known; choose one of race, "):
        resolve("nope")
    # Every named sampler pickles (worker processes receive them by value).
    for sampler in SAMPLERS.values():
        assert pickle.loads(pickle.dumps(sampler)).name == sampler.name
