"""Gradient estimators of the Gumbel tricks against exact gradients: bias and variance by tau.

A network cannot backpropagate through sampling z ~ Categorical(softmax(theta)); the
Gumbel-max trick rewrites the sample as z = onehot(argmax(theta + g)), and Gumbel-Softmax
relaxes the argmax to y = softmax((theta + g) / tau) so that gradients flow. For an objective
f of the one-hot sample (``linear`` c . z, the ``quadratic`` sum_i (z_i - t_i)^2 of the REBAR
and RELAX toy problems, or a user's function) the check computes the exact gradients

* of the discrete objective, grad E[f(z)] = p * (f(e) - E f) by enumeration of the k one-hot
  vectors e_i (p = softmax(theta)), and
* of the relaxed objective, grad E[f(y_tau)], for ``linear`` and ``quadratic`` from the exact
  moments E[y_i], E[y_i^2] and their Jacobians (:mod:`gumbelcheck.concrete`, quadrature),

and draws N samples on the block engine (one noise draw per block, every tau evaluated on it)
of five estimators, each computed per sample with its closed-form Jacobian
d softmax(x / tau) / dtheta = (diag(y) - y y^T) / tau:

* ``reinforce``: the score function f(z) (z - p);
* ``reinforce-baseline``: (f(z) - b) (z - p) with the constant b = E[f(z)] (exact);
* ``gumbel-softmax``: the pathwise gradient (diag(y) - y y^T) grad f(y) / tau;
* ``straight-through``: the same Jacobian applied to grad f(z) at the hard sample;
* ``gumbel-rao``: straight-through averaged over ``draws`` conditional Gumbel draws given
  the argmax D (top-down: x_D = -ln E_D, x_i = -ln(E_D + E_i / p_i), E iid Exp(1)).

Verdicts, all z tests in one Holm family at level alpha: REINFORCE (both forms) is unbiased
for the discrete gradient (one two-sided test per coordinate); Gumbel-Softmax is unbiased for
the relaxed gradient at each tau (per coordinate); Gumbel-Rao minus straight-through, paired
on the same sample, has mean 0 (per coordinate) and E|ST - r|^2 - E|GR - r|^2 >= 0 (one-sided:
Gumbel-Rao's total variance is no larger). The bias of Gumbel-Softmax, straight-through and
Gumbel-Rao against the discrete gradient is reported with standard errors, not tested. Every
gradient in the logits sums to 0 over its k coordinates, so the k tests of a mean are
dependent (one is implied by the others); Holm's procedure is valid under any dependence, and
a Hotelling test would need the singular covariance's pseudo-inverse.

Validity. A z test needs its mean carried by many samples. Before sampling, :func:`prepare`
refuses fewer than :data:`MIN_SAMPLES` samples and fewer than :data:`MIN_RARE_DRAWS` expected
draws of the rarest outcome. At small tau the Gumbel-Softmax mean rests on the rare near-ties
of the perturbed logits (:func:`near_ties`): where fewer than :data:`MIN_NEAR_TIES` are
expected, its unbiasedness test is reported as not applicable, outside the Holm family (its
bias and variance are still reported). The paired Gumbel-Rao tests need no such rule: their
null mean is 0, which a sample without near-ties also shows, and the paired differences are
nearly symmetric.

Standard errors. Every estimator's per-sample vector w = (ghat - r, |ghat - r|^2), r the
exact discrete gradient, is summarized per block by its mean and co-moment matrix, merged in
block order with Chan's formula; the bias norm, cosine and total variance get delta-method
standard errors from that covariance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.checks.sweep import gumbel_softmax
from gumbelcheck.concrete import concrete_moments
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import (
    Categorical,
    categorical,
    parse_count,
    parse_float_list,
    parse_real,
    parse_tau_grid,
)
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import gumbel_rows, open_uniform_rows
from gumbelcheck.stats import TARGET_POWER, holm

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = (
    "for z = onehot(argmax(theta + g)): the score-function estimators have mean grad E[f(z)]; "
    "at every tau the Gumbel-Softmax estimator has mean grad E[f(softmax((theta + g) / tau))]; "
    "Gumbel-Rao has the straight-through mean and no larger total variance"
)

#: Built-in objectives of the one-hot (or relaxed) sample.
OBJECTIVES = ("linear", "quadratic")

#: The estimators, in report order.
ESTIMATORS = (
    "reinforce",
    "reinforce-baseline",
    "gumbel-softmax",
    "straight-through",
    "gumbel-rao",
)

#: Negative controls: a score function with its sign flipped, a Gumbel-Softmax computing
#: softmax(theta / tau + g) (the temperature on the logits only), Gumbel-Rao plus mean-zero
#: noise (same mean, more variance than straight-through: the variance test must fail), and
#: Gumbel-Rao averaged over unconditional Gumbel draws that ignore the sample (another mean:
#: the paired-mean test must fail).
CONTROLS = ("none", "score-sign", "tau-misplaced", "rao-noisy", "rao-unconditional")

#: Scale of ``rao-noisy``'s noise: Gumbel-Rao + s (ST - GR) with s = +-NOISE_SCALE, a fair
#: coin per sample. Its mean is Gumbel-Rao's; given the sample z, ST and GR are independent
#: with conditional variances V and V / draws, so E|noisy - r|^2 - E|ST - r|^2 =
#: E[V] (NOISE_SCALE^2 (1 + 1 / draws) + 1 / draws - 1) > 0.
NOISE_SCALE = 3.0

#: The default temperatures.
DEFAULT_TAU = "0.1:10:5"

#: Most categories: the relaxed Jacobians hold k x k x (quadrature nodes) numbers.
MAX_K = 64

#: Most temperatures in a grid.
MAX_TAU_VALUES = 50

#: The temperatures accepted: the quadrature is tested over this range, and beyond it the
#: estimators' 1 / tau factors leave the useful range of float64.
TAU_RANGE = (1e-4, 1e4)

#: Fewest samples: every test is a z test on sample means and standard errors.
MIN_SAMPLES = 1_000

#: Fewest expected draws N min_i min(p_i, 1 - p_i) of the rarest outcome (category i drawn, or
#: not drawn), checked before sampling. A coordinate's mean rests on those draws: with none
#: drawn its sample mean is off by about sqrt(N) standard errors. Measured with
#: ``bench/gradients_validity.py reinforce`` (pi = (p, 0.3, 0.7 - p), N = 2e4, 2e5 replicates),
#: a correct REINFORCE's z test (Bonferroni over the coordinates) rejects at alpha = 0.01 on
#: 37% of the replicates at N p = 1, 5.2% at 3, 3.1% at 10, 1.1% at 30, 0.94% at 100 and 0.91%
#: at 300; deep in the tail (alpha / 41, the default family's Holm level) its rate is 2.9x
#: the Bonferroni bound at 30, 1.4x at 100 (adding at most 0.06 percentage points to a family
#: of 41) and 1.0x at 300.
MIN_RARE_DRAWS = 100

#: Fewest expected near-ties (:func:`near_ties`) for a Gumbel-Softmax test to count; below it
#: the test is reported as not applicable. Measured with ``bench/gradients_validity.py
#: gumbel-softmax`` (N = 2e4, 4000 replicates), the correct estimator's z test rejects at
#: alpha = 0.01 on 1.5% of the replicates at 10 near-ties, 1.1% at 30 and 0.65% at 100 for
#: pi = (0.1, 0.2, 0.7), 1.5%, 1.25% and 0.73% for pi = (0.01, 0.09, 0.9); at alpha / 41 on
#: 4 and 1 of the 4000 at 100 (the Bonferroni bound: 2.9). In 200 seeds of the whole check
#: (gumbelcheck.gradients) with 1 near-tie expected, the test rejected at alpha / k on 11%
#: (pi = (0.1, 0.2, 0.7)) to 28% (ten categories of 0.1) of them. The paired Gumbel-Rao tests
#: rejected at most 2 of 200 at any of 1 to 100 near-ties, for these and pi = (0.5, 0.5).
MIN_NEAR_TIES = 100

#: Numbers per block (samples x categories x (1 + draws)).
BLOCK_NUMBERS = 2**18

#: Central-difference step for a user objective's gradient when it has none.
FD_STEP = 1e-6

#: Points of the annealing schedule shown (steps 0, S/8, ..., S).
ANNEAL_CHECKPOINTS = 9

#: Series of the kernel: the two score functions, then per tau these four.
_PER_TAU = ("gumbel-softmax", "straight-through", "gumbel-rao", "rao-minus-st")


@dataclass(frozen=True, eq=False)
class Objective:
    """The objective f of a sample, with its gradient, on n x k arrays (one row a sample).

    Attributes
    ----------
    name : str
        ``linear``, ``quadratic``, or the SPEC of a user's function.
    target : ndarray or None
        c of ``linear`` (f = c . z) or t of ``quadratic`` (f = sum (z_i - t_i)^2).
    function : callable or None
        A user's ``f(y) -> n values``; its attribute ``gradient`` (``y -> n x k``), when
        present, gives grad f, otherwise central differences with step :data:`FD_STEP` do.
    origin : str
        Where the function came from (``built-in``, a file's sha256, a module's version).
    """

    name: str
    target: NDArray[np.float64] | None
    function: Callable[..., Any] | None = None
    origin: str = "built-in"

    def value(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """f of every row of ``y``."""
        if self.name == "linear":
            return (y * self.target).sum(axis=1)
        if self.name == "quadratic":
            return np.square(y - self.target).sum(axis=1)
        return self._call(self.function, y, (y.shape[0],))

    def gradient(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """grad f of every row of ``y`` (n x k)."""
        if self.name == "linear":
            assert self.target is not None
            return np.broadcast_to(self.target, y.shape)
        if self.name == "quadratic":
            return 2.0 * (y - self.target)
        own = getattr(self.function, "gradient", None)
        if own is not None:
            return self._call(own, y, y.shape)
        out = np.empty_like(y)
        for i in range(y.shape[1]):
            up, down = y.copy(), y.copy()
            up[:, i] += FD_STEP
            down[:, i] -= FD_STEP
            out[:, i] = (self.value(up) - self.value(down)) / (2.0 * FD_STEP)
        return out

    def _call(
        self, function: Any, y: NDArray[np.float64], shape: tuple[int, ...]
    ) -> NDArray[np.float64]:
        try:
            out = np.asarray(function(np.array(y)), dtype=np.float64)
        except Exception as error:
            raise InputError(
                f"`objective` {self.name!r} raised {type(error).__name__}: {error}"
            ) from None
        if out.shape != shape:
            raise InputError(
                f"`objective` {self.name!r} returned shape {out.shape} for {y.shape[0]} x "
                f"{y.shape[1]} input; return shape {shape}"
            )
        return out

    def relaxed(self, theta: NDArray[np.float64], tau: float) -> tuple[float, NDArray[np.float64]]:
        """E[f(y_tau)] and its gradient in theta, exactly; NaN for a user's function."""
        k = theta.size
        if self.target is None:
            return math.nan, np.full(k, math.nan)
        m = concrete_moments(theta, tau)
        t = self.target
        if self.name == "linear":
            return float(t @ m.mean), m.d_mean.T @ t
        value = float(m.second.sum() - 2.0 * t @ m.mean + t @ t)
        return value, m.d_second.sum(axis=0) - 2.0 * (m.d_mean.T @ t)

    @property
    def has_relaxed(self) -> bool:
        """True when the relaxed gradient is known exactly (the built-in objectives)."""
        return self.target is not None


