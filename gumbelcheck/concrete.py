"""Exact moments of the Gumbel-Softmax (Concrete) distribution by deterministic quadrature.

For y = softmax((theta + g) / tau), g_i iid Gumbel(0, 1), the first two moments E[y_i] and
E[y_i^2] and their derivatives with respect to the logits theta are each a one-dimensional
integral of univariate functions, which the trapezoid rule computes to about 1e-13.

Derivation. With 1 / S^m = int_0^inf s^(m-1) exp(-s S) ds / Gamma(m) for the softmax
denominator S = sum_j exp(x_j / tau), and the substitution s = exp(-c / tau), the independence
of the g_j factorizes the expectation:

    E[y_i]   = int Q_1(c - theta_i) prod_{j != i} G(c - theta_j) dc,
    E[y_i^2] = int Q_2(c - theta_i) prod_{j != i} G(c - theta_j) dc,

where, with f and F the Gumbel(0, 1) density and distribution function,

    G(d)   = E[exp(-exp((g - d) / tau))]            = int F(d + tau z) phi_1(z) dz,
    Q_m(d) = E[exp(m (g - d) / tau - exp((g - d) / tau))] / tau = int f(d + tau z) phi_m(z) dz,

and phi_m(z) = exp(m z - exp(z)). G is the distribution function of g + tau g' (g, g' iid
Gumbel) and Q_1 = G' its density: E[y_i] = P(argmax(theta + g + tau g') = i), the Gumbel-max
trick applied to the softmax itself. As tau -> 0, G -> F and E[y_i] -> pi_i.

Derivatives: the moments depend on theta only through differences, and
d/dtheta_l prod_{j != i} G(c - theta_j) = -Q_1(c - theta_l) prod_{j != i, l} G(c - theta_j), so

    dE[y_i^m] / dtheta_l = -int Q_m(c - theta_i) Q_1(c - theta_l) prod_{j != i, l} G dc  (l != i),

and the diagonal is minus the sum of the others.

Quadrature. Every integrand is analytic in a strip about the real line and decays
exponentially at both ends, so the trapezoid rule converges geometrically: steps of
:data:`STEP` (about e^-98 discretization error) on ranges cut where the integrand is below
e^-40 of its peak. For tau < 1 the inner integrals run over z (phi_m has unit width, f(d + tau z)
width 1 / tau); for tau >= 1 over u = d + tau z, where f(u) has unit width and phi_m((u - d) /
tau) width tau. The outer integral over c runs from max theta - 6 max(1, tau) to max theta +
45 max(1, tau) in steps of STEP max(1, tau). The tests compare the moments with Monte Carlo
means and their derivatives with central finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Trapezoid step of every integral (in units of max(1, tau) for the outer one).
STEP = 0.1

#: Nodes of the inner integrals: z = ln E (E ~ Gamma(m, 1)) for tau < 1, u (a Gumbel
#: variable) for tau >= 1.
_Z = np.arange(-45.0, 4.5 + STEP / 2, STEP)
_U = np.arange(-4.5, 45.0 + STEP / 2, STEP)


@dataclass(frozen=True, kw_only=True)
class ConcreteMoments:
    """E[y], E[y^2] of y = softmax((theta + g) / tau) and their Jacobians in theta.

    Attributes
    ----------
    tau : float
        The temperature.
    mean, second : ndarray
        E[y_i] and E[y_i^2], shape (k,).
    d_mean, d_second : ndarray
        dE[y_i] / dtheta_l and dE[y_i^2] / dtheta_l, shape (k, k), row i, column l.
    """

    tau: float
    mean: NDArray[np.float64]
    second: NDArray[np.float64]
    d_mean: NDArray[np.float64]
    d_second: NDArray[np.float64]


def _gumbel_pdf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-x - np.exp(-x))


def _gumbel_cdf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-np.exp(-x))


def kernels(
    d: NDArray[np.float64], tau: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """G(d), Q_1(d), Q_2(d) of the module docstring, elementwise over ``d``."""
    x = np.asarray(d, dtype=np.float64)[..., None]
    if tau < 1.0:
        e = np.exp(_Z)
        phi1 = np.exp(_Z - e)
        phi2 = phi1 * e
        shifted = x + tau * _Z
        density = _gumbel_pdf(shifted)
        g = (_gumbel_cdf(shifted) * phi1).sum(axis=-1)
        q1 = (density * phi1).sum(axis=-1)
        q2 = (density * phi2).sum(axis=-1)
        return g * STEP, q1 * STEP, q2 * STEP
    f = _gumbel_pdf(_U)
    w = (_U - x) / tau
    e = np.exp(w)
    weighted = f * np.exp(w - e)
    g = (f * _gumbel_cdf(-w)).sum(axis=-1)
    q1 = weighted.sum(axis=-1)
    q2 = (weighted * e).sum(axis=-1)
    return g * STEP, q1 * (STEP / tau), q2 * (STEP / tau)


def concrete_moments(theta: NDArray[np.float64], tau: float) -> ConcreteMoments:
    """The first two moments of Gumbel-Softmax samples and their Jacobians (see the module
    docstring).

    Parameters
    ----------
    theta : ndarray
        Finite logits, shape (k,).
    tau : float
        The temperature, > 0.

    Returns
    -------
    ConcreteMoments
    """
    theta = np.asarray(theta, dtype=np.float64)
    k = theta.size
    scale = max(1.0, tau)
    top = float(theta.max())
    width = STEP * scale
    c = np.arange(top - 6.0 * scale, top + 45.0 * scale + width / 2, width)
    # One category at a time: the kernels' temporaries hold C x (quadrature nodes) numbers
    # (some 2 MB each) instead of k times as many (0.8 GB at k = 64).
    g, q1, q2 = (np.stack(a) for a in zip(*(kernels(c - t, tau) for t in theta), strict=True))
    # G > 0 on the whole range (its lowest point is G(-6 max(1, tau)): e^-38 at tau = 1,
    # e^-101 at tau = 0.5 or 2, e^-315 at 0.1 or 10, e^-403 at 1e-4 or 1e4, above the e^-745
    # where float64 underflows), so the leave-out products are ratios of finite logarithms.
    log_g = np.log(g)
    total = log_g.sum(axis=0)
    rest = np.exp(total - log_g)  # prod_{j != i}
    mean = (q1 * rest).sum(axis=1) * width
    second = (q2 * rest).sum(axis=1) * width
    rest2 = np.exp(total - log_g[:, None, :] - log_g[None, :, :])  # prod_{j != i, l}
    d_mean = -np.einsum("ic,lc,ilc->il", q1, q1, rest2) * width
    d_second = -np.einsum("ic,lc,ilc->il", q2, q1, rest2) * width
    diagonal = np.arange(k)
    for jacobian in (d_mean, d_second):
        jacobian[diagonal, diagonal] = 0.0
        jacobian[diagonal, diagonal] = -jacobian.sum(axis=1)
    return ConcreteMoments(
        tau=float(tau), mean=mean, second=second, d_mean=d_mean, d_second=d_second
    )
