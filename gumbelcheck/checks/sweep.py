"""The Gumbel-Softmax temperature sweep: how the relaxed sample moves from one-hot to uniform.

Gumbel-Softmax replaces the argmax of the Gumbel-max trick by the relaxed sample
y = softmax((ln pi + g) / tau), g_i iid Gumbel(0, 1). For every temperature tau of a grid the
sweep draws N samples and measures, each with its standard error,

* ``one_hot_gap`` = E[1 - max_i y_i], the distance from one-hot (0 as tau -> 0),
* ``uniform_gap`` = E[0.5 sum_i |y_i - 1/k|], the total-variation distance to the uniform
  vector (0 as tau -> inf),
* ``entropy`` = E[H(y)] / ln k, the mean normalized entropy,
* ``mean_bias`` = 0.5 sum_i |E[y_i] - pi_i|, how far the mean relaxed sample is from pi,
* ``one_hot_fraction``: the share of samples that are bit-for-bit one-hot in float64 (and,
  optionally, ``one_hot_fraction_f32`` for a float32 softmax),

and tests two exact laws at every tau:

* argmax(y) ~ Categorical(pi) (softmax is monotone), with the goodness-of-fit rule of the
  maxtrick check (:func:`gumbelcheck.stats.categorical_gof`);
* tau (log y_i - log y_j) - (ln pi_i - ln pi_j) = g_i - g_j ~ Logistic(0, 1) for the two most
  probable categories i, j: a KS test against Logistic(0, 1) on the first
  :data:`KS_SAMPLES` draws, and the largest numerical error against g_i - g_j on every draw.

Design notes
------------
Common random numbers. Every block draws its Gumbel noise once and evaluates the whole tau
grid on it, so each tau sees N samples (the same N for every tau). The curves are then smooth
(neighbouring points share their noise), each per-sample gap is monotone in tau, and a sweep
of T temperatures costs one noise draw instead of T. The 2T tests are dependent; Holm's
procedure controls the family-wise error under any dependence.

Standard errors. Means of per-sample quantities use the sample variance, merged across blocks
with Chan's parallel formula (no cancellation when the variance is tiny next to the mean).
``mean_bias`` is not a mean of per-sample values: its standard error is the delete-a-group
jackknife over :data:`JACKKNIFE_GROUPS` groups (each block is cut into that many consecutive
chunks, and chunk g of every block joins group g), which needs no sign choice for the
absolute values that a delta method would, and keeps memory flat in N.

Monotonicity. With the grid sorted, one_hot_gap must not fall by more than
:data:`MONOTONE_SE` combined standard errors sqrt(se_a^2 + se_b^2) from one tau to the next
larger one, and uniform_gap must not rise by more than that. (Under common random numbers the
neighbouring estimates are positively correlated, so this tolerance is conservative.)

Numerical error of the logistic law. Rounding in x = ln pi + g, in x - max x, in the division
by tau, in the log-sum-exp and in the final differences is bounded by a few units of
eps = 2**-52 times ``scale`` = |x_i| + |x_j| + max|x| + |ln pi_i - ln pi_j| + |g_i - g_j| +
tau (|log y_i| + |log y_j|). The check reports the largest absolute error and the largest
error relative to that scale (``logistic_rel_error``), and fails above
:data:`LAW_RTOL` = 64 eps. A relaxation computed through exp and ratios instead of in log
space produces zeros, infinities and NaN at small tau and fails there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical, categorical, parse_tau_grid
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import (
    UserSampler,
    argmax_counts,
    load_user_sampler,
    minus_gumbel,
    open_uniform_rows,
    user_sampler,
)
from gumbelcheck.samplers.user import SEED_BOUND
from gumbelcheck.stats import (
    CategoricalGof,
    categorical_gof,
    holm_reject,
    jackknife_mean_bias,
    ks_logistic,
    minimum_detectable_w,
)

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = (
    "y = softmax((ln pi + g) / tau), g_i iid Gumbel(0, 1): at every tau, argmax(y) ~ "
    "Categorical(pi) and tau (log y_i - log y_j) - (ln pi_i - ln pi_j) = g_i - g_j ~ "
    "Logistic(0, 1)"
)

USER_NULL_HYPOTHESIS = (
    "a user's relaxed sampler draws y = softmax((ln pi + g) / tau), g_i iid Gumbel(0, 1): at "
    "every tau, argmax(y) ~ Categorical(pi) and tau (log y_i - log y_j) - (ln pi_i - ln pi_j) "
    "~ Logistic(0, 1)"
)

#: ``relaxation(x, tau, out) -> (y, log_y)`` maps the n x k perturbed logits x = ln pi + g
#: (one row per sample) to the relaxed samples y = softmax(x / tau) over axis 1 and their
#: logarithms, both n x k. It must not modify ``x``. ``out`` is a pair of n x k work arrays
#: in x's memory layout that it may fill and return (saving two allocations per tau), or
#: ignore.
Relaxation = Callable[
    [NDArray[np.float64], float, tuple[NDArray[np.float64], NDArray[np.float64]]],
    tuple[NDArray[np.float64], NDArray[np.float64]],
]

#: Numbers per block of the sweep (2**16): its per-tau passes over a block's n x k work
#: arrays stay in cache; with 2**19 (the maxtrick blocks) two workers ran no faster than one.
BLOCK_NUMBERS = 2**16

#: Fewest samples per default block, so that per-block overhead stays small for large k.
MIN_BLOCK_SIZE = 512

#: Draws per tau in the KS test of the logistic law (the first ones, in block order).
KS_SAMPLES = 2**15

#: Largest grid: each tau keeps a KS sample of KS_SAMPLES float64 (256 KiB).
MAX_TAU_VALUES = 200

#: Groups of the delete-a-group jackknife behind ``mean_bias_se``.
JACKKNIFE_GROUPS = 32

#: Tolerance of the monotonicity rule, in combined standard errors.
MONOTONE_SE = 3.0

#: Largest accepted numerical error of the logistic law, relative to its rounding scale.
LAW_RTOL = 64 * np.finfo(np.float64).eps

_LOWEST = np.finfo(np.float64).min

#: The per-sample quantities whose means and standard errors the sweep reports.
_MEANS = ("one_hot_gap", "uniform_gap", "entropy")


def gumbel_softmax(
    x: NDArray[np.float64],
    tau: float,
    out: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """softmax(x / tau) along axis 1 and its logarithm, computed in log space.

    The row maximum is subtracted before dividing by tau, so the exponentials lie in [0, 1]
    and never overflow, and log y = (x - max x) / tau - log sum exp((x - max x) / tau) stays
    finite where y itself underflows to 0. ``-inf`` in ``x`` (probability 0) gives y = 0 and
    log y = ``-inf``. ``x`` is left unchanged.

    Parameters
    ----------
    x : ndarray
        n x k perturbed logits, one row per sample.
    tau : float
        The temperature, positive.
    out : pair of ndarray, optional
        Arrays of x's shape to write y and log y into; new ones (in x's memory layout, so
        that row-wise reductions stay fast) when None.

    Returns
    -------
    y, log_y : ndarray
        The relaxed samples and their logarithms.
    """
    y, log_y = out if out is not None else (np.empty_like(x), np.empty_like(x))
    np.subtract(x, x.max(axis=1, keepdims=True), out=log_y)
    log_y /= tau
    np.exp(log_y, out=y)
    total = y.sum(axis=1, keepdims=True)
    y /= total
    log_y -= np.log(total)
    return y, log_y


@dataclass(frozen=True, kw_only=True, eq=False)
class SweepPoint:
    """The measurements at one temperature.

    Attributes
    ----------
    tau : float
        The temperature.
    one_hot_gap, uniform_gap, entropy, mean_bias : float
        See the module docstring; each with a standard error ``*_se``.
    one_hot_fraction : float
        Share of samples whose float64 y is exactly one-hot (one entry 1.0, the others 0.0).
    one_hot_fraction_f32 : float
        The same for a float32 softmax (max-subtracted, as deep-learning frameworks compute
        it) of the same perturbed logits; NaN when not computed.
    mean : tuple of float
        E[y], per category.
    nonfinite : int
        Samples whose y holds a NaN or an infinity.
    argmax_counts : tuple of int
        Draws per category of argmax(y).
    argmax : CategoricalGof
        argmax(y) against Categorical(pi); its p-value enters the Holm procedure.
    argmax_rejected : bool
        Holm rejects the argmax test at this tau (or a zero-probability category was hit).
    logistic_ks_statistic, logistic_ks_pvalue, logistic_ks_log10_pvalue : float
        KS test of the first draws of tau (log y_i - log y_j) - (ln pi_i - ln pi_j) against
        Logistic(0, 1). Where the p-value underflows, log10 p is the Dvoretzky-Kiefer-Wolfowitz
        bound log10(2 exp(-2 n D^2)).
    logistic_max_error : float
        max over all draws of |tau (log y_i - log y_j) - (ln pi_i - ln pi_j) - (g_i - g_j)|.
    logistic_rel_error : float
        The same error relative to its rounding scale (see the module docstring).
    logistic_rejected : bool
        Holm rejects the KS test, or the numerical error exceeds :data:`LAW_RTOL`.
    off_simplex : int
        A user's relaxed samples with a negative entry or a sum off 1 by more than
        :data:`SIMPLEX_TOL` (always 0 for the built-in relaxation, which is not checked).
    """

    tau: float
    one_hot_gap: float
    one_hot_gap_se: float
    uniform_gap: float
    uniform_gap_se: float
    entropy: float
    entropy_se: float
    mean_bias: float
    mean_bias_se: float
    one_hot_fraction: float
    one_hot_fraction_se: float
    one_hot_fraction_f32: float
    one_hot_fraction_f32_se: float
    mean: tuple[float, ...]
    nonfinite: int
    argmax_counts: tuple[int, ...]
    argmax: CategoricalGof
    argmax_rejected: bool
    logistic_ks_statistic: float
    logistic_ks_pvalue: float
    logistic_ks_log10_pvalue: float
    logistic_max_error: float
    logistic_rel_error: float
    logistic_rejected: bool
    off_simplex: int = 0


@dataclass(frozen=True, kw_only=True, eq=False)
class SweepResult(ResultReport):
    """Result of :func:`sweep`.

    Attributes
    ----------
    null_hypothesis : str
        What was tested.
    pi : tuple of float
        The category probabilities (normalized).
    samples : int
        Draws N per temperature.
    pair : tuple of int
        The categories (i, j) of the logistic law: the two most probable ones.
    relaxation : str
        Name of the relaxation function.
    alpha : float
        Family-wise significance level over the 2 x len(tau) tests (Holm).
    float32 : bool
        Whether the float32 one-hot fraction was computed.
    points : tuple of SweepPoint
        One per temperature, in increasing tau.
    failures : tuple of str
        What failed, one entry per failed criterion; empty when the check passed.
    provenance : Provenance
        Seed, block size, versions: what is needed to reproduce the result.
    user_sampler : bool
        True when a user's relaxed sampler drew the samples: the logistic law is then tested
        by its KS test alone (its numerical error needs the noise g), only at the
        temperatures where no y_i or y_j underflowed to 0, and rows are checked to lie on
        the simplex.
    """

    check: ClassVar[str] = "sweep"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    samples: int
    pair: tuple[int, int]
    relaxation: str
    alpha: float
    float32: bool
    points: tuple[SweepPoint, ...]
    failures: tuple[str, ...]
    provenance: provenance.Provenance = field(repr=False)
    user_sampler: bool = False

    @property
    def passed(self) -> bool:
        """True when the check passed."""
        return not self.failures

    @property
    def tau(self) -> tuple[float, ...]:
        """The temperatures, increasing."""
        return tuple(p.tau for p in self.points)

    def to_frame(self) -> pd.DataFrame:
        """The per-temperature table, one row per tau (tidy)."""
        import pandas as pd

        rows = []
        for p in self.points:
            row: dict[str, Any] = {
                "tau": p.tau,
                "one_hot_gap": p.one_hot_gap,
                "one_hot_gap_se": p.one_hot_gap_se,
                "uniform_gap": p.uniform_gap,
                "uniform_gap_se": p.uniform_gap_se,
                "entropy": p.entropy,
                "entropy_se": p.entropy_se,
                "mean_bias": p.mean_bias,
                "mean_bias_se": p.mean_bias_se,
                "one_hot_fraction": p.one_hot_fraction,
                "one_hot_fraction_se": p.one_hot_fraction_se,
            }
            if self.float32:
                row["one_hot_fraction_f32"] = p.one_hot_fraction_f32
                row["one_hot_fraction_f32_se"] = p.one_hot_fraction_f32_se
            row |= {
                "argmax_test": p.argmax.test,
                "argmax_statistic": p.argmax.statistic,
                "argmax_df": p.argmax.df,
                "argmax_pvalue": p.argmax.pvalue,
                "argmax_log10_pvalue": p.argmax.log10_pvalue,
                "argmax_tv": p.argmax.tv_distance,
                "argmax_rejected": p.argmax_rejected,
                "logistic_ks_statistic": p.logistic_ks_statistic,
                "logistic_ks_pvalue": p.logistic_ks_pvalue,
                "logistic_ks_log10_pvalue": p.logistic_ks_log10_pvalue,
                "logistic_max_error": p.logistic_max_error,
                "logistic_rel_error": p.logistic_rel_error,
                "logistic_rejected": p.logistic_rejected,
                "nonfinite": p.nonfinite,
            }
            if self.user_sampler:
                row["off_simplex"] = p.off_simplex
            rows.append(row)
        return pd.DataFrame(rows)

    def _tests(self) -> list[tuple[str, float, float, int | None, float]]:
        """(name, log10 p, statistic, df, p) of the 2T tests."""
        tests: list[tuple[str, float, float, int | None, float]] = []
        for p in self.points:
            g = p.argmax
            tests.append(
                (f"argmax {g.test} @ tau={p.tau:.3g}", g.log10_pvalue, g.statistic, g.df, g.pvalue)
            )
            if self.user_sampler and math.isnan(p.logistic_ks_log10_pvalue):
                continue  # not testable: y_i or y_j underflowed to 0 (see user_sampler)
            tests.append(
                (
                    f"logistic KS @ tau={p.tau:.3g}",
                    p.logistic_ks_log10_pvalue,
                    p.logistic_ks_statistic,
                    None,
                    p.logistic_ks_pvalue,
                )
            )
        return tests

    @property
    def hard_failure(self) -> bool:
        """A failure no p-value correction can undo: a draw on a zero-probability category,
        NaN or infinite y, the logistic law's numerical error above :data:`LAW_RTOL`, or a
        gap moving the wrong way with tau."""
        return (
            any(p.argmax.zero_probability_draws > 0 for p in self.points)
            or any(p.nonfinite or p.off_simplex for p in self.points)
            or any(
                not p.logistic_rel_error <= LAW_RTOL
                for p in self.points
                if not self.user_sampler
            )
            or bool(_monotone_failures(list(self.points)))
        )

    def summary(self) -> Summary:
        """The run-level figures: verdict, the smallest Holm-adjusted p-value, the curve ends."""
        tests = self._tests()
        m = len(tests)
        name, log10_p, statistic, df, _ = min(
            tests, key=lambda t: -math.inf if math.isnan(t[1]) else t[1]
        )
        # Holm's adjusted p-value of the smallest p-value is m p (capped at 1).
        log10_adjusted = min(0.0, log10_p + math.log10(m)) if not math.isnan(log10_p) else math.nan
        first, last = self.points[0], self.points[-1]
        # Every argmax test runs on N draws at (at least) the Bonferroni level alpha / m.
        mde_tv = minimum_detectable_w(self.samples, first.argmax.df or 0, self.alpha / m) / 2.0
        max_tv = max(p.argmax.tv_distance for p in self.points)
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=self.hard_failure,
            null_hypothesis=self.null_hypothesis,
            rule=f"holm({m} tests)",
            test=name,
            statistic=statistic,
            df=df,
            pvalue=10.0**log10_adjusted,
            log10_pvalue=log10_adjusted,
            alpha=self.alpha,
            effect=f"TV {max_tv:.2g}",
            mde="" if math.isnan(mde_tv) else f"argmax TV >= {mde_tv:.2g} at every tau",
            samples=self.samples,
            reason="; ".join(self.failures),
            figures={
                "max_argmax_tv": max_tv,
                "mde_argmax_tv": mde_tv,
                "max_logistic_rel_error": max(p.logistic_rel_error for p in self.points),
                "tau_min": first.tau,
                "one_hot_gap_at_tau_min": first.one_hot_gap,
                "tau_max": last.tau,
                "uniform_gap_at_tau_max": last.uniform_gap,
                "pi": self.pi,
                "pair": self.pair,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(
            relaxation=self.relaxation,
            tau=self.tau,
            points=self.to_frame().to_dict(orient="records"),
            mean=[p.mean for p in self.points],
            argmax_counts=[p.argmax_counts for p in self.points],
        )


@dataclass(frozen=True, eq=False)
class _Part:
    """Partial sums of one or more consecutive blocks; arrays are indexed by tau first."""

    n: int
    mean: NDArray[np.float64]  # (T, 3) means of the per-sample quantities
    m2: NDArray[np.float64]  # (T, 3) sums of squared deviations from those means
    group_n: NDArray[np.int64]  # (G,) samples per jackknife group
    group_sum: NDArray[np.float64]  # (T, G, k) sums of y per group
    counts: NDArray[np.int64]  # (T, k) argmax counts
    one_hot: NDArray[np.int64]  # (T, 2) exactly one-hot samples: float64, float32
    nonfinite: NDArray[np.int64]  # (T,)
    max_error: NDArray[np.float64]  # (T,)
    max_rel_error: NDArray[np.float64]  # (T,)
    ks: NDArray[np.float64]  # (T, <= KS_SAMPLES) the law's values of the first draws
    off_simplex: NDArray[np.int64]  # (T,) a user's relaxed rows with y < 0 or sum(y) != 1


def _fold(a: _Part, b: _Part) -> _Part:
    """Merge the partial sums of consecutive blocks (Chan's formula for the moments)."""
    n = a.n + b.n
    delta = b.mean - a.mean
    return _Part(
        n=n,
        mean=a.mean + delta * (b.n / n),
        m2=a.m2 + b.m2 + delta**2 * (a.n * b.n / n),
        group_n=a.group_n + b.group_n,
        group_sum=a.group_sum + b.group_sum,
        counts=a.counts + b.counts,
        one_hot=a.one_hot + b.one_hot,
        nonfinite=a.nonfinite + b.nonfinite,
        # np.maximum propagates NaN: an undefined error is never hidden by a later block.
        max_error=np.maximum(a.max_error, b.max_error),
        max_rel_error=np.maximum(a.max_rel_error, b.max_rel_error),
        # Kernels send only the run's first KS_SAMPLES values, so b's are all kept.
        ks=np.hstack([a.ks, b.ks]) if b.ks.shape[1] else a.ks,
        off_simplex=a.off_simplex + b.off_simplex,
    )


def _count_one_hot(y: NDArray[Any], y_max: NDArray[Any]) -> int:
    """Rows of ``y`` that are exactly one-hot: one entry exactly 1, all others exactly 0."""
    rows = np.flatnonzero(y_max == 1)
    return int(np.count_nonzero(np.count_nonzero(y[rows], axis=1) == 1)) if rows.size else 0


def _group_sizes(n: int) -> NDArray[np.int64]:
    """Samples of an n-sample block in each jackknife group (see :func:`_add_group_sums`)."""
    groups = JACKKNIFE_GROUPS
    if n < groups:
        return (np.arange(groups) < n).astype(np.int64)
    sizes = np.full(groups, n // groups, dtype=np.int64)
    sizes[-1] += n % groups
    return sizes


def _add_group_sums(out: NDArray[np.float64], rows: NDArray[np.float64]) -> None:
    """Add a block's per-group sums of y to ``out`` (groups x k); ``rows`` is k x n.

    The block is cut into :data:`JACKKNIFE_GROUPS` consecutive chunks of n // groups samples,
    the last one taking the remainder (one sample per group when n < groups).
    """
    k, n = rows.shape
    groups = JACKKNIFE_GROUPS
    if n < groups:
        out[:n] += rows.T
        return
    size = n // groups
    # einsum's loop beats a reduction over many short runs (4x at k = 1000, 16-sample groups).
    out += np.einsum("kgs->gk", rows[:, : size * groups].reshape(k, groups, size))
    out[-1] += rows[:, size * groups :].sum(axis=1)


@dataclass(frozen=True, eq=False)
class SweepKernel:
    """The block kernel: one noise draw, every tau evaluated on it.

    A picklable object (the distribution, the grid, the pair and the relaxation function),
    so that worker processes receive it by value. With ``sampler`` (a user's relaxed form
    ``function(logits, n, seed, tau)``) the user's function draws the relaxed samples instead,
    called once per tau with the block's one seed; the logistic law's numerical error, which
    needs the noise g, is then not measured.
    """

    dist: Categorical
    taus: NDArray[np.float64]
    pair: tuple[int, int]
    relaxation: Relaxation
    float32: bool
    sampler: UserSampler | None = None
    block_size: int = 1

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> _Part:
        # np.errstate is per thread, so it is set here, in the thread that runs the block.
        # Overflow and NaN of a wrong relaxation are measured and reported, not raised.
        with np.errstate(all="ignore"):
            if self.sampler is not None:
                return self._user_block(rng, n, start)
            return self._block(rng, n, start)

    def _block(self, rng: np.random.Generator, n: int, start: int) -> _Part:
        dist, taus, relaxation, float32 = self.dist, self.taus, self.relaxation, self.float32
        k = dist.k
        i, j = self.pair
        dlogp = float(dist.logp[i] - dist.logp[j])
        # Category-major noise: row c holds category c's n draws, so every reduction over the
        # k categories below is a few passes over contiguous rows. The n x k views (one row
        # per sample) are what the relaxation sees.
        u = open_uniform_rows(rng, k, n, out=engine.scratch("sweep.noise", (k, n)))
        minus_g = minus_gumbel(u)  # g by the reference formula, negated
        exact = minus_g[j] - minus_g[i]  # g_i - g_j
        x_rows = np.subtract(dist.logp[:, None], minus_g, out=minus_g)  # ln pi + g
        x = x_rows.T
        base_scale = np.abs(x_rows.max(axis=0))
        base_scale += np.abs(x_rows[i])
        base_scale += np.abs(x_rows[j])
        base_scale += abs(dlogp)
        base_scale += np.abs(exact)
        x32 = x.astype(np.float32) if float32 else None
        y_out, log_y_out = (engine.scratch(f"sweep.{name}", (k, n)).T for name in ("y", "log_y"))
        part = _Sums(taus.size, k, n, start)
        for t, tau in enumerate(taus):
            y, log_y = relaxation(x, float(tau), (y_out, log_y_out))
            law = part.add(t, float(tau), y, log_y, self.pair, dlogp)
            error = np.abs(law - exact)
            scale = np.abs(log_y[:, i]) + np.abs(log_y[:, j])
            scale *= tau
            scale += base_scale
            part.max_error[t] = error.max()
            with np.errstate(invalid="ignore"):  # inf / inf: an infinite error stays NaN
                part.max_rel_error[t] = (error / scale).max()
            if x32 is not None:
                part.one_hot[t, 1] = _count_one_hot_f32(x32, tau)
        return part.result()

    def _user_block(self, rng: np.random.Generator, n: int, start: int) -> _Part:
        assert self.sampler is not None
        dist, k = self.dist, self.dist.k
        i, j = self.pair
        seed = int(rng.integers(SEED_BOUND))  # one seed for every tau of the block
        part = _Sums(self.taus.size, k, n, start)
        part.max_error[:] = part.max_rel_error[:] = math.nan  # not measured without g
        for t, tau in enumerate(self.taus):
            rows = self.sampler.relax(dist, n, seed, float(tau), start // self.block_size)
            # Category-major, as the built-in path lays its arrays out.
            y = engine.scratch("sweep.y", (k, n)).T
            y[...] = rows
            log_y = np.log(y, out=engine.scratch("sweep.log_y", (k, n)).T)
            part.add(t, float(tau), y, log_y, (i, j), float(dist.logp[i] - dist.logp[j]))
            total = y.sum(axis=1)
            off = (y < 0).any(axis=1) | ~(np.abs(total - 1.0) <= SIMPLEX_TOL)
            part.off_simplex[t] = int(np.count_nonzero(off & np.isfinite(total)))
        return part.result()


#: Largest |sum(y) - 1| of a user's relaxed sample still on the simplex (float32 softmax
#: rows of k = 10**5 categories sum to 1 within about 1e-4 of rounding).
SIMPLEX_TOL = 1e-3


class _Sums:
    """The per-tau statistics of one block, filled tau by tau (see :meth:`add`)."""

    def __init__(self, t_count: int, k: int, n: int, start: int) -> None:
        self.n, self.k = n, k
        self.work = engine.scratch("sweep.work", (k, n)).T
        self.mean = np.empty((t_count, len(_MEANS)))
        self.m2 = np.empty((t_count, len(_MEANS)))
        self.group_sum = np.zeros((t_count, JACKKNIFE_GROUPS, k))
        self.counts = np.empty((t_count, k), dtype=np.int64)
        self.one_hot = np.zeros((t_count, 2), dtype=np.int64)
        self.nonfinite = np.empty(t_count, dtype=np.int64)
        self.off_simplex = np.zeros(t_count, dtype=np.int64)
        self.max_error, self.max_rel_error = np.empty(t_count), np.empty(t_count)
        # The KS test takes the run's first KS_SAMPLES draws (none from the later blocks).
        self.ks = np.empty((t_count, min(n, max(0, KS_SAMPLES - start))))

    def add(
        self,
        t: int,
        tau: float,
        y: NDArray[np.float64],
        log_y: NDArray[np.float64],
        pair: tuple[int, int],
        dlogp: float,
    ) -> NDArray[np.float64]:
        """Measure tau's relaxed samples (n x k views of category-major arrays); return the
        logistic law's values tau (log y_i - log y_j) - (ln pi_i - ln pi_j), one per draw."""
        work, k = self.work, self.k
        y_max = y.max(axis=1)
        np.subtract(y, 1.0 / k, out=work)
        np.abs(work, out=work)
        uniform_gap = work.sum(axis=1)
        uniform_gap *= 0.5
        # 0 log 0 = 0: log y = -inf (probability 0) is raised to the lowest float, whose
        # product with y = 0 is 0; NaN still propagates through np.maximum.
        np.maximum(log_y, _LOWEST, out=work)
        # sum over categories of y log y, on the k x n transposes (a reduction over rows)
        entropy = np.einsum("ij,ij->j", y.T, work.T)
        entropy *= -1.0 / math.log(k)
        for s, values in enumerate((1.0 - y_max, uniform_gap, entropy)):
            self.mean[t, s] = values.mean()
            deviation = values - self.mean[t, s]
            # A pairwise sum, not np.dot: BLAS may thread it (and so reorder the sum).
            self.m2[t, s] = np.square(deviation, out=deviation).sum()
        _add_group_sums(self.group_sum[t], y.T)
        self.counts[t] = argmax_counts(y.T, y_max)
        self.one_hot[t, 0] = _count_one_hot(y, y_max)
        self.nonfinite[t] = np.count_nonzero(~np.isfinite(uniform_gap))
        i, j = pair
        law = log_y[:, i] - log_y[:, j]
        law *= tau
        law -= dlogp
        self.ks[t] = law[: self.ks.shape[1]]
        return law

    def result(self) -> _Part:
        """The block's partial sums."""
        return _Part(
            n=self.n,
            mean=self.mean,
            m2=self.m2,
            group_n=_group_sizes(self.n),
            group_sum=self.group_sum,
            counts=self.counts,
            one_hot=self.one_hot,
            nonfinite=self.nonfinite,
            max_error=self.max_error,
            max_rel_error=self.max_rel_error,
            ks=self.ks,
            off_simplex=self.off_simplex,
        )


def _count_one_hot_f32(x32: NDArray[np.float32], tau: float) -> int:
    """Exactly one-hot rows of a float32 softmax(x / tau), max-subtracted as frameworks do."""
    e = x32 - x32.max(axis=1, keepdims=True)
    e /= np.float32(tau)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return _count_one_hot(e, e.max(axis=1))


def _monotone_failures(points: list[SweepPoint]) -> list[str]:
    """One entry per gap that moves the wrong way by more than MONOTONE_SE combined SEs.

    Non-finite gaps are skipped here: they come from NaN or infinite y, a failure of its own.
    """
    failures = []
    for name, sign, direction in (("one_hot_gap", 1.0, "falls"), ("uniform_gap", -1.0, "rises")):
        steps = []
        for low, high in itertools.pairwise(points):
            a, b = getattr(low, name), getattr(high, name)
            combined = math.hypot(getattr(low, f"{name}_se"), getattr(high, f"{name}_se"))
            # one_hot_gap must not fall as tau grows; uniform_gap must not rise.
            if math.isfinite(a + b + combined) and sign * (a - b) > MONOTONE_SE * combined:
                steps.append(f"tau {low.tau:.3g} -> {high.tau:.3g}: {a:.4g} -> {b:.4g}")
        if steps:
            shown = "; ".join(steps[:3]) + ("; ..." if len(steps) > 3 else "")
            failures.append(
                f"{name} {direction} as tau grows by more than {MONOTONE_SE:g} standard errors "
                f"({shown})"
            )
    return failures


def sweep(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    tau: str | float | Sequence[float] = "1e-3:1e3:25",
    samples: int | str = 100_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    float32: bool = False,
    relaxation: Relaxation = gumbel_softmax,
    sampler: str | UserSampler | Callable[..., Any] | None = None,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Sweep the Gumbel-Softmax temperature: distance from one-hot and from uniform, exact laws.

    For every tau of the grid, N relaxed samples y = softmax((ln pi + g) / tau) are drawn on
    the seeded block engine (the same noise for every tau) and measured as described in the
    module docstring.

    The check passes when (1) Holm's procedure at family-wise level ``alpha`` rejects none of
    the 2 x len(tau) tests (argmax(y) ~ Categorical(pi) and the KS test of the logistic law,
    at every tau), (2) no draw lands on a zero-probability category, no y is NaN or infinite,
    and the logistic law holds to :data:`LAW_RTOL` on every draw, and (3) one_hot_gap never
    falls and uniform_gap never rises with tau by more than :data:`MONOTONE_SE` combined
    standard errors. How close the grid's ends come to one-hot and to uniform is reported,
    not judged.

    Parameters
    ----------
    pi : str or array_like, optional
        Probabilities, e.g. ``[0.1, 0.2, 0.7]`` or ``"0.1,0.2,0.7"``; zeros allowed, but at
        least two must be positive.
    logits : str or array_like, optional
        Unnormalized log-probabilities instead of ``pi``; ``-inf`` means probability 0.
    normalize : bool
        Accept weights that do not sum to 1.
    tau : str, float or sequence of float
        The temperatures: a list ``"0.1,0.5,1,2"`` or a log range ``"1e-3:1e3:25"`` (25
        log-spaced values); see :func:`gumbelcheck.core.params.parse_tau_grid`.
    samples : int or str
        Draws N per temperature (``"1M"`` and ``"1e6"`` are accepted), at least 2.
    seed : int, optional
        Root seed; fresh entropy (recorded in the provenance) when None.
    alpha : float
        Family-wise significance level over all the tests.
    float32 : bool
        Also report the share of exactly one-hot samples for a float32 softmax.
    relaxation : callable
        ``relaxation(x, tau, out) -> (y, log y)`` on n x k arrays (see :data:`Relaxation`);
        the default is :func:`gumbel_softmax`. Pass a wrong one to watch the check fail.
    sampler : str or callable, optional
        A user's Gumbel-Softmax to check instead: ``package.module:function``,
        ``path/to/file.py:function`` or a callable ``function(logits, n, seed, tau)``
        returning the n x k relaxed samples. It is called once per block and tau, with one
        seed per block (a function that draws its noise from the seed the same way at every
        tau gives common random numbers, as the built-in path has). Without the noise g the
        logistic law is tested by its KS test alone, at the temperatures where no y_i or y_j
        underflowed to 0; rows must lie on the simplex (y >= 0, sum within
        :data:`SIMPLEX_TOL` of 1).
    block_size : int, optional
        Samples per block; by default about :data:`BLOCK_NUMBERS` numbers per block. Part of
        the reproducibility contract.
    workers : int, optional
        Worker processes; all cores by default. The result does not depend on it.
    scheduler : str, optional
        Run the blocks on a Dask cluster: its scheduler's address (``tcp://host:8786``) or
        ``local:N`` (N local worker processes); by default the ``GUMBELCHECK_SCHEDULER``
        environment variable, or this machine. The result does not depend on it.
    progress : callable, optional
        Called with the number of samples finished after each block.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> from gumbelcheck import sweep
    >>> result = sweep([0.1, 0.2, 0.7], tau="0.1,1,10", samples=100_000, seed=1)
    >>> result.verdict
    'PASS'
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        tau=tau,
        samples=samples,
        seed=seed,
        alpha=alpha,
        float32=float32,
        relaxation=relaxation,
        sampler=sampler,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    tau: str | float | Sequence[float] = "1e-3:1e3:25",
    samples: int | str = 100_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    float32: bool = False,
    relaxation: Relaxation = gumbel_softmax,
    sampler: str | UserSampler | Callable[..., Any] | None = None,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[SweepResult]:
    """Validate the input of :func:`sweep` (parameters as there) and return it ready to run;
    raises InputError, before any sampling, on anything invalid."""
    dist = categorical(pi, logits, normalize=normalize)
    if int(dist.support.sum()) < 2:
        raise InputError(
            "the sweep needs at least two categories with positive probability; "
            "with one, y is the same one-hot vector at every tau"
        )
    taus = parse_tau_grid(tau)
    if taus.size > MAX_TAU_VALUES:
        raise InputError(
            f"`tau` has {taus.size} values; use at most {MAX_TAU_VALUES} (e.g. 1e-3:1e3:25)"
        )
    config = RunConfig.create(
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
        min_samples=2,
    )
    user = _relaxed_sampler(sampler, relaxation)
    # The noise, work, y and log y arrays (and a float32 copy), k numbers each per sample.
    config.check_memory((36 if float32 else 32) * dist.k, _default_block_size(dist.k))
    return Prepared(
        samples=config.samples,
        run=partial(run, dist, taus, bool(float32), relaxation, config, user=user),
    )


def _default_block_size(k: int) -> int:
    """Samples per block by default: about BLOCK_NUMBERS numbers, at least MIN_BLOCK_SIZE."""
    return max(MIN_BLOCK_SIZE, engine.default_block_size(k, BLOCK_NUMBERS))


def _relaxed_sampler(
    sampler: str | UserSampler | Callable[..., Any] | None, relaxation: Relaxation
) -> UserSampler | None:
    """The user's relaxed sampler, or None for the built-in noise and relaxation."""
    if sampler is None:
        return None
    if relaxation is not gumbel_softmax:
        raise InputError("give `sampler` or `relaxation`, not both: a sampler draws y itself")
    if isinstance(sampler, UserSampler):
        return sampler
    if isinstance(sampler, str):
        if ":" not in sampler:
            raise InputError(
                f"`sampler` {sampler!r} is not a SPEC; the sweep checks a user's relaxed "
                "sampler, package.module:function or path/to/file.py:function"
            )
        return load_user_sampler(sampler)
    return user_sampler(sampler)


def run(
    dist: Categorical,
    taus: NDArray[np.float64],
    float32: bool,
    relaxation: Relaxation,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
    *,
    user: UserSampler | None = None,
) -> SweepResult:
    """Run the sweep on validated input (see :func:`prepare`)."""
    samples, seed, alpha = config.samples, config.seed, config.alpha
    plan = config.plan(_default_block_size(dist.k))
    size = plan.block_size
    # The two most probable categories (lowest indices on ties).
    i, j = (int(c) for c in np.argsort(-dist.p, kind="stable")[:2])
    kernel = SweepKernel(dist, taus, (i, j), relaxation, float32, user, size)
    part = engine.run_blocks(
        plan,
        seed,
        kernel,
        _fold,
        workers=config.workers,
        backend=config.backend,
        progress=progress,
    )
    points = _points(
        part, dist, taus, alpha=alpha, seed=seed, float32=float32, user=user is not None
    )
    failures = [
        f"{what} fails at tau = {', '.join(f'{p.tau:.3g}' for p in bad)}"
        for what, bad in (
            ("argmax(y) ~ Categorical(pi)", [p for p in points if p.argmax_rejected]),
            ("the logistic law", [p for p in points if p.logistic_rejected]),
        )
        if bad
    ]
    nan_taus = [p for p in points if p.nonfinite]
    if nan_taus:
        failures.append("NaN or infinite y at tau = " + ", ".join(f"{p.tau:.3g}" for p in nan_taus))
    off = [p for p in points if p.off_simplex]
    if off:
        failures.append(
            "y off the simplex (a negative entry or a sum off 1) at tau = "
            + ", ".join(f"{p.tau:.3g} ({p.off_simplex} rows)" for p in off)
        )
    failures += _monotone_failures(points)
    name = user.name if user else getattr(relaxation, "__name__", type(relaxation).__name__)
    return SweepResult(
        null_hypothesis=NULL_HYPOTHESIS if user is None else USER_NULL_HYPOTHESIS,
        user_sampler=user is not None,
        pi=tuple(float(x) for x in dist.p),
        samples=samples,
        pair=(i, j),
        relaxation=name,
        alpha=alpha,
        float32=float32,
        points=tuple(points),
        failures=tuple(failures),
        provenance=provenance.collect(
            execution=config.execution(),
            seed=seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=size,
            noise="reference" if user is None else user.name,
            sampler_origin="built-in" if user is None else user.origin,
        ),
    )


def _points(
    part: _Part,
    dist: Categorical,
    taus: NDArray[np.float64],
    *,
    alpha: float,
    seed: int,
    float32: bool,
    user: bool = False,
) -> list[SweepPoint]:
    """Turn the folded sums into one SweepPoint per tau, with Holm's decisions.

    For a user's relaxed sampler (``user``) a KS test whose values are not all finite (y_i
    or y_j underflowed to 0) is untested: outside the Holm family, and not a rejection.
    """
    n = part.n
    se = np.sqrt(part.m2 / (n - 1) / n)
    fraction = part.one_hot / n
    fraction_se = np.sqrt(fraction * (1.0 - fraction) / n)
    gofs = [categorical_gof(c, dist.p, alpha=alpha, seed=seed) for c in part.counts]
    ks = [ks_logistic(values) for values in part.ks]
    log10_ps = np.array([v for g, k in zip(gofs, ks, strict=True) for v in (g.log10_pvalue, k[2])])
    tested = ~np.isnan(log10_ps) if user else np.ones(log10_ps.size, dtype=bool)
    rejected = np.zeros(log10_ps.size, dtype=bool)
    rejected[tested] = holm_reject(log10_ps[tested], alpha)
    rejected = rejected.reshape(-1, 2)
    points = []
    for t, tau in enumerate(taus):
        bias, bias_se = jackknife_mean_bias(part.group_n, part.group_sum[t], dist.p)
        rel_error = float(part.max_rel_error[t])
        points.append(
            SweepPoint(
                tau=float(tau),
                one_hot_gap=float(part.mean[t, 0]),
                one_hot_gap_se=float(se[t, 0]),
                uniform_gap=float(part.mean[t, 1]),
                uniform_gap_se=float(se[t, 1]),
                entropy=float(part.mean[t, 2]),
                entropy_se=float(se[t, 2]),
                mean_bias=bias,
                mean_bias_se=bias_se,
                one_hot_fraction=float(fraction[t, 0]),
                one_hot_fraction_se=float(fraction_se[t, 0]),
                one_hot_fraction_f32=float(fraction[t, 1]) if float32 else math.nan,
                one_hot_fraction_f32_se=float(fraction_se[t, 1]) if float32 else math.nan,
                mean=tuple(float(v) for v in part.group_sum[t].sum(axis=0) / n),
                nonfinite=int(part.nonfinite[t]),
                argmax_counts=tuple(int(c) for c in part.counts[t]),
                argmax=gofs[t],
                argmax_rejected=bool(rejected[t, 0]) or gofs[t].zero_probability_draws > 0,
                logistic_ks_statistic=ks[t][0],
                logistic_ks_pvalue=ks[t][1],
                logistic_ks_log10_pvalue=ks[t][2],
                logistic_max_error=float(part.max_error[t]),
                logistic_rel_error=rel_error,
                logistic_rejected=bool(rejected[t, 1])
                or (not user and not rel_error <= LAW_RTOL),
                off_simplex=int(part.off_simplex[t]),
            )
        )
    return points