def discrete_gradient(
    p: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """E[f(z)] = sum p_i f(e_i) and its gradient p * (f(e) - E f) in the logits."""
    mean = math.fsum(p * values)
    return mean, p * (values - mean)


@dataclass(frozen=True, eq=False)
class _Part:
    """Per-series means and co-moment matrices of w = (ghat - r, |ghat - r|^2)."""

    n: int
    mean: NDArray[np.float64]  # (S, k + 1)
    comoment: NDArray[np.float64]  # (S, k + 1, k + 1)


def _fold(a: _Part, b: _Part) -> _Part:
    """Merge consecutive blocks (Chan's formula for means and co-moments)."""
    n = a.n + b.n
    delta = b.mean - a.mean
    return _Part(
        n=n,
        mean=a.mean + delta * (b.n / n),
        comoment=a.comoment + b.comoment + np.einsum("si,sj->sij", delta, delta) * (a.n * b.n / n),
    )


def _vjp(y: NDArray[np.float64], v: NDArray[np.float64], tau: float) -> NDArray[np.float64]:
    """v^T d softmax(x / tau) / dx for every row: (y * v - y (y . v)) / tau."""
    out = y * v
    out -= y * out.sum(axis=1, keepdims=True)
    out /= tau
    return out


@dataclass(frozen=True, eq=False)
class GradientKernel:
    """The block kernel: one noise draw (and its conditional draws), every tau on it."""

    dist: Categorical
    objective: Objective
    taus: NDArray[np.float64]
    draws: int
    control: str
    baseline: float
    center: NDArray[np.float64]

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> _Part:
        with np.errstate(all="ignore"):  # a NaN is measured and reported, not raised
            return self._block(rng, n)

    def _block(self, rng: np.random.Generator, n: int) -> _Part:
        p, logp, k = self.dist.p, self.dist.logp, self.dist.k
        objective = self.objective
        # Category-major arrays (k x n) seen as n x k (one row a sample): every reduction
        # over the k categories is a few passes over contiguous rows, and elementwise
        # results keep the layout.
        g = gumbel_rows(rng, k, n).T
        x = (logp[:, None] + g.T).T
        rows = np.arange(n)
        hard = x.argmax(axis=1)
        z = np.zeros((k, n)).T
        z[rows, hard] = 1.0
        conditional = self._conditional(rng, hard, n)
        if self.control == "rao-noisy":  # drawn last: the other estimators keep their noise
            coin = np.where(rng.random(n) < 0.5, -NOISE_SCALE, NOISE_SCALE)
        values, w_hard = objective.value(z), objective.gradient(z)
        series = []
        score = z - p
        sign = -1.0 if self.control == "score-sign" else 1.0
        series.append(self._moments(sign * values[:, None] * score))
        series.append(self._moments((values - self.baseline)[:, None] * score))
        for tau in self.taus:
            tau = float(tau)
            y, _ = gumbel_softmax(x, tau)
            st = _vjp(y, w_hard, tau)
            if self.control == "tau-misplaced":
                y, _ = gumbel_softmax(logp / tau + g, 1.0)
            series.append(self._moments(_vjp(y, objective.gradient(y), tau)))
            rao = np.zeros((k, n)).T
            for draw in conditional:
                rao += _vjp(gumbel_softmax(draw, tau)[0], w_hard, tau)
            rao /= self.draws
            if self.control == "rao-noisy":
                rao += coin[:, None] * (st - rao)
            series.append(self._moments(st))
            series.append(self._moments(rao))
            u_st, u_rao = st - self.center, rao - self.center
            delta = np.square(u_st).sum(axis=1) - np.square(u_rao).sum(axis=1)
            series.append(self._moments(rao - st, delta))
        return _Part(
            n=n,
            mean=np.stack([s[0] for s in series]),
            comoment=np.stack([s[1] for s in series]),
        )

    def _conditional(
        self, rng: np.random.Generator, hard: NDArray[np.intp], n: int
    ) -> list[NDArray[np.float64]]:
        """``draws`` arrays (n x k views of k x n) of perturbed logits theta + g drawn given
        argmax = ``hard``: top-down, x_D = -ln E_D (the max, Gumbel(0, 1) as sum p = 1) and
        x_i = -ln(E_D + E_i / p_i) (Gumbel(theta_i, 1) truncated below the max)."""
        k, p = self.dist.k, self.dist.p
        if self.control == "rao-unconditional":  # the wrong law: ignores ``hard``
            return [(self.dist.logp[:, None] + gumbel_rows(rng, k, n)).T for _ in range(self.draws)]
        e = open_uniform_rows(rng, self.draws * k, n).reshape(self.draws, k, n)
        np.log(e, out=e)
        np.negative(e, out=e)  # E ~ Exp(1), finite and > 0
        rows = np.arange(n)
        out = []
        for draw in e:
            top = draw[hard, rows]  # E_D
            x = draw.T / p
            x += top[:, None]
            np.log(x, out=x)
            np.negative(x, out=x)
            x[rows, hard] = -np.log(top)
            out.append(x)
        return out

    def _moments(
        self, estimate: NDArray[np.float64], last: NDArray[np.float64] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and co-moment of w = (estimate - r, |estimate - r|^2) (or ``last`` as the
        final column, for the paired series, whose estimate is a difference)."""
        k, n = self.dist.k, estimate.shape[0]
        w = np.empty((k + 1, n))  # one row per coordinate: reductions run along rows
        if last is None:
            np.subtract(estimate, self.center, out=w[:k].T)
            np.einsum("in,in->n", w[:k], w[:k], out=w[k])
        else:
            w[:k] = estimate.T
            w[k] = last
        mean = w.mean(axis=1)
        w -= mean[:, None]
        # einsum, not a BLAS product: its summation order never depends on threads.
        return mean, np.einsum("in,jn->ij", w, w)


@dataclass(frozen=True, kw_only=True)
class EstimatorRow:
    """One estimator at one temperature (NaN for the score functions).

    Attributes
    ----------
    estimator, tau
        Which estimator, at which temperature.
    mean, se : tuple of float
        The mean gradient and its standard error, per coordinate.
    bias_norm, relative_bias, cosine : float
        |mean - r|, |mean - r| / |r| and cos(mean, r) against the exact discrete gradient r,
        each with a delta-method standard error ``*_se``.
    trace_variance, mse : float
        tr Cov(ghat) and E|ghat - r|^2, with standard errors.
    exact_bias_norm : float
        For ``gumbel-softmax``: |grad E f(y_tau) - r|, exactly (NaN where not known).
    """

    estimator: str
    tau: float
    mean: tuple[float, ...]
    se: tuple[float, ...]
    bias_norm: float
    bias_norm_se: float
    relative_bias: float
    relative_bias_se: float
    cosine: float
    cosine_se: float
    trace_variance: float
    trace_variance_se: float
    mse: float
    mse_se: float
    exact_bias_norm: float = math.nan


@dataclass(frozen=True, kw_only=True)
class GradientTest:
    """One test of the Holm family (a per-coordinate test counts its coordinates).

    Attributes
    ----------
    name : str
        What is tested.
    estimator, tau
        The estimator and temperature (NaN for the score functions).
    statistic : float
        max |z| over the coordinates, or z of the one-sided variance test.
    log10_pvalue, holm_log10_pvalue : float
        The smallest coordinate's log10 p, unadjusted and Holm-adjusted.
    mde : float
        Minimum detectable effect (power 0.9 at the Bonferroni level alpha / m): a mean
        difference in the worst-measured coordinate, or a total-variance excess.
    rejected : bool
        Holm rejects it at level alpha.
    hypotheses : int
        Coordinates (hypotheses) it contributes to the family.
    applicable : bool
        False when the z test's normal approximation cannot be trusted at this temperature
        (too few near-ties, see :func:`near_ties`): the statistic and p are shown, but the
        test is left out of the Holm family (Holm p and MDE NaN) and never rejected.
    note : str
        Why the test is not applicable (empty otherwise).
    """

    name: str
    estimator: str
    tau: float
    statistic: float
    log10_pvalue: float
    holm_log10_pvalue: float
    mde: float
    rejected: bool
    hypotheses: int
    applicable: bool = True
    note: str = ""


@dataclass(frozen=True, kw_only=True, eq=False)
class GradientsResult(ResultReport):
    """Result of :func:`gradients`."""

    check: ClassVar[str] = "gradients"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    objective: str
    target: tuple[float, ...] | None
    control: str
    draws: int
    samples: int
    alpha: float
    taus: tuple[float, ...]
    discrete_value: float
    discrete_gradient: tuple[float, ...]
    relaxed_value: tuple[float, ...]
    relaxed_gradient: tuple[tuple[float, ...], ...]
    rows: tuple[EstimatorRow, ...]
    tests: tuple[GradientTest, ...]
    schedule: tuple[tuple[int, float], ...] = ()
    schedule_share_at_min: float = math.nan
    provenance: provenance.Provenance = field(repr=False)

    @property
    def hard_failure(self) -> bool:
        """A NaN or infinite estimate (its mean is then not finite)."""
        return any(not all(math.isfinite(v) for v in row.mean) for row in self.rows)

    @property
    def passed(self) -> bool:
        """True when Holm rejects no test and every estimate is finite."""
        return not self.hard_failure and not any(t.rejected for t in self.tests)

    def row(self, estimator: str, tau: float = math.nan) -> EstimatorRow:
        """The row of ``estimator`` at ``tau``."""
        for r in self.rows:
            if r.estimator == estimator and (r.tau == tau or math.isnan(r.tau)):
                return r
        raise KeyError((estimator, tau))

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator and temperature (tidy)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "estimator": r.estimator,
                    "tau": r.tau,
                    "bias_norm": r.bias_norm,
                    "bias_norm_se": r.bias_norm_se,
                    "relative_bias": r.relative_bias,
                    "relative_bias_se": r.relative_bias_se,
                    "cosine": r.cosine,
                    "cosine_se": r.cosine_se,
                    "trace_variance": r.trace_variance,
                    "trace_variance_se": r.trace_variance_se,
                    "mse": r.mse,
                    "mse_se": r.mse_se,
                    "exact_bias_norm": r.exact_bias_norm,
                    "mean": " ".join(f"{v:.17g}" for v in r.mean),
                    "se": " ".join(f"{v:.17g}" for v in r.se),
                }
                for r in self.rows
            ]
        )

    def _failures(self) -> list[str]:
        failures = [
            f"{t.name}: Holm log10 p = {t.holm_log10_pvalue:.4g}" for t in self.tests if t.rejected
        ]
        bad = [r for r in self.rows if not all(math.isfinite(v) for v in r.mean)]
        if bad:
            failures.append(
                "NaN or infinite estimates: "
                + ", ".join(f"{r.estimator} @ tau={r.tau:.3g}" for r in bad)
            )
        return failures

    def summary(self) -> Summary:
        """The deciding test, the biases and the detectable effects."""
        family = [t for t in self.tests if t.applicable]
        m = sum(t.hypotheses for t in family)
        decisive = min(family, key=lambda t: (t.holm_log10_pvalue, t.log10_pvalue))
        reinforce = self.row("reinforce")
        gs_tests = [t for t in family if t.estimator == "gumbel-softmax"]
        gs_rows = [r for r in self.rows if r.estimator == "gumbel-softmax"]
        first, last = gs_rows[0], gs_rows[-1]
        score_test = next(t for t in self.tests if t.estimator == "reinforce")
        # The tested effect: the largest distance of a mean from the gradient it must have
        # (REINFORCE from the discrete one, Gumbel-Softmax from the relaxed one).
        gs_effect = max(
            float(np.linalg.norm(np.subtract(r.mean, g)))
            for r, g in zip(gs_rows, self.relaxed_gradient, strict=True)
        )
        mde = f"score-function bias >= {score_test.mde:.2g} per coordinate"
        if gs_tests:
            mde += f"; Gumbel-Softmax >= {max(t.mde for t in gs_tests):.2g}"
        paired = [t.mde for t in family if t.name.startswith("gumbel-rao mean")]
        if paired:
            mde += f"; Gumbel-Rao - straight-through >= {max(paired):.2g}"
        skipped = len(self.tests) - len(family)
        if skipped:
            mde += f"; {skipped} test(s) not applicable (too few near-ties)"
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=self.hard_failure,
            null_hypothesis=self.null_hypothesis,
            rule=f"holm({m} tests)",
            test=decisive.name,
            statistic=decisive.statistic,
            df=None,
            pvalue=10.0**decisive.holm_log10_pvalue,
            log10_pvalue=decisive.holm_log10_pvalue,
            alpha=self.alpha,
            effect=f"|bias| {max(reinforce.bias_norm, gs_effect):.2g}",
            mde=mde,
            samples=self.samples,
            reason="; ".join(self._failures()),
            figures={
                "objective": self.objective,
                "control": self.control,
                "draws": self.draws,
                "tau_min": first.tau,
                "tau_max": last.tau,
                "gs_exact_bias_at_tau_min": first.exact_bias_norm,
                "gs_exact_bias_at_tau_max": last.exact_bias_norm,
                "gs_bias_at_tau_min": first.bias_norm,
                "gs_bias_at_tau_max": last.bias_norm,
                "gs_variance_at_tau_min": first.trace_variance,
                "gs_variance_at_tau_max": last.trace_variance,
                "reinforce_bias": reinforce.bias_norm,
                "gs_max_relaxed_bias": gs_effect,
                "reinforce_variance": reinforce.trace_variance,
                "reinforce_baseline_variance": self.row("reinforce-baseline").trace_variance,
                "pi": self.pi,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(
            pi=self.pi,
            objective=self.objective,
            target=self.target,
            control=self.control,
            draws=self.draws,
            tau=self.taus,
            discrete_value=self.discrete_value,
            discrete_gradient=self.discrete_gradient,
            relaxed_value=self.relaxed_value,
            relaxed_gradient=self.relaxed_gradient,
            rows=self.rows,
            tests=self.tests,
            schedule=self.schedule,
            schedule_share_at_min=self.schedule_share_at_min,
        )


def _z_quantile(q: float) -> float:
    from scipy import stats

    return float(stats.norm.isf(q))


def _row(
    estimator: str,
    tau: float,
    n: int,
    mean: NDArray[np.float64],
    comoment: NDArray[np.float64],
    center: NDArray[np.float64],
    exact_bias: float = math.nan,
) -> EstimatorRow:
    """An estimator's figures from the folded mean and co-moment of w (see the module)."""
    k = center.size
    cov = comoment / (n - 1)
    u = mean[:k]
    cov_u = cov[:k, :k]
    grad = center + u
    se = np.sqrt(np.diag(cov_u) / n)
    norm = float(np.linalg.norm(u))
    bias_se = math.sqrt(max(0.0, float(u @ cov_u @ u)) / n) / norm if norm > 0 else math.nan
    r_norm = float(np.linalg.norm(center))
    g_norm = float(np.linalg.norm(grad))
    if r_norm > 0 and g_norm > 0:
        cosine = float(grad @ center) / (g_norm * r_norm)
        direction = (center / r_norm - cosine * grad / g_norm) / g_norm
        cosine_se = math.sqrt(max(0.0, float(direction @ cov_u @ direction)) / n)
    else:
        cosine = cosine_se = math.nan
    # tr Cov = E q - |E u|^2 with q = |u|^2; influence function q - 2 (E u) . u.
    trace = float(np.trace(cov_u))
    influence = np.append(-2.0 * u, 1.0)
    trace_se = math.sqrt(max(0.0, float(influence @ cov @ influence)) / n)
    return EstimatorRow(
        estimator=estimator,
        tau=tau,
        mean=tuple(float(v) for v in grad),
        se=tuple(float(v) for v in se),
        bias_norm=norm,
        bias_norm_se=bias_se,
        relative_bias=norm / r_norm if r_norm > 0 else math.nan,
        relative_bias_se=bias_se / r_norm if r_norm > 0 else math.nan,
        cosine=cosine,
        cosine_se=cosine_se,
        trace_variance=trace,
        trace_variance_se=trace_se,
        mse=float(mean[k]),
        mse_se=math.sqrt(max(0.0, float(cov[k, k])) / n),
        exact_bias_norm=exact_bias,
    )


def _z_log10_pvalues(
    difference: NDArray[np.float64], se: NDArray[np.float64], scale: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-sided z tests of ``difference`` = 0 per coordinate: |z| and log10 p.

    A coordinate with zero variance passes when its difference is within rounding of 0
    (relative to ``scale``) and is rejected outright otherwise.
    """
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(difference) / se
    exact = se == 0
    z[exact] = np.where(np.abs(difference[exact]) <= 1e-12 * (1.0 + scale), 0.0, np.inf)
    log_p = np.minimum(0.0, math.log(2.0) + stats.norm.logsf(z)) / math.log(10.0)
    return z, log_p


def run(
    dist: Categorical,
    objective: Objective,
    taus: NDArray[np.float64],
    draws: int,
    control: str,
    config: RunConfig,
    schedule: tuple[tuple[int, float], ...] = (),
    share_at_min: float = math.nan,
    progress: Callable[[int], None] | None = None,
) -> GradientsResult:
    """Run the check on validated input (see :func:`prepare`)."""
    from scipy import stats

    k = dist.k
    theta = dist.logp
    values = objective.value(np.eye(k))
    discrete_value, center = discrete_gradient(dist.p, values)
    relaxed = [objective.relaxed(theta, float(tau)) for tau in taus]
    kernel = GradientKernel(dist, objective, taus, draws, control, discrete_value, center)
    plan = config.plan(_default_block_size(k, draws))
    part = engine.run_blocks(
        plan,
        config.seed,
        kernel,
        _fold,
        workers=config.workers,
        backend=config.backend,
        progress=progress,
    )
    n = part.n
    scale = float(np.abs(center).max()) if k else 0.0
    rows: list[EstimatorRow] = []
    pending: list[_Pending] = []
    for s, estimator in enumerate(ESTIMATORS[:2]):
        row = _row(estimator, math.nan, n, part.mean[s], part.comoment[s], center)
        rows.append(row)
        z, log_p = _z_log10_pvalues(np.asarray(row.mean) - center, np.asarray(row.se), scale)
        name = f"{estimator} unbiased for the discrete gradient"
        pending.append(_Pending(name, estimator, math.nan, z, log_p, max(row.se), True))
    for t, tau in enumerate(taus):
        tau = float(tau)
        ties = near_ties(dist.p, n, tau)
        note = ""
        if ties < MIN_NEAR_TIES:
            note = (
                f"N min(tau, 1) min p(1 - p) = {ties:.3g} expected near-ties < {MIN_NEAR_TIES}: "
                f"the mean rests on too few samples for a z test (N >= "
                f"{math.ceil(n * MIN_NEAR_TIES / ties):,} would test it)"
            )
        base = 2 + len(_PER_TAU) * t
        _, relaxed_gradient = relaxed[t]
        exact_bias = float(np.linalg.norm(relaxed_gradient - center))
        for offset, estimator in enumerate(_PER_TAU[:3]):
            s = base + offset
            row = _row(
                estimator,
                tau,
                n,
                part.mean[s],
                part.comoment[s],
                center,
                exact_bias if estimator == "gumbel-softmax" else math.nan,
            )
            rows.append(row)
            if estimator == "gumbel-softmax" and objective.has_relaxed:
                z, log_p = _z_log10_pvalues(
                    np.asarray(row.mean) - relaxed_gradient, np.asarray(row.se), scale
                )
                name = f"gumbel-softmax unbiased for the relaxed gradient @ tau={tau:.3g}"
                pending.append(_Pending(name, estimator, tau, z, log_p, max(row.se), True, note))
        s = base + 3
        mean, cov = part.mean[s], part.comoment[s] / (n - 1)
        se = np.sqrt(np.diag(cov) / n)
        z, log_p = _z_log10_pvalues(mean[:k], se[:k], scale)
        name = f"gumbel-rao mean = straight-through mean (paired) @ tau={tau:.3g}"
        pending.append(_Pending(name, "gumbel-rao", tau, z, log_p, float(se[:k].max()), True))
        # One-sided: E|ST - r|^2 - E|GR - r|^2 < 0 means Gumbel-Rao varies more.
        z_var = float(mean[k] / se[k]) if se[k] > 0 else (0.0 if mean[k] >= 0 else -math.inf)
        log_p_var = float(stats.norm.logcdf(z_var)) / math.log(10.0)
        name = f"gumbel-rao total variance <= straight-through @ tau={tau:.3g}"
        pending.append(
            _Pending(
                name,
                "gumbel-rao",
                tau,
                np.array([z_var]),
                np.array([log_p_var]),
                float(se[k]),
                False,
            )
        )
    tests = _holm_tests(pending, config.alpha)
    return GradientsResult(
        pi=tuple(float(v) for v in dist.p),
        objective=objective.name,
        target=None if objective.target is None else tuple(float(v) for v in objective.target),
        control=control,
        draws=draws,
        samples=n,
        alpha=config.alpha,
        taus=tuple(float(t) for t in taus),
        discrete_value=discrete_value,
        discrete_gradient=tuple(float(v) for v in center),
        relaxed_value=tuple(v for v, _ in relaxed),
        relaxed_gradient=tuple(tuple(float(x) for x in g) for _, g in relaxed),
        rows=tuple(rows),
        tests=tuple(tests),
        schedule=schedule,
        schedule_share_at_min=share_at_min,
        provenance=provenance.collect(
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=plan.block_size,
            noise="reference",
            sampler_origin=objective.origin,
            execution=config.execution(),
        ),
    )


@dataclass(frozen=True)
class _Pending:
    """A test before Holm: |z| (or z, one-sided) and log10 p per hypothesis."""

    name: str
    estimator: str
    tau: float
    z: NDArray[np.float64]
    log_p: NDArray[np.float64]
    se_max: float  # the worst-measured coordinate's standard error, for the MDE
    two_sided: bool
    note: str = ""  # why it is not applicable; empty when it is


def _holm_tests(pending: list[_Pending], alpha: float) -> list[GradientTest]:
    """The tests, Holm-adjusted over the hypotheses of the applicable ones."""
    family = [item for item in pending if not item.note]
    m = sum(item.z.size for item in family)
    adjusted = iter(holm(np.concatenate([item.log_p for item in family])))
    reject = math.log10(alpha)
    two_sided = _z_quantile(alpha / (2 * m)) + _z_quantile(1 - TARGET_POWER)
    one_sided = _z_quantile(alpha / m) + _z_quantile(1 - TARGET_POWER)
    tests = []
    for item in pending:
        holm_log_p = mde = math.nan
        if not item.note:
            holm_log_p = float(min(next(adjusted) for _ in range(item.z.size)))
            mde = (two_sided if item.two_sided else one_sided) * item.se_max
        log_p = float(np.nanmin(item.log_p)) if not np.isnan(item.log_p).all() else math.nan
        tests.append(
            GradientTest(
                name=item.name,
                estimator=item.estimator,
                tau=item.tau,
                statistic=float(item.z.max()) if item.two_sided else float(item.z[0]),
                log10_pvalue=log_p,
                holm_log10_pvalue=holm_log_p,
                mde=mde,
                rejected=holm_log_p < reject,
                hypotheses=int(item.z.size),
                applicable=not item.note,
                note=item.note,
            )
        )
    return tests


def near_ties(p: NDArray[np.float64], samples: int, tau: float) -> float:
    """N min(tau, 1) min_i p_i (1 - p_i): the expected number of samples whose two largest
    perturbed logits theta_i + g_i lie within tau of each other, for the least likely pair.

    Below tau = 1, every per-tau estimator's mean (Gumbel-Softmax's, straight-through's,
    Gumbel-Rao's) is carried by such near-ties: away from them y is nearly one-hot and the
    softmax Jacobian (diag(y) - y y^T) / tau nearly 0, at them of size 1 / tau. The gap between
    category i's perturbed logit and the largest other one is logistic with density
    p_i (1 - p_i) at 0, so a near-tie involving i has probability about tau p_i (1 - p_i).
    """
    return samples * min(tau, 1.0) * float(np.min(p * (1.0 - p)))


def _default_block_size(k: int, draws: int) -> int:
    """About :data:`BLOCK_NUMBERS` numbers per block, counting the conditional draws."""
    return engine.default_block_size(k * (1 + draws), BLOCK_NUMBERS)


_ANNEAL = re.compile(r"^\s*([^:]+):([^:]+):([^:]+):([^:]+)\s*$")


def annealing_schedule(spec: str) -> tuple[tuple[tuple[int, float], ...], float]:
    """Checkpoints (step, tau) of tau_t = max(tau_min, tau_0 exp(-r t)) and the share of the
    steps spent at tau_min, from ``"TAU0:TAU_MIN:RATE:STEPS"``.

    The checkpoints are steps 0, S/8, ..., S (:data:`ANNEAL_CHECKPOINTS` of them, rounded).
    """
    match = _ANNEAL.match(spec)
    if not match:
        raise InputError(
            f"`anneal` {spec!r} is not TAU0:TAU_MIN:RATE:STEPS; e.g. 1:0.5:1e-4:20000 "
            "(the Gumbel-Softmax paper's tau_0 = 1, tau_min = 0.5)"
        )
    tau0 = parse_real(match.group(1).strip(), "`anneal` TAU0", positive=True)
    tau_min = parse_real(match.group(2).strip(), "`anneal` TAU_MIN", positive=True)
    rate = parse_real(match.group(3).strip(), "`anneal` RATE")
    steps = parse_count(match.group(4).strip(), "`anneal` STEPS")
    if tau_min > tau0:
        raise InputError(
            f"`anneal` {spec!r}: TAU_MIN {tau_min:g} is above TAU0 {tau0:g}; the schedule "
            "anneals down, give TAU_MIN <= TAU0"
        )
    if rate < 0:
        raise InputError(f"`anneal` {spec!r}: RATE {rate:g} is negative; use a rate >= 0")
    checkpoints = []
    for j in range(ANNEAL_CHECKPOINTS):
        step = round(j * steps / (ANNEAL_CHECKPOINTS - 1))
        checkpoints.append((step, max(tau_min, tau0 * math.exp(-rate * step))))
    # tau reaches tau_min at t* = ln(tau_0 / tau_min) / r; steps t* .. S are spent there.
    reach = math.log(tau0 / tau_min) / rate if rate > 0 else (0.0 if tau0 == tau_min else math.inf)
    share = min(1.0, max(0.0, (steps - math.ceil(reach) + 1) / (steps + 1)))
    return tuple(checkpoints), share


def _objective(
    objective: str | Callable[..., Any], target: str | Sequence[float] | None, k: int
) -> Objective:
    """The validated objective, checked on the k one-hot vectors."""
    from gumbelcheck.samplers.user import load_attribute

    if objective in OBJECTIVES:
        assert isinstance(objective, str)
        if target is None:
            vector = np.arange(k, dtype=np.float64) / (k - 1)
        else:
            vector = parse_float_list(target, "`target`")
            if vector.size != k or not np.isfinite(vector).all():
                raise InputError(
                    f"`target` has {vector.size} values for {k} categories (or a value that "
                    f"is not finite); give {k} finite numbers"
                )
        return Objective(objective, vector)
    if target is not None:
        raise InputError(
            "`target` is the c of the linear or the t of the quadratic objective; a user's "
            "objective takes none"
        )
    if callable(objective):
        result = Objective(getattr(objective, "__qualname__", repr(objective)), None, objective)
    elif ":" in objective:
        function, origin, _ = load_attribute(objective, "`objective`")
        if not callable(function):
            raise InputError(f"`objective` {objective!r} is not a function")
        result = Objective(objective, None, function, origin)
    else:
        raise InputError(
            f"`objective` {objective!r} is not known; use linear, quadratic, "
            "package.module:function or path/to/file.py:function"
        )
    values = result.value(np.eye(k))
    slopes = result.gradient(np.eye(k))
    if not (np.isfinite(values).all() and np.isfinite(slopes).all()):
        raise InputError(
            f"`objective` {result.name!r} is not finite (or has no finite gradient) at the "
            "one-hot vectors; it must be finite near them"
        )
    return result


def gradients(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    objective: str | Callable[..., Any] = "quadratic",
    target: str | Sequence[float] | None = None,
    tau: str | float | Sequence[float] | None = None,
    anneal: str | None = None,
    draws: int | str = 10,
    control: str = "none",
    samples: int | str = 100_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> GradientsResult:
    """Measure the Gumbel gradient estimators against exact gradients, tau by tau.

    Parameters
    ----------
    pi, logits, normalize
        The distribution, as for :func:`gumbelcheck.maxtrick`; every category must have
        positive probability (a logit of -inf has no gradient), at most :data:`MAX_K`.
    objective : str or callable
        ``linear`` (f = c . z), ``quadratic`` (f = sum (z_i - t_i)^2), or a user's function
        ``f(y) -> n values`` on n x k arrays (``package.module:function``,
        ``path/to/file.py:function`` or a callable), with an optional ``gradient``
        attribute; the relaxed gradient is then not known and Gumbel-Softmax is not tested.
    target : str or sequence of float, optional
        c of ``linear`` or t of ``quadratic``; i / (k - 1) by default.
    tau : str, float or sequence, optional
        Temperatures, as for :func:`gumbelcheck.sweep` (default :data:`DEFAULT_TAU`).
    anneal : str, optional
        ``TAU0:TAU_MIN:RATE:STEPS``: evaluate at the checkpoints of the schedule
        tau_t = max(tau_min, tau_0 exp(-r t)) instead of a grid.
    draws : int
        Conditional Gumbel draws per sample of the Gumbel-Rao estimator.
    control : str
        ``none``; ``score-sign``, ``tau-misplaced``, ``rao-noisy`` or ``rao-unconditional``
        to watch the check fail (see :data:`CONTROLS`).
    samples, seed, alpha, block_size, workers, scheduler, progress
        As for :func:`gumbelcheck.sweep`; the result does not depend on the workers or the
        scheduler.

    Returns
    -------
    GradientsResult
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        objective=objective,
        target=target,
        tau=tau,
        anneal=anneal,
        draws=draws,
        control=control,
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    objective: str | Callable[..., Any] = "quadratic",
    target: str | Sequence[float] | None = None,
    tau: str | float | Sequence[float] | None = None,
    anneal: str | None = None,
    draws: int | str = 10,
    control: str = "none",
    samples: int | str = 100_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[GradientsResult]:
    """Validate the input of :func:`gradients` and return it ready to run."""
    dist = categorical(pi, logits, normalize=normalize)
    k = dist.k
    if k < 2 or not dist.support.all():
        raise InputError(
            "gradients need at least two categories, all with positive probability (a logit "
            "of -inf has no gradient); drop the zero-probability categories"
        )
    if k > MAX_K:
        raise InputError(f"gradients take at most {MAX_K} categories, not {k}; use fewer")
    if control not in CONTROLS:
        raise InputError(f"`control` {control!r} is not known; choose one of {', '.join(CONTROLS)}")
    schedule: tuple[tuple[int, float], ...] = ()
    share = math.nan
    if anneal is not None:
        if tau is not None:
            raise InputError("give `tau` or `anneal`, not both: the schedule sets the temperatures")
        schedule, share = annealing_schedule(anneal)
        taus = np.unique([t for _, t in schedule])
    else:
        taus = parse_tau_grid(DEFAULT_TAU if tau is None else tau)
    if taus.size > MAX_TAU_VALUES:
        raise InputError(f"`tau` has {taus.size} values; use at most {MAX_TAU_VALUES}")
    low, high = TAU_RANGE
    if taus[0] < low or taus[-1] > high:
        raise InputError(
            f"`tau` {taus[0] if taus[0] < low else taus[-1]:g} is outside [{low:g}, {high:g}]; "
            "give temperatures in that range"
        )
    function = _objective(objective, target, k)
    if control == "tau-misplaced" and not function.has_relaxed:
        raise InputError(
            "`control` tau-misplaced fails the Gumbel-Softmax test, which needs the exact "
            "relaxed gradient: use the linear or quadratic objective"
        )
    draw_count = parse_count(draws, "`draws`")
    config = RunConfig.create(
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
        min_samples=MIN_SAMPLES,
    )
    rare = float(np.minimum(dist.p, 1.0 - dist.p).min())
    if config.samples * rare < MIN_RARE_DRAWS:
        raise InputError(
            f"`samples` {config.samples:,} gives N min(p, 1 - p) = {config.samples * rare:.3g} "
            f"expected draws of the rarest outcome (p = {rare:.3g}), fewer than "
            f"{MIN_RARE_DRAWS}: the z tests need the means carried by many samples; raise "
            f"`samples` to at least {math.ceil(MIN_RARE_DRAWS / rare):,} or merge the rare "
            "categories"
        )
    # The conditional draws (and their temporaries), and some 16 other n x k arrays.
    config.check_memory(8 * k * (2 * draw_count + 16), _default_block_size(k, draw_count))
    return Prepared(
        samples=config.samples,
        run=partial(run, dist, function, taus, draw_count, control, config, schedule, share),
    )
