"""The Gumbel(mu, beta) distribution in float64, accurate over the whole range.

With z = (x - mu) / beta and e = exp(-z)::

    pdf    = exp(-(z + e)) / beta         logpdf = -(z + e) - log(beta)
    cdf    = exp(-e)                      logcdf = -e
    sf     = -expm1(-e)                   logsf  = log1p(-exp(-e))    (e > ln 2, sf near 1)
                                                 = log(-expm1(-e))    (e <= ln 2)
                                                 = -z                 (z > 700)
    ppf(p) = mu - beta log(-log p)        isf(q) = mu - beta log(-log1p(-q))

Each form avoids a cancellation the textbook one suffers: ``1 - cdf`` is 0 beyond z ~ 37 while
``sf`` stays accurate down to the smallest float; ``log(sf)`` is 0 in the left tail (sf rounds
to 1) and ``-inf`` beyond z ~ 745 (sf underflows) where ``logsf`` is exact; ``ppf(1 - q)``
cannot exceed ~36.7 because ``1 - q`` is rounded when stored, while ``isf(q)`` reaches
``-log(q)`` for q down to the smallest float. Beyond z = 700, e < 1e-304 and
``log(sf) = -z - e/2 + O(e^2)`` equals ``-z`` to float64 precision.

Every function is a vectorized numpy function ``f(x, mu=0.0, beta=1.0)`` (for ``ppf`` and
``isf`` the first argument is a probability) that broadcasts its arguments and returns a
float64 array, or a numpy scalar for scalar input. As in numpy and scipy.stats, invalid
parameters give NaN instead of raising: ``beta <= 0`` or NaN, probabilities outside [0, 1],
NaN anywhere. ``x = -inf`` and ``+inf`` and ``p`` (``q``) = 0 and 1 give the limits.
Floating-point warnings are not emitted (over- and underflow here are the expected limits).

:func:`sample` draws through the inverse CDF: ``ppf(U)`` with U uniform on the open interval
(0, 1), so it never takes log(0); from numpy's 53-bit uniforms the standard draws lie in
[-3.6, 36.7].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gumbelcheck.samplers import open_uniforms

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sample", "sf"]

#: Beyond this z, e = exp(-z) < 1e-304 and logsf = -z to float64 precision.
LOGSF_ASYMPTOTIC_Z = 700.0

_LN2 = float(np.log(2.0))


def _standardize(
    x: ArrayLike, mu: ArrayLike, beta: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """z = (x - mu) / beta (formed as a difference first: x/beta - mu/beta loses digits)."""
    beta = np.asarray(beta, dtype=np.float64)
    beta = np.where(beta > 0, beta, np.nan)
    z = (np.asarray(x, dtype=np.float64) - np.asarray(mu, dtype=np.float64)) / beta
    return z, beta


def _out(value: NDArray[np.float64]) -> Any:
    """An array, or a numpy scalar for 0-d results (as numpy's ufuncs return)."""
    return value[()]


def _neg_log_density(z: NDArray[np.float64], e: NDArray[np.float64]) -> NDArray[np.float64]:
    """z + e^-z, with its limit +inf at z = -inf (where the sum itself is inf - inf)."""
    return np.where(z == -np.inf, np.inf, z + e)


def pdf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Probability density ``exp(-(z + exp(-z))) / beta``.

    Parameters
    ----------
    x : array_like
        Points.
    mu : array_like
        Location (the mode; the mean is ``mu + gamma * beta``).
    beta : array_like
        Scale, > 0 (the standard deviation is ``pi * beta / sqrt(6)``).

    Returns
    -------
    ndarray or numpy scalar
        The density; NaN where ``beta <= 0`` or an argument is NaN.
    """
    with np.errstate(all="ignore"):
        z, beta = _standardize(x, mu, beta)
        neg_log = _neg_log_density(z, np.exp(-z))
        density = np.exp(-neg_log)
        # Where exp(-(z + e^-z)) is subnormal it has lost bits that a division by beta < 1
        # would bring back into the normal range: take the log of beta first there.
        lost = density < np.finfo(np.float64).tiny
        return _out(np.where(lost, np.exp(-neg_log - np.log(beta)), density / beta))


def logpdf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Log density ``-(z + exp(-z)) - log(beta)``; finite wherever exp(-z) is.

    Parameters and returns as in :func:`pdf`.
    """
    with np.errstate(all="ignore"):
        z, beta = _standardize(x, mu, beta)
        return _out(-_neg_log_density(z, np.exp(-z)) - np.log(beta))


def cdf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Cumulative distribution ``exp(-exp(-z))``.

    Parameters and returns as in :func:`pdf`.
    """
    with np.errstate(all="ignore"):
        z, _ = _standardize(x, mu, beta)
        return _out(np.exp(-np.exp(-z)))


def logcdf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Log of the cdf, ``-exp(-z)``: exact where the cdf itself underflows (z < -6.6).

    Parameters and returns as in :func:`pdf`.
    """
    with np.errstate(all="ignore"):
        z, _ = _standardize(x, mu, beta)
        return _out(-np.exp(-z))


def sf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Survival function ``1 - cdf`` as ``-expm1(-exp(-z))``, accurate in the right tail.

    Parameters and returns as in :func:`pdf`.
    """
    with np.errstate(all="ignore"):
        z, _ = _standardize(x, mu, beta)
        return _out(-np.expm1(-np.exp(-z)))


def logsf(x: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Log of the survival function, accurate in both tails.

    ``log1p(-exp(-e))`` where sf is near 1 (e = exp(-z) > ln 2), ``log(-expm1(-e))`` in
    between, and ``-z`` beyond z = 700, where sf underflows but its log is ~ -z.

    Parameters and returns as in :func:`pdf`.
    """
    with np.errstate(all="ignore"):
        z, _ = _standardize(x, mu, beta)
        e = np.exp(-z)
        near_one = np.log1p(-np.exp(-e))
        middle = np.log(-np.expm1(-e))
        value = np.where(e > _LN2, near_one, np.where(z > LOGSF_ASYMPTOTIC_Z, -z, middle))
        return _out(value)


def ppf(p: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Inverse of the cdf, ``mu - beta log(-log p)``.

    Accurate for every float ``p``; for an upper-tail probability q use ``isf(q)``, not
    ``ppf(1 - q)`` (``1 - q`` is rounded before ppf sees it).

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1]; ``ppf(0) = -inf``, ``ppf(1) = inf``, NaN outside.
    mu, beta : array_like
        Location and scale (> 0).

    Returns
    -------
    ndarray or numpy scalar
    """
    with np.errstate(all="ignore"):
        return _from_standard(np.log(-np.log(np.asarray(p, dtype=np.float64))), mu, beta)


def _from_standard(t: NDArray[np.float64], mu: ArrayLike, beta: ArrayLike) -> Any:
    """``mu - beta t``: a standard quantile ``-t`` moved to Gumbel(mu, beta); NaN for beta <= 0."""
    beta = np.asarray(beta, dtype=np.float64)
    beta = np.where(beta > 0, beta, np.nan)
    with np.errstate(all="ignore"):
        return _out(np.asarray(mu, dtype=np.float64) - beta * t)


def isf(q: ArrayLike, mu: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Any:
    """Inverse of the survival function, ``mu - beta log(-log1p(-q))``.

    Parameters
    ----------
    q : array_like
        Upper-tail probabilities in [0, 1]; ``isf(0) = inf``, ``isf(1) = -inf``, NaN outside.
    mu, beta : array_like
        Location and scale (> 0).

    Returns
    -------
    ndarray or numpy scalar
    """
    with np.errstate(all="ignore"):
        return _from_standard(np.log(-np.log1p(-np.asarray(q, dtype=np.float64))), mu, beta)


def sample(
    rng: np.random.Generator, n: int, mu: float = 0.0, beta: float = 1.0
) -> NDArray[np.float64]:
    """``n`` Gumbel(mu, beta) draws through the inverse CDF: ``ppf(U)``, U on (0, 1).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the uniforms (one block's generator on the block engine).
    n : int
        Number of draws.
    mu, beta : float
        Location and scale.

    Returns
    -------
    ndarray
        float64 draws, shape ``(n,)``.
    """
    return np.asarray(ppf(open_uniforms(rng, n, 1).reshape(n), mu, beta))
