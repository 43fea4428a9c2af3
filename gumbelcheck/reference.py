"""High-precision reference values of the Gumbel functions, computed with mpmath.

Every value is computed at :data:`PRECISION` bits from the exact float64 inputs and rounded
once to float64, so a float64 implementation can be judged in ULP of the true value. The
reference needs cancellation-free forms too: at any finite precision ``1 - exp(-e)`` rounds
to 1 when e is large, so ``log(-expm1(-e))`` returns 0 in the left tail (z < -5 at 60
digits); ``log1p(-exp(-e))`` is used there instead. mpmath's exponent range is unbounded, so
values that over- or underflow float64 are computed exactly and only their conversion to
float64 (``float()``, round to nearest) over- or underflows.
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath
import numpy as np
from numpy.typing import NDArray

#: Working precision in bits (float64 has 53): enough for the cancellations near the roots of
#: logpdf and ppf, where the reference subtracts two numbers that agree in many digits.
PRECISION = 256

#: Functions of x that :func:`reference_x` evaluates.
X_FUNCTIONS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")


def reference_x(
    x: Sequence[float] | NDArray[np.float64], mu: float, beta: float
) -> dict[str, NDArray[np.float64]]:
    """Reference pdf, logpdf, cdf, logcdf, sf and logsf at the points ``x``.

    Parameters
    ----------
    x : array_like
        float64 points, each taken as an exact binary number.
    mu, beta : float
        Location and scale (beta > 0).

    Returns
    -------
    dict of str to ndarray
        The six functions keyed by name, plus ``z`` = (x - mu) / beta and ``e`` = exp(-z),
        all correctly rounded to float64 (``e`` may overflow to inf).
    """
    names = ("z", "e", *X_FUNCTIONS)
    out = {name: np.empty(len(x)) for name in names}
    with mpmath.workprec(PRECISION):
        m, b = mpmath.mpf(mu), mpmath.mpf(beta)
        log_b = mpmath.log(b)
        for i, xi in enumerate(np.asarray(x, dtype=np.float64).tolist()):
            z = (mpmath.mpf(xi) - m) / b
            e = mpmath.exp(-z)
            values = {
                "z": z,
                "e": e,
                "pdf": mpmath.exp(-(z + e)) / b,
                "logpdf": -(z + e) - log_b,
                "cdf": mpmath.exp(-e),
                "logcdf": -e,
                "sf": -mpmath.expm1(-e),
                # sf near 1 (e > 1): log1p keeps the tiny log; elsewhere -expm1 keeps tiny sf.
                "logsf": mpmath.log1p(-mpmath.exp(-e)) if e > 1 else mpmath.log(-mpmath.expm1(-e)),
            }
            for name in names:
                out[name][i] = float(values[name])
    return out


def reference_ppf(
    p: Sequence[float] | NDArray[np.float64], mu: float, beta: float
) -> NDArray[np.float64]:
    """Reference ``mu - beta log(-log p)`` at the exact float64 probabilities ``p``."""
    return _inverse(p, mu, beta, upper=False)


def reference_isf(
    q: Sequence[float] | NDArray[np.float64], mu: float, beta: float
) -> NDArray[np.float64]:
    """Reference ``mu - beta log(-log1p(-q))`` at the exact float64 probabilities ``q``."""
    return _inverse(q, mu, beta, upper=True)


def _inverse(
    p: Sequence[float] | NDArray[np.float64], mu: float, beta: float, *, upper: bool
) -> NDArray[np.float64]:
    values = np.asarray(p, dtype=np.float64).tolist()
    out = np.empty(len(values))
    with mpmath.workprec(PRECISION):
        m, b = mpmath.mpf(mu), mpmath.mpf(beta)
        for i, pi in enumerate(values):
            # log1p(-q) is exact for the stored q; log(1 - q) would first round 1 - q.
            log_cdf = mpmath.log1p(-mpmath.mpf(pi)) if upper else mpmath.log(mpmath.mpf(pi))
            out[i] = float(m - b * mpmath.log(-log_cdf))
    return out
