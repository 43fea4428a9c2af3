"""Counts made anywhere (another language, a GPU job, a log) tested against Categorical(pi).

The test is the max-trick check's (:func:`gumbelcheck.stats.categorical_gof`: Pearson's
chi-square under Cochran's rule, exact binomial tests for rare bins, an exact multinomial test
for small N), with its p-values, effect sizes and minimum detectable effect; only the
sampling is someone else's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gumbelcheck import engine
from gumbelcheck.checks.maxtrick import MaxTrickResult
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical, categorical
from gumbelcheck.core.readers import read_numbers, whole_numbers
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.stats import categorical_gof

NULL_HYPOTHESIS = "the counts are those of N independent draws from Categorical(pi)"

#: CSV columns a counts file may hold its counts in (``observed``: a maxtrick CSV report).
COUNT_COLUMNS = ("count", "counts", "observed")

#: CSV columns an indices file may hold its indices in.
INDEX_COLUMNS = ("index", "category", "sample")


@dataclass(frozen=True, kw_only=True, eq=False)
class CountsResult(MaxTrickResult):
    """Result of :func:`check_counts`: the fields of a
    :class:`~gumbelcheck.checks.maxtrick.MaxTrickResult`, with ``noise`` naming the source
    of the counts (a file and its SHA-256, or ``array``)."""

    check: ClassVar[str] = "counts"
    null_hypothesis: str = NULL_HYPOTHESIS


def check_counts(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    counts: str | ArrayLike | None = None,
    indices: str | ArrayLike | None = None,
    alpha: float | str = 0.01,
    seed: int | str = 0,
) -> CountsResult:
    """Test counts made anywhere against Categorical(pi).

    Parameters
    ----------
    pi, logits, normalize
        The distribution, as for :func:`gumbelcheck.checks.maxtrick.maxtrick`.
    counts : str or array_like, optional
        The k per-category counts: an array, or a path (``-`` for standard input) to a .npy
        file, a text file with one number per line or comma-separated, or a CSV with a
        ``count`` column.
    indices : str or array_like, optional
        Raw category indices instead of ``counts`` (an array, a .npy or a text file).
    alpha : float
        Significance level.
    seed : int
        Seed of the Monte Carlo exact multinomial test (used only for small N); fixed by
        default, so the same counts always give the same p-value.

    Returns
    -------
    CountsResult

    Raises
    ------
    InputError
        When the counts are of the wrong length, negative or fractional, the indices out of
        range or fractional, the file unreadable or empty.

    Examples
    --------
    >>> from gumbelcheck.checks.counts import check_counts
    >>> check_counts([0.1, 0.2, 0.7], counts=[1005, 1980, 7015]).verdict
    'PASS'
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        counts=counts,
        indices=indices,
        alpha=alpha,
        seed=seed,
    ).run(None)




def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    counts: str | ArrayLike | None = None,
    indices: str | ArrayLike | None = None,
    alpha: float | str = 0.01,
    seed: int | str = 0,
) -> Prepared[CountsResult]:
    """Validate the input of :func:`check_counts` (parameters as there), reading the files."""
    dist = categorical(pi, logits, normalize=normalize)
    if (counts is None) == (indices is None):
        raise InputError("give exactly one of `counts` (k per-category counts) and `indices`")
    if counts is not None:
        observed, source, origin = _counts(counts, dist.k)
    else:
        observed, source, origin = _tally(indices, dist.k)
    total = int(observed.sum())
    if total == 0:
        raise InputError(f"{source} counts no draws at all; give at least one")
    config = RunConfig.create(samples=total, seed=seed, alpha=alpha)
    return Prepared(samples=total, run=partial(run, dist, observed, source, origin, config))


def run(
    dist: Categorical,
    observed: NDArray[np.int64],
    source: str,
    origin: str,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> CountsResult:
    """Test validated counts (see :func:`prepare`)."""
    gof = categorical_gof(observed, dist.p, alpha=config.alpha, seed=config.seed)
    if progress is not None:
        progress(config.samples)
    return CountsResult(
        pi=tuple(float(x) for x in dist.p),
        samples=config.samples,
        counts=tuple(int(c) for c in observed),
        noise=source,
        gof=gof,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=0,
            noise=source,
            sampler_origin=origin,
        ),
    )


def _values(
    data: str | ArrayLike, name: str, columns: Sequence[str]
) -> tuple[NDArray[np.int64], str, str]:
    """Whole numbers from a path or an array, with a label and what identifies them."""
    if isinstance(data, str):
        numbers = read_numbers(data, name, columns)
        label = "stdin" if data == "-" else data
        return whole_numbers(numbers.values, name), label, f"sha256:{numbers.sha256}"
    array = np.asarray(data)
    if array.dtype.kind not in "iuf" or array.ndim != 1:
        raise InputError(
            f"{name} is a {array.ndim}-D array of {array.dtype}; give a 1-D array of numbers"
        )
    if array.size == 0:
        raise InputError(f"{name} is empty; give at least one number")
    array = array.astype(np.float64 if array.dtype.kind == "f" else np.int64)
    return whole_numbers(array, name), "array", "array"


def _counts(data: str | ArrayLike, k: int) -> tuple[NDArray[np.int64], str, str]:
    observed, label, origin = _values(data, "`counts`", COUNT_COLUMNS)
    if observed.size != k:
        raise InputError(
            f"`counts` {label} has {observed.size} numbers but the distribution has {k} "
            "categories; give one count per category"
        )
    if (observed < 0).any():
        position = int(np.argmax(observed < 0))
        raise InputError(
            f"`counts` {label} entry {position} is negative ({observed[position]}); counts "
            "must be >= 0"
        )
    return observed, f"counts {label}", origin


def _tally(data: str | ArrayLike, k: int) -> tuple[NDArray[np.int64], str, str]:
    values, label, origin = _values(data, "`indices`", INDEX_COLUMNS)
    bad = (values < 0) | (values >= k)
    if bad.any():
        position = int(np.argmax(bad))
        raise InputError(
            f"`indices` {label} entry {position} is {values[position]}, outside the "
            f"categories 0..{k - 1}; give category indices of this distribution"
        )
    return np.bincount(values, minlength=k).astype(np.int64), f"indices {label}", origin
