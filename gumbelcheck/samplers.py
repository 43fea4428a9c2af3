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
:mod:`gumbelcheck.controls` computes the probabilities each of them really samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.parsing import Categorical

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


def uniforms(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``n x k`` uniforms on (0, 1]: ``1 - random()``, so a logarithm never sees 0.

    Row j holds sample j's k uniforms. For k <= :data:`COLUMN_K` the array is the transposed
    view of a C-contiguous ``k x n`` block (the generator fills category 0's n numbers first);
    above, it is C-contiguous itself. The layout is part of the reproducibility contract.
    """
    u = rng.random((k, n) if k <= COLUMN_K else (n, k))
    np.subtract(1.0, u, out=u)
    return u.T if k <= COLUMN_K else u


def open_uniforms(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``n x k`` uniforms on the open interval (0, 1): :func:`uniforms` with 1.0 redrawn."""
    u = uniforms(rng, n, k)
    ones = u == 1.0
    while ones.any():
        u[ones] = 1.0 - rng.random(int(ones.sum()))
        ones = u == 1.0
    return u


def gumbel_noise(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``n x k`` standard Gumbel variates by the reference formula ``-ln(-ln U)``."""
    g = open_uniforms(rng, n, k)
    np.log(g, out=g)
    np.negative(g, out=g)
    np.log(g, out=g)
    np.negative(g, out=g)
    return g


def argmax(scores: NDArray[np.float64]) -> NDArray[np.intp]:
    """Row-wise argmax of an ``n x k`` score array."""
    return np.argmax(scores, axis=1)


def _race_scores(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.float64]:
    """``n x k`` race scores ln(U_i) / pi_i (-inf for zero-probability categories)."""
    scores = uniforms(rng, n, dist.k)
    np.log(scores, out=scores)  # -E_i, in [-37.4, 0]
    support = dist.support
    # Overflow to -inf is right: a category of subnormal probability (almost) never wins.
    with np.errstate(over="ignore"):
        inverse = np.where(support, 1.0 / np.where(support, dist.p, 1.0), 0.0)
        if np.isfinite(inverse).all():
            scores *= inverse
        else:  # subnormal probabilities: divide, so that 0 * inf never makes a NaN
            np.divide(scores, np.where(support, dist.p, 1.0), out=scores)
    if not support.all():
        scores[:, ~support] = -np.inf
    return scores


def _race(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    return argmax(_race_scores(rng, dist, n))


def _race_count(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.int64]:
    scores = _race_scores(rng, dist, n)
    if dist.k <= COLUMN_K:
        rows = scores.T  # k x n, C-contiguous: one row per category
        best = rows[0].copy()
        for row in rows[1:]:
            np.maximum(best, row, out=best)
        counts = np.array([np.count_nonzero(row == best) for row in rows], dtype=np.int64)
        if counts.sum() == n:
            return counts
        # A tie for the maximum (probability ~2**-53 per pair): argmax takes the lowest index.
    return np.bincount(argmax(scores), minlength=dist.k).astype(np.int64)


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
    from gumbelcheck.errors import InputError

    try:
        return SAMPLERS[name]
    except KeyError:
        raise InputError(
            f"--noise {name!r} is not known; choose one of {', '.join(SAMPLERS)}"
        ) from None
