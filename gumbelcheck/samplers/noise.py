"""The uniforms and Gumbel noise every sampler is built on, and the argmax counts.

Every sampler built on :func:`uniforms` sees the block's uniforms in the same layout
(category-major for k <= :data:`COLUMN_K`, which keeps small k fast; sample-major above), so
from the same generator the reference formula and the exponential race give the same samples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Up to this many categories a block's uniforms are laid out category-major (k x n), so that
#: a running maximum over k contiguous rows replaces a slow row-wise argmax over short rows.
COLUMN_K = 64


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


def gumbel_rows(
    rng: np.random.Generator, rows: int, columns: int, scale: float = 1.0
) -> NDArray[np.float64]:
    """A ``rows x columns`` array of Gumbel(0, ``scale``) variates by the reference formula,
    filled row by row (:func:`open_uniform_rows`): one row per category, category-major."""
    g = minus_gumbel(open_uniform_rows(rng, rows, columns))
    np.negative(g, out=g)
    if scale != 1.0:
        g *= scale
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


