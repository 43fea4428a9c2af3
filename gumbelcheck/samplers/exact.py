"""The exact samplers: the exponential race (default), the reference formula, numpy's gumbel.

``race``
    argmax_i ln(U_i) / pi_i, U_i uniform on (0, 1]. Since E_i = -ln U_i ~ Exp(1), this is
    argmax_i pi_i / E_i = argmax_i (ln pi_i - ln E_i), the Gumbel-max with g_i = -ln E_i. One
    logarithm per number instead of two: the fastest exact form, and from the same uniforms
    it picks the same category as the reference formula. Above :data:`COLUMN_K` categories it
    is pruned: only a sample's likely winners (whose uniform passes a per-category bound,
    about four per sample whatever k is) get a logarithm, and samples without one are scored
    in full, with the same result as scoring everything (see :func:`_pruned_race`).
``reference``
    The literal formula argmax_i(ln pi_i + g_i), g_i = -ln(-ln U_i), with U_i on the open
    interval (0, 1): U = 1 - random() lies in (0, 1], and the 2**-53-probability value 1 is
    redrawn, so no logarithm ever sees 0.
``numpy``
    argmax_i(ln pi_i + g_i) with g_i from ``numpy.random.Generator.gumbel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.core.params import Categorical
from gumbelcheck.samplers.base import Sampler, register
from gumbelcheck.samplers.noise import COLUMN_K, argmax, argmax_counts, gumbel_noise, uniforms


@dataclass(frozen=True, eq=False)
class _RaceTable:
    """Per-distribution constants of the exponential race (see :func:`_race_table`)."""

    p: NDArray[np.float64]  # probabilities, with 1.0 in place of zeros (never divided by 0)
    inverse: NDArray[np.float64] | None  # 1 / p, or None when some 1 / p overflows
    support: NDArray[np.bool_]
    bound: NDArray[np.float64]  # candidate bound on random() per category (pruned race)
    bound_max: float  # the largest bound
    prefilter: bool  # few numbers fall below bound_max: compare with it first


#: Score threshold t of the pruned race: a sample's candidates are the categories whose
#: score ln(U_i) / pi_i may reach t. On average fewer than -t of them per sample; a sample
#: without one (probability exp(t)) is scored in full.
PRUNE_SCORE = -4.0

#: Relative safety margin of the pruned race's bounds, far above float64 rounding.
_MARGIN = 1e-9


@lru_cache(maxsize=16)
def _race_table(dist: Categorical) -> _RaceTable:
    """The race's constants for ``dist``, computed once per distribution.

    ``bound[i]`` is an upper bound on random() for category i to be a candidate:
    1 - U_i <= bound[i] whenever the rounded score ln(U_i) / pi_i >= :data:`PRUNE_SCORE`.
    It is 1 - exp(t pi_i (1 + m)), widened by (1 + m), with a margin m = 1e-9 that covers the
    rounding of the log, the product and the bound itself; zero-probability categories get
    -1 (never a candidate).
    """
    support = dist.support
    p = np.where(support, dist.p, 1.0)
    with np.errstate(over="ignore"):
        inverse = 1.0 / p
    bound = -np.expm1(PRUNE_SCORE * (1.0 + _MARGIN) * p) * (1.0 + _MARGIN)
    bound[~support] = -1.0
    bound_max = float(bound.max())
    return _RaceTable(
        p=p,
        inverse=inverse if np.isfinite(inverse).all() else None,
        support=support,
        bound=bound,
        bound_max=bound_max,
        # Worth it while the scalar comparison lets through at most ~4x the candidates.
        prefilter=bound_max * dist.k <= -4.0 * PRUNE_SCORE,
    )


def _scale(
    scores: NDArray[np.float64], table: _RaceTable, columns: slice | NDArray[np.intp]
) -> None:
    """``scores /= pi`` in place for the categories ``columns`` (the last axis of ``scores``).

    A product with 1 / pi, or a division where some 1 / pi overflows (subnormal
    probabilities), so that 0 * inf never makes a NaN. The full and the pruned race share it,
    so both compute every score with the same operations.
    """
    if table.inverse is not None:
        scores *= table.inverse[columns]
    else:
        scores /= table.p[columns]


def _race_scores(
    rng: np.random.Generator, dist: Categorical, n: int, out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """``n x k`` race scores ln(U_i) / pi_i (-inf for zero-probability categories)."""
    return _scores_of(uniforms(rng, n, dist.k, out), _race_table(dist))


def _scores_of(u: NDArray[np.float64], table: _RaceTable) -> NDArray[np.float64]:
    """Race scores ln(u) / pi of ``n x k`` uniforms ``u`` on (0, 1], in place."""
    np.log(u, out=u)  # -E_i, in [-37.4, 0]
    # Overflow to -inf is right: a category of subnormal probability (almost) never wins.
    with np.errstate(over="ignore"):
        _scale(u, table, slice(None))
    if not table.support.all():
        u[:, ~table.support] = -np.inf
    return u


def _race(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    if dist.k > COLUMN_K:
        return _pruned_race(rng, dist, n)
    return argmax(_race_scores(rng, dist, n))


def _pruned_race(
    rng: np.random.Generator, dist: Categorical, n: int, out: NDArray[np.float64] | None = None
) -> NDArray[np.intp]:
    """The race for sample-major blocks, with a logarithm only for likely winners.

    Exact: it returns ``argmax(_race_scores(rng, dist, n), axis=1)`` from the same uniforms.
    A category whose uniform is below its candidate bound (see :func:`_race_table`) scores
    below :data:`PRUNE_SCORE`, so when a sample's best candidate reaches that score, no other
    category can beat it. Only the candidates (about -PRUNE_SCORE per sample, whatever k is)
    are scored; samples without a candidate reaching the threshold are scored in full. Ties
    go to the lowest index, as with np.argmax. ``out`` is an optional n x k work array.
    """
    k = dist.k
    table = _race_table(dist)
    r = rng.random((n, k), out=out)  # random(); U = 1 - r, as in uniforms()
    numbers = r.reshape(-1)
    # With the prefilter, one scalar comparison first (3x faster than against the k bounds).
    flat = np.flatnonzero(r <= (table.bound_max if table.prefilter else table.bound))
    rows = flat // k  # (a division by a scalar is faster than np.divmod)
    columns = flat - rows * k
    if table.prefilter:  # then the per-category bounds
        keep = numbers[flat] <= table.bound[columns]
        flat, rows, columns = flat[keep], rows[keep], columns[keep]
    u = numbers[flat]
    np.subtract(1.0, u, out=u)
    np.log(u, out=u)
    with np.errstate(over="ignore"):
        _scale(u, table, columns)
    # Each sample's best candidate score (-inf without one), and the candidates reaching it.
    best = np.full(n, -np.inf)
    np.maximum.at(best, rows, u)
    top = np.flatnonzero(u == best[rows])
    top_rows = rows[top]
    if top_rows.size > 1 and (top_rows[1:] == top_rows[:-1]).any():
        # A tie for a sample's best score: candidates come in (row, column) order, so the
        # first of each row is the lowest index, as with np.argmax.
        first = np.ones(top.size, dtype=bool)
        np.not_equal(top_rows[1:], top_rows[:-1], out=first[1:])
        top, top_rows = top[first], top_rows[first]
    winners = np.full(n, -1, dtype=np.intp)
    winners[top_rows] = columns[top]
    winners[best < PRUNE_SCORE] = -1  # no candidate reached the threshold: score in full
    undecided = np.flatnonzero(winners < 0)
    if undecided.size:
        full = r[undecided]
        np.subtract(1.0, full, out=full)
        winners[undecided] = argmax(_scores_of(full, table))
    return winners


def _race_count(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.int64]:
    # Only counts leave this function: the block's numbers live in a reused per-thread array,
    # so no block pays for fresh memory (page faults and zeroing, ~15 % of a block at k = 10).
    k = dist.k
    work = engine.scratch("race", (k, n) if k <= COLUMN_K else (n, k))
    if k > COLUMN_K:
        return np.bincount(_pruned_race(rng, dist, n, work), minlength=k).astype(np.int64)
    # The scores' k x n transpose is C-contiguous: one row per category.
    return argmax_counts(_race_scores(rng, dist, n, work).T)


def _reference(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = gumbel_noise(rng, n, dist.k)
    scores += dist.logp
    return argmax(scores)


def _numpy_gumbel(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = rng.gumbel(size=(n, dist.k))
    scores += dist.logp
    return argmax(scores)


register(
    Sampler(
        "race",
        True,
        "exponential race argmax ln(U)/pi (default, fastest exact)",
        _race,
        _race_count,
    ),
    Sampler("reference", True, "literal argmax(ln pi + g), g = -ln(-ln U)", _reference),
    Sampler("numpy", True, "argmax(ln pi + g), g from numpy Generator.gumbel", _numpy_gumbel),
)
