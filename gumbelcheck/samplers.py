"""Gumbel-max samplers: the exact ones the tool verifies, and deliberately wrong ones.

A sampler maps a block's generator, the categorical distribution and a sample count to the
sampled category indices (``draw``), and may have a faster ``count`` that returns only the
number of draws per category. Every sampler built on :func:`uniforms` sees the block's
uniforms in the same layout (category-major for k <= :data:`COLUMN_K`, which keeps small k
fast; sample-major above), so from the same generator the reference formula and the
exponential race give the same samples.

Exact samplers
--------------
``race`` (default)
    The exponential race: argmax_i ln(U_i) / pi_i, with U_i uniform on (0, 1]. Since
    E_i = -ln U_i ~ Exp(1), this is argmax_i pi_i / E_i = argmax_i (ln pi_i - ln E_i), the
    Gumbel-max with g_i = -ln E_i. One logarithm per number instead of two: the fastest exact
    form, and from the same uniforms it picks the same category as the reference formula.
    Above :data:`COLUMN_K` categories it is pruned: only a sample's likely winners (whose
    uniform passes a per-category bound, about four per sample whatever k is) get a
    logarithm, and samples without one are scored in full, with the same result as scoring
    everything (see :func:`_pruned_race`).
``reference``
    The literal formula argmax_i(ln pi_i + g_i), g_i = -ln(-ln U_i), with U_i on the open
    interval (0, 1): U = 1 - random() lies in (0, 1], and the 2**-53-probability value 1 is
    redrawn, so no logarithm ever sees 0.
``numpy``
    argmax_i(ln pi_i + g_i) with g_i from ``numpy.random.Generator.gumbel``.

Negative controls (must be rejected)
------------------------------------
``gaussian``  standard normal noise instead of Gumbel noise;
``gumbel-scale-2``  Gumbel noise with scale 2, which samples proportional to sqrt(pi);
``noise-on-pi``  Gumbel noise added to pi instead of ln pi;
``logistic``  standard logistic noise;
``gumbel-scale-1.05``  Gumbel noise with scale 1.05 (proportional to pi^(1/1.05));
``left-gumbel``  the left-skewed convention g = +ln(-ln U);
``float32``  float32 uniforms with U = 0 allowed: a rare category's floor of 2^-24;
``clamped``  uniforms clamped to u <= 0.999, which caps the noise at 6.9.
:mod:`gumbelcheck.checks.controls` computes the probabilities each of them really samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.core.params import Categorical

Draw = Callable[[np.random.Generator, Categorical, int], NDArray[np.intp]]
Count = Callable[[np.random.Generator, Categorical, int], NDArray[np.int64]]

#: Up to this many categories a block's uniforms are laid out category-major (k x n), so that
#: a running maximum over k contiguous rows replaces a slow row-wise argmax over short rows.
COLUMN_K = 64


@dataclass(frozen=True)
class Sampler:
    """A named way to draw Gumbel-max samples.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in reports.
    exact : bool
        True when the sampler draws from Categorical(pi) exactly (up to float64 rounding).
    description : str
        One line for help texts and reports.
    draw : callable
        ``draw(rng, dist, n)`` returns ``n`` category indices.
    count : callable, optional
        ``count(rng, dist, n)`` returns the draws per category, equal to
        ``bincount(draw(rng, dist, n))`` from the same generator, only faster.
    """

    name: str
    exact: bool
    description: str
    draw: Draw
    count: Count | None = None

    def counts(self, rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.int64]:
        """Draws per category of ``n`` samples (``count`` when there is one)."""
        if self.count is not None:
            return self.count(rng, dist, n)
        return np.bincount(self.draw(rng, dist, n), minlength=dist.k).astype(np.int64)


def uniforms(
    rng: np.random.Generator, n: int, k: int, out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """``n x k`` uniforms on (0, 1]: ``1 - random()``, so a logarithm never sees 0.

    Row j holds sample j's k uniforms. For k <= :data:`COLUMN_K` the array is the transposed
    view of a C-contiguous ``k x n`` block (the generator fills category 0's n numbers first);
    above, it is C-contiguous itself. The layout is part of the reproducibility contract.
    ``out``, when given, is the C-contiguous array to fill (of the stored shape).
    """
    u = rng.random((k, n) if k <= COLUMN_K else (n, k), out=out)
    np.subtract(1.0, u, out=u)
    return u.T if k <= COLUMN_K else u


def open_uniforms(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``n x k`` uniforms on the open interval (0, 1): :func:`uniforms` with 1.0 redrawn."""
    return _redraw_ones(rng, uniforms(rng, n, k))


def open_uniform_rows(
    rng: np.random.Generator, rows: int, columns: int, out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """A C-contiguous ``rows x columns`` array of uniforms on (0, 1), filled row by row.

    ``1 - random()`` with the value 1.0 redrawn, like :func:`open_uniforms`, for callers that
    want one row per category whatever the number of samples (the sweep). ``out``, when
    given, is a C-contiguous array of that shape to fill.
    """
    u = rng.random((rows, columns), out=out)
    np.subtract(1.0, u, out=u)
    return _redraw_ones(rng, u)


def _redraw_ones(rng: np.random.Generator, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Replace every 1.0 in ``u`` (probability 2**-53 each) by ``1 - random()``, in place."""
    while u.size and u.max() == 1.0:
        ones = u == 1.0
        u[ones] = 1.0 - rng.random(int(ones.sum()))
    return u


def minus_gumbel(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """``ln(-ln U) = -g`` in place: minus the reference formula's Gumbel noise g = -ln(-ln U).

    ``u`` holds uniforms on the open interval (0, 1), so both logarithms stay finite.
    """
    np.log(u, out=u)  # ln U = -E, E ~ Exp(1)
    np.negative(u, out=u)
    np.log(u, out=u)  # ln E = -g
    return u


def gumbel_noise(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``n x k`` standard Gumbel variates by the reference formula ``-ln(-ln U)``."""
    g = minus_gumbel(open_uniforms(rng, n, k))
    np.negative(g, out=g)
    return g


def argmax(scores: NDArray[np.float64]) -> NDArray[np.intp]:
    """Row-wise argmax of an ``n x k`` score array."""
    return np.argmax(scores, axis=1)


def argmax_counts(
    rows: NDArray[np.float64], best: NDArray[np.float64] | None = None
) -> NDArray[np.int64]:
    """``bincount(argmax(rows, axis=0), minlength=k)`` of a ``k x n`` array, one row per category.

    When every column has exactly one entry equal to its maximum ``best`` (no tie, no NaN),
    the counts are the rows' numbers of entries equal to it: one contiguous pass per row
    instead of an argmax across rows. Otherwise np.argmax decides, lowest index on ties.
    """
    if best is None:
        best = rows.max(axis=0)
    if rows.shape[0] <= COLUMN_K:  # a few long rows: np.count_nonzero is fastest
        counts = np.array([np.count_nonzero(row == best) for row in rows], dtype=np.int64)
    else:  # many short rows: one call instead of two per row
        counts = (rows == best).sum(axis=1, dtype=np.int64)
    if int(counts.sum()) == rows.shape[1]:
        return counts
    return np.bincount(np.argmax(rows, axis=0), minlength=rows.shape[0]).astype(np.int64)


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


def _gaussian(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = rng.standard_normal((n, dist.k))
    scores += dist.logp
    return argmax(scores)


def _noise_on_pi(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = gumbel_noise(rng, n, dist.k)
    scores += dist.p
    return argmax(scores)


#: Upper clamp of the uniforms in the ``clamped`` control, as some copies of the trick do.
CLAMP = 0.999


def _logistic(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = rng.logistic(size=(n, dist.k))
    scores += dist.logp
    return argmax(scores)


def _gumbel_scaled(scale: float) -> Draw:
    def draw(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
        scores = gumbel_noise(rng, n, dist.k)
        scores *= scale
        scores += dist.logp
        return argmax(scores)

    return draw


def _left_gumbel(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    # g = +ln(-ln U) = -G: the left-skewed (minimum) Gumbel convention.
    scores = gumbel_noise(rng, n, dist.k)
    np.negative(scores, out=scores)
    scores += dist.logp
    return argmax(scores)


def float32_noise(u: NDArray[np.float32]) -> NDArray[np.float32]:
    """-ln(-ln U) in float32, in place; U = 0 gives -inf (the category cannot win)."""
    with np.errstate(divide="ignore"):
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
    np.negative(u, out=u)
    return u


def _float32(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = float32_noise(rng.random((dist.k, n), dtype=np.float32))
    scores += dist.logp.astype(np.float32)[:, None]
    return np.argmax(scores, axis=0)


def _clamped(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    u = np.minimum(uniforms(rng, n, dist.k), CLAMP)
    np.log(u, out=u)
    np.negative(u, out=u)
    np.log(u, out=u)
    return argmax(dist.logp - u)


SAMPLERS: dict[str, Sampler] = {
    s.name: s
    for s in (
        Sampler(
            "race",
            True,
            "exponential race argmax ln(U)/pi (default, fastest exact)",
            _race,
            _race_count,
        ),
        Sampler("reference", True, "literal argmax(ln pi + g), g = -ln(-ln U)", _reference),
        Sampler("numpy", True, "argmax(ln pi + g), g from numpy Generator.gumbel", _numpy_gumbel),
        Sampler("gaussian", False, "WRONG: standard normal noise instead of Gumbel", _gaussian),
        Sampler("gumbel-scale-2", False, "WRONG: Gumbel noise with scale 2", _gumbel_scaled(2.0)),
        Sampler("noise-on-pi", False, "WRONG: Gumbel noise added to pi, not ln pi", _noise_on_pi),
        Sampler("logistic", False, "WRONG: standard logistic noise instead of Gumbel", _logistic),
        Sampler(
            "gumbel-scale-1.05", False, "WRONG: Gumbel noise with scale 1.05", _gumbel_scaled(1.05)
        ),
        Sampler("left-gumbel", False, "WRONG: g = +ln(-ln U), minus a Gumbel", _left_gumbel),
        Sampler(
            "float32", False, "WRONG: float32 uniforms, U = 0 allowed (noise floor 2^-24)", _float32
        ),
        Sampler(
            "clamped", False, f"WRONG: uniforms clamped to u <= {CLAMP} (noise <= 6.9)", _clamped
        ),
    )
}

#: The sampler used when none is named.
DEFAULT_SAMPLER = "race"


def get_sampler(name: str) -> Sampler:
    """Look a sampler up by name; raises InputError naming the choices."""
    from gumbelcheck.core.errors import InputError

    try:
        return SAMPLERS[name]
    except KeyError:
        raise InputError(
            f"`noise` {name!r} is not known; choose one of {', '.join(SAMPLERS)}"
        ) from None
