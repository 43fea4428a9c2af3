"""Gumbel-top-k: the indices of the m largest ln w_i + g_i are an ordered sample of size m
without replacement with the Plackett-Luce law,

    P(i_1, ..., i_m) = prod_j pi_{i_j} / (1 - pi_{i_1} - ... - pi_{i_{j-1}}).

The check draws n ordered m-tuples on the block engine (or from a user's sampler returning
n x m indices) and tests them against that exact law in one of two ways:

``full``
    the counts of every ordered tuple of distinct categories with positive weight (at most
    :data:`MAX_TUPLES` of them) against their Plackett-Luce probabilities;
``marginals``
    when the support is too large to enumerate, three exact laws of the sample, each with its
    own test and Holm's method across the three: the first position (Categorical(pi), the
    categorical goodness-of-fit rules of ``maxtrick``), the inclusion probabilities
    P(i in the sample) (an exact binomial test per category, Holm across categories) and the
    pairwise order probabilities P(i ahead of j) = P(i in the sample and j not, or after it)
    for the heaviest categories (exact binomial tests, Holm).

The inclusion and order probabilities come from the Gumbel representation by quadrature:
with S_l = ln pi_l + g_l and t = e^-s, P(S_l < s) = exp(-pi_l t), so

    P(i in the sample) = int_0^inf pi_i e^(-pi_i t) P(N_i(t) <= m - 1) dt,

where N_i(t), the number of other categories above s, is a Poisson-binomial count; it is
computed by a truncated recursion over the categories (prefix and suffix, so leaving each i
out costs no more than the whole), and the integral by the trapezoidal rule in ln t, whose
error falls like exp(-pi^2 / h) for this integrand (h = :data:`QUADRATURE_STEP`). The tests
check both against enumeration of the Plackett-Luce law for small k.

A tuple with a repeated index, an index outside the categories or a zero-weight category is
a hard failure. The report gives the exact inclusion probabilities next to m pi: they are not
proportional to the weights, so the law tested is Plackett-Luce's, not "inclusion
proportional to w".
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
from gumbelcheck.core.params import Categorical, categorical, parse_count
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import gumbel_rows
from gumbelcheck.stats import (
    CategoricalGof,
    TestResult,
    binomial_test,
    categorical_gof,
    holm,
)

if TYPE_CHECKING:
    import pandas as pd

    from gumbelcheck.samplers.user import UserSampler

NULL_HYPOTHESIS = (
    "the indices of the m largest ln w_i + g_i, g_i iid Gumbel(0, 1), are an ordered sample "
    "without replacement with the Plackett-Luce law prod_j pi_ij / (1 - sum_{l<j} pi_il)"
)

#: Most ordered tuples the full-support test enumerates (k! / (k - m)! of them).
MAX_TUPLES = 20_000

#: Most categories x m for the marginal laws (their quadrature keeps k x 64 x m numbers).
MAX_MARGINAL_CELLS = 2**18

#: The heaviest categories whose pairwise order probabilities the marginal test checks.
PAIR_CATEGORIES = 6

#: Step of the trapezoidal rule in ln t (error about exp(-pi^2 / h), far below 1e-16).
QUADRATURE_STEP = 0.125

#: Quadrature nodes processed together (bounds the memory of the recursion).
_CHUNK = 64

#: How the law is tested: over the full support, by three marginal laws, or the first that
#: fits (``auto``: full when the ordered tuples can be enumerated).
LAWS = ("auto", "full", "marginals")

#: Built-in ways to draw: the exact one, and wrong ones the check must reject.
NOISES = ("gumbel", "gumbel-scale-1.05", "with-replacement")


def plackett_luce(p: NDArray[np.float64], tuples: NDArray[np.intp]) -> NDArray[np.float64]:
    """Exact Plackett-Luce probabilities of ordered tuples (one per row) of distinct indices.

    The remaining mass 1 - sum of the earlier picks is summed with math.fsum, so it keeps its
    precision when the earlier picks take almost all of it.
    """
    out = np.empty(len(tuples))
    for row, picks in enumerate(tuples):
        probability, taken = 1.0, []
        for i in picks:
            probability *= p[i] / (1.0 - math.fsum(taken)) if taken else p[i]
            taken.append(p[i])
        out[row] = probability
    return out


def _nodes(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quadrature nodes t = e^x on a uniform grid in x wide enough for every category.

    Below, the integrand is at most pi_i t (x <= -45 - ln max pi leaves < 1e-19 of it); above,
    at most pi_i t e^(-pi_i t) (x >= ln(60 / min pi) leaves < 1e-24).
    """
    positive = p[p > 0]
    low = -45.0 - math.log(float(positive.max()))
    high = math.log(60.0 / float(positive.min()))
    return np.exp(np.arange(low, high + QUADRATURE_STEP, QUADRATURE_STEP))


def _add_bernoulli(counts: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Add a Bernoulli(q) (one q per node) to count distributions truncated at m - 1 (nodes x m);
    the mass that passes m - 1 is dropped, as counts only grow."""
    out = counts * (1.0 - q)[:, None]
    out[:, 1:] += counts[:, :-1] * q[:, None]
    return out


def _no_count(nodes: int, m: int) -> NDArray[np.float64]:
    """The count distribution of no Bernoulli at all: 0 with probability 1."""
    counts = np.zeros((nodes, m))
    counts[:, 0] = 1.0
    return counts


def inclusion_probabilities(p: NDArray[np.float64], m: int) -> NDArray[np.float64]:
    """Exact P(i is among the m largest ln p_l + g_l), g_l iid Gumbel(0, 1), for every i.

    By quadrature over the Gumbel representation (see the module docstring): the count of the
    other categories above category i's score is a Poisson-binomial count, truncated at m - 1
    and built from prefix and suffix recursions so that every leave-one-out costs O(m).

    Parameters
    ----------
    p : ndarray
        Probabilities (summing to 1; zeros allowed).
    m : int
        Sample size without replacement.

    Returns
    -------
    ndarray
        The k inclusion probabilities (0 for zero-probability categories); they sum to m.
    """
    positive = np.flatnonzero(p > 0)
    out = np.zeros(p.size)
    weights = p[positive]
    nodes = _nodes(p)
    for first in range(0, nodes.size, _CHUNK):
        t = nodes[first : first + _CHUNK]
        above = -np.expm1(-np.outer(weights, t))  # P(S_l > s) per category and node
        suffix = np.empty((weights.size + 1, t.size, m))
        suffix[-1] = _no_count(t.size, m)
        for a in range(weights.size - 1, -1, -1):
            suffix[a] = _add_bernoulli(suffix[a + 1], above[a])
        prefix = _no_count(t.size, m)
        for a, w in enumerate(weights):
            # P(prefix + suffix <= m - 1) = sum_c prefix(c) P(suffix <= m - 1 - c)
            at_most = np.cumsum(suffix[a + 1], axis=1)[:, ::-1]
            others_below = (prefix * at_most).sum(axis=1)
            out[positive[a]] += QUADRATURE_STEP * math.fsum(w * t * np.exp(-w * t) * others_below)
            prefix = _add_bernoulli(prefix, above[a])
    return np.minimum(out, 1.0)


def ahead_probabilities(
    p: NDArray[np.float64], m: int, pairs: Sequence[tuple[int, int]]
) -> NDArray[np.float64]:
    """Exact P(i ahead of j) = P(i in the sample and j not, or j after i), for each pair (i, j).

    The event is {S_i > S_j and fewer than m of the others above S_i}, so

        P = int_0^inf p_i e^(-(p_i + p_j) t) P(N_ij(t) <= m - 1) dt,

    N_ij(t) counting the categories other than i and j above s (quadrature as for
    :func:`inclusion_probabilities`). With m = k it is p_i / (p_i + p_j).
    """
    nodes = _nodes(p)
    positive = np.flatnonzero(p > 0)
    out = np.empty(len(pairs))
    for n, (i, j) in enumerate(pairs):
        counts = _no_count(nodes.size, m)
        for other in positive:
            if other != i and other != j:
                counts = _add_bernoulli(counts, -np.expm1(-p[other] * nodes))
        integrand = p[i] * nodes * np.exp(-(p[i] + p[j]) * nodes) * counts.sum(axis=1)
        out[n] = QUADRATURE_STEP * math.fsum(integrand)
    return np.minimum(out, 1.0)


def order_pairs(p: NDArray[np.float64]) -> tuple[tuple[int, int], ...]:
    """The pairs whose order the marginal test checks: every pair (heavier, lighter) of the
    :data:`PAIR_CATEGORIES` heaviest categories (ties broken by index)."""
    heaviest = [int(i) for i in np.argsort(-p, kind="stable")[:PAIR_CATEGORIES] if p[i] > 0]
    return tuple(itertools.combinations(heaviest, 2))


def _valid_rows(top: NDArray[np.intp], dist: Categorical) -> NDArray[np.bool_]:
    """Rows of distinct indices inside the categories, every one of positive weight."""
    inside = ((top >= 0) & (top < dist.k)).all(axis=1)
    safe = np.where(inside[:, None], top, 0)
    ordered = np.sort(safe, axis=1)
    distinct = (np.diff(ordered, axis=1) != 0).all(axis=1)
    return inside & distinct & dist.support[safe].all(axis=1)


def _codes(tuples: NDArray[np.intp], k: int) -> NDArray[np.int64]:
    """Each row of ordered indices in 0..k as one number, its digits in base k + 1."""
    codes = np.zeros(len(tuples), dtype=np.int64)
    for column in tuples.T:
        codes = codes * (k + 1) + column
    return codes


@dataclass(frozen=True, eq=False)
class TopKernel:
    """Counts of the ordered m-tuples of a block, coded in base k + 1 (k: outside), plus
    the tuples with a repeated index."""

    dist: Categorical
    m: int
    noise: str
    sampler: Any = None  # a UserSampler drawing n x m indices, or None for the engine's

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        k, m = self.dist.k, self.m
        top = _draw(self, rng, n, start)
        top = np.where((top >= 0) & (top < k), top, k)  # outside: the extra digit k
        return np.bincount(_codes(top, k), minlength=(k + 1) ** m).astype(np.int64)


@dataclass(frozen=True, eq=False)
class MarginalKernel:
    """The marginal statistics of a block, one int64 vector: first-position counts (k),
    inclusion counts (k), "i ahead of j" counts (one per pair), invalid samples (1)."""

    dist: Categorical
    m: int
    noise: str
    sampler: Any
    pairs: tuple[tuple[int, int], ...]

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        k, m = self.dist.k, self.m
        top = _draw(self, rng, n, start)
        valid = _valid_rows(top, self.dist)
        top = top[valid]
        first = np.bincount(top[:, 0], minlength=k)
        included = np.bincount(top.ravel(), minlength=k)
        position = {}
        for c in {c for pair in self.pairs for c in pair}:
            hit = top == c
            position[c] = np.where(hit.any(axis=1), hit.argmax(axis=1), m)
        ahead = [np.count_nonzero(position[i] < position[j]) for i, j in self.pairs]
        return np.concatenate(
            [first, included, np.asarray(ahead, dtype=np.int64), [n - top.shape[0]]]
        ).astype(np.int64)


def _draw(
    kernel: TopKernel | MarginalKernel, rng: np.random.Generator, n: int, start: int
) -> NDArray[np.intp]:
    """The block's n x m ordered samples: the user's sampler's, or the engine's."""
    if kernel.sampler is not None:
        return np.asarray(kernel.sampler.top(rng, kernel.dist, n, kernel.m, start))
    return _gumbel_top(rng, kernel.dist, n, kernel.m, kernel.noise)


def _gumbel_top(
    rng: np.random.Generator, dist: Categorical, n: int, m: int, noise: str
) -> NDArray[np.intp]:
    k = dist.k
    if noise == "with-replacement":  # m independent Gumbel-max draws: repeats happen
        columns = []
        for _ in range(m):
            columns.append(np.argmax(dist.logp[:, None] + gumbel_rows(rng, k, n), axis=0))
        return np.stack(columns, axis=1)
    g = gumbel_rows(rng, k, n, 1.05 if noise == "gumbel-scale-1.05" else 1.0)
    scores = (dist.logp[:, None] + g).T  # n x k
    top = np.argpartition(-scores, m - 1, axis=1)[:, :m]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _binomial_family(
    name: str, counts: NDArray[np.int64], n: int, probability: NDArray[np.float64]
) -> tuple[TestResult, NDArray[np.float64], NDArray[np.float64]]:
    """Exact two-sided binomial tests of counts against n x probability, one per entry, and
    Holm across them: the family's p-value is the smallest Holm-adjusted one (its statistic
    the largest |z|). Returns the family's test, the per-entry log10 p-values and standardized
    residuals z = (count - n q) / sqrt(n q (1 - q)) (0 where q is 0 or 1)."""
    log_p = np.array(
        [binomial_test(int(c), n, float(q))[1] for c, q in zip(counts, probability, strict=True)]
    )
    spread = np.sqrt(n * probability * (1.0 - probability))
    z = np.divide(counts - n * probability, spread, out=np.zeros(len(counts)), where=spread > 0)
    adjusted = float(holm(log_p).min()) if log_p.size else 0.0
    test = TestResult(
        name=f"{name}: exact binomial x {log_p.size}, Holm",
        statistic=float(np.abs(z).max()) if z.size else 0.0,
        df=None,
        pvalue=10.0**adjusted,
        log10_pvalue=adjusted,
    )
    return test, log_p, z


@dataclass(frozen=True, kw_only=True, eq=False)
class MarginalLaws:
    """The three marginal laws of a sample without replacement and their tests.

    Attributes
    ----------
    first : CategoricalGof
        First position against Categorical(pi) (the rules of ``maxtrick``).
    first_counts, inclusion_counts : tuple of int
        Per category: samples that start with it, samples that include it.
    inclusion_log10_pvalue, inclusion_residual : tuple of float
        Per category: exact binomial test of its inclusion count, and its standardized
        residual (NaN: weight 0).
    pairs : tuple of (int, int)
        The pairs (i, j) whose order is tested.
    ahead, ahead_counts, ahead_log10_pvalue : tuple
        Per pair: exact P(i ahead of j), samples with i ahead of j, its binomial test.
    tests : tuple of TestResult
        The three laws' tests: first position, inclusion, pairwise order.
    holm_log10_pvalue : tuple of float
        Their Holm-adjusted log10 p-values.
    """

    first: CategoricalGof
    first_counts: tuple[int, ...]
    inclusion_counts: tuple[int, ...]
    inclusion_log10_pvalue: tuple[float, ...]
    inclusion_residual: tuple[float, ...]
    pairs: tuple[tuple[int, int], ...]
    ahead: tuple[float, ...]
    ahead_counts: tuple[int, ...]
    ahead_log10_pvalue: tuple[float, ...]
    tests: tuple[TestResult, ...]
    holm_log10_pvalue: tuple[float, ...]


def marginal_laws(
    dist: Categorical,
    m: int,
    pairs: tuple[tuple[int, int], ...],
    table: NDArray[np.int64],
    inclusion: NDArray[np.float64],
    *,
    alpha: float,
    seed: int,
) -> MarginalLaws:
    """Test the folded :class:`MarginalKernel` vector (whose order counts are of ``pairs``)
    against the exact marginal laws."""
    k = dist.k
    first, included = table[:k], table[k : 2 * k]
    ahead_counts = table[2 * k : 2 * k + len(pairs)]
    valid = int(first.sum())
    first_gof = categorical_gof(first, dist.p, alpha=alpha, seed=seed)
    support = np.flatnonzero(dist.support)
    inclusion_test, log_p, z = _binomial_family(
        "inclusion", included[support], valid, inclusion[support]
    )
    inclusion_log_p, inclusion_z = np.full(k, np.nan), np.full(k, np.nan)
    inclusion_log_p[support], inclusion_z[support] = log_p, z
    ahead = ahead_probabilities(dist.p, m, pairs)
    pair_test, pair_log_p, _ = _binomial_family("pairwise order", ahead_counts, valid, ahead)
    tests = (
        TestResult(
            name=f"first position: {first_gof.test}",
            statistic=first_gof.statistic,
            df=first_gof.df,
            pvalue=first_gof.pvalue,
            log10_pvalue=first_gof.log10_pvalue,
        ),
        inclusion_test,
        pair_test,
    )
    return MarginalLaws(
        first=first_gof,
        first_counts=tuple(int(c) for c in first),
        inclusion_counts=tuple(int(c) for c in included),
        inclusion_log10_pvalue=tuple(float(x) for x in inclusion_log_p),
        inclusion_residual=tuple(float(x) for x in inclusion_z),
        pairs=pairs,
        ahead=tuple(float(x) for x in ahead),
        ahead_counts=tuple(int(c) for c in ahead_counts),
        ahead_log10_pvalue=tuple(float(x) for x in pair_log_p),
        tests=tests,
        holm_log10_pvalue=tuple(float(x) for x in holm([t.log10_pvalue for t in tests])),
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class TopKResult(ResultReport):
    """Result of :func:`topk`.

    ``law`` says how the Plackett-Luce law was tested: ``full`` (``gof``, over ``tuples``
    with their ``expected`` probabilities and ``counts``) or ``marginals`` (``marginals``;
    then ``tuples``, ``expected`` and ``counts`` are empty and ``gof`` is None).
    """

    check: ClassVar[str] = "topk"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    m: int
    samples: int
    noise: str
    law: str
    tuples: tuple[tuple[int, ...], ...]
    expected: tuple[float, ...]
    counts: tuple[int, ...]
    invalid_draws: int
    inclusion: tuple[float, ...]
    observed_inclusion: tuple[float, ...]
    gof: CategoricalGof | None
    marginals: MarginalLaws | None
    alpha: float
    provenance: provenance.Provenance = field(repr=False)

    @property
    def log10_pvalue(self) -> float:
        """The deciding log10 p-value: the full test's, or the smallest Holm-adjusted one."""
        if self.gof is not None:
            return self.gof.log10_pvalue
        assert self.marginals is not None
        return min(self.marginals.holm_log10_pvalue)

    @property
    def passed(self) -> bool:
        """True when the law's test(s) pass and no sample was invalid."""
        if self.invalid_draws:
            return False
        if self.gof is not None:
            return self.gof.passed
        return self.log10_pvalue >= math.log10(self.alpha)

    def to_frame(self) -> pd.DataFrame:
        """One row per ordered tuple of the support (``full``), or per category
        (``marginals``: first position and inclusion, exact and observed, next to m pi)."""
        import pandas as pd

        if self.gof is not None:
            return pd.DataFrame(
                {
                    "tuple": [" ".join(map(str, t)) for t in self.tuples],
                    "probability": self.expected,
                    "expected": np.asarray(self.expected) * self.samples,
                    "observed": self.counts,
                    "residual": self.gof.residual,
                }
            )
        assert self.marginals is not None
        pi = np.asarray(self.pi)
        return pd.DataFrame(
            {
                "category": np.arange(len(pi)),
                "pi": pi,
                "m_pi": self.m * pi,
                "first_observed": self.marginals.first_counts,
                "inclusion": self.inclusion,
                "inclusion_observed": self.observed_inclusion,
                "inclusion_log10_pvalue": self.marginals.inclusion_log10_pvalue,
                "inclusion_residual": self.marginals.inclusion_residual,
            }
        )

    def summary(self) -> Summary:
        """The deciding test, the invalid samples, the effect size."""
        reasons = []
        if self.invalid_draws:
            reasons.append(
                f"{self.invalid_draws} samples with a repeated index, an index outside the "
                "categories or a zero-weight category"
            )
        figures: dict[str, Any] = {"m": self.m, "law": self.law}
        if self.gof is not None:
            g = self.gof
            if g.reason:
                reasons.insert(0, g.reason)
            rule, test, statistic, df, tv = g.rule, g.test, g.statistic, g.df, g.tv_distance
            mde = "" if math.isnan(g.mde_tv) else f"TV >= {g.mde_tv:.2g}"
            effect = f"TV {tv:.2g}"
            figures["tuples"] = len(self.tuples)
        else:
            laws = self.marginals
            assert laws is not None
            deciding = int(np.argmin(laws.holm_log10_pvalue))
            t = laws.tests[deciding]
            rule, test, statistic, df = "holm(3 marginal laws)", t.name, t.statistic, t.df
            first = laws.first
            effect = f"first-position TV {first.tv_distance:.2g}"
            mde = "" if math.isnan(first.mde_tv) else f"first-position TV >= {first.mde_tv:.2g}"
            rejected = []
            for name, adjusted in zip(
                ("first-position", "inclusion", "pairwise-order"),
                laws.holm_log10_pvalue,
                strict=True,
            ):
                figures[f"{name.split('-')[0]}_log10_pvalue"] = adjusted
                if adjusted < math.log10(self.alpha):
                    rejected.append(f"{name} law: Holm-adjusted log10 p = {adjusted:.4g}")
            reasons[:0] = rejected
        figures["invalid_draws"] = self.invalid_draws
        log_p = self.log10_pvalue
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=self.invalid_draws > 0,
            null_hypothesis=self.null_hypothesis,
            rule=rule,
            test=test,
            statistic=statistic,
            df=df,
            pvalue=10.0**log_p,
            log10_pvalue=log_p,
            alpha=self.alpha,
            effect=effect,
            mde=mde,
            samples=self.samples,
            reason="; ".join(reasons),
            figures=figures,
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        extra: dict[str, Any] = {}
        if self.gof is not None:
            extra["tuples"] = self.to_frame().to_dict(orient="records")
        else:
            laws = self.marginals
            assert laws is not None
            extra["categories"] = self.to_frame().to_dict(orient="records")
            extra["pairs"] = [
                {"i": i, "j": j, "probability": q, "observed": c, "log10_pvalue": lp}
                for (i, j), q, c, lp in zip(
                    laws.pairs, laws.ahead, laws.ahead_counts, laws.ahead_log10_pvalue, strict=True
                )
            ]
            extra["laws"] = [
                {
                    "test": t.name,
                    "statistic": t.statistic,
                    "df": t.df,
                    "log10_pvalue": t.log10_pvalue,
                    "holm_log10_pvalue": h,
                }
                for t, h in zip(laws.tests, laws.holm_log10_pvalue, strict=True)
            ]
        return self._json(
            pi=self.pi,
            m=self.m,
            noise=self.noise,
            law=self.law,
            inclusion=self.inclusion,
            observed_inclusion=self.observed_inclusion,
            **extra,
        )


def topk(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    m: int | str = 2,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    law: str = "auto",
    noise: str = "gumbel",
    sampler: str | Callable[..., Any] | UserSampler | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> TopKResult:
    """Check Gumbel-top-k (or a user's sampler without replacement) against Plackett-Luce.

    Parameters
    ----------
    pi, logits, normalize
        The weights, as for :func:`gumbelcheck.maxtrick`.
    m : int
        Sample size without replacement, 1 <= m <= the categories with positive weight.
    samples : int or str
        Ordered m-tuples drawn.
    seed, alpha, workers, scheduler, progress
        As for :func:`gumbelcheck.maxtrick`.
    law : str
        ``full`` (every ordered tuple, at most :data:`MAX_TUPLES`), ``marginals`` (first
        position, inclusion and pairwise order, Holm across the three) or ``auto`` (full when
        it fits).
    noise : str
        The engine's way: ``gumbel`` (exact), ``gumbel-scale-1.05`` or ``with-replacement``
        (m independent Gumbel-max draws) to watch the check fail.
    sampler : str or callable, optional
        A user's sampler ``function(logits, n, seed, m)`` returning n x m indices
        (``module:function``, ``file.py:function`` or a callable), or an adapter
        (``torch.multinomial_without_replacement``, ``jax.choice_without_replacement``,
        ``numpy.choice_without_replacement``, with options like ``[float32]``), instead of
        the engine's.

    Returns
    -------
    TopKResult
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        m=m,
        samples=samples,
        seed=seed,
        alpha=alpha,
        law=law,
        noise=noise,
        sampler=sampler,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    m: int | str = 2,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    law: str = "auto",
    noise: str = "gumbel",
    sampler: str | Callable[..., Any] | UserSampler | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[TopKResult]:
    """Validate the input of :func:`topk` and return it ready to run."""
    dist = categorical(pi, logits, normalize=normalize)
    size = parse_count(m, "`m`")
    support = int(dist.support.sum())
    if size > support:
        raise InputError(
            f"`m` {size} exceeds the {support} categories with positive weight; a sample "
            "without replacement cannot be larger"
        )
    if law not in LAWS:
        raise InputError(f"`law` {law!r} is not known; choose one of {', '.join(LAWS)}")
    tuples = math.perm(support, size)
    fits = tuples <= MAX_TUPLES and (dist.k + 1) ** size <= 2**20
    if law == "full" and not fits:
        raise InputError(
            f"`m` {size} of {support} categories has {tuples:,} ordered tuples; the full "
            f"Plackett-Luce test enumerates at most {MAX_TUPLES:,} (use --law marginals, or "
            "a smaller m or k)"
        )
    chosen = "full" if law == "auto" and fits else ("marginals" if law == "auto" else law)
    if chosen == "marginals" and dist.k * size > MAX_MARGINAL_CELLS:
        raise InputError(
            f"`m` {size} of {dist.k} categories is {dist.k * size:,} cells; the marginal laws' "
            f"quadrature takes at most {MAX_MARGINAL_CELLS:,} (use a smaller m or k)"
        )
    if noise not in NOISES:
        raise InputError(f"`noise` {noise!r} is not known; choose one of {', '.join(NOISES)}")
    user = None if sampler is None else _user(sampler)
    config = RunConfig.create(
        samples=samples, seed=seed, alpha=alpha, workers=workers, scheduler=scheduler
    )
    config.check_memory(16 * dist.k * size, engine.default_block_size(dist.k))
    return Prepared(
        samples=config.samples, run=partial(run, dist, size, chosen, noise, user, config)
    )


def _user(sampler: str | Callable[..., Any] | UserSampler) -> UserSampler:
    """The sampler without replacement ``sampler`` names: an adapter
    (``torch.multinomial_without_replacement[float32]``), a SPEC, or a callable."""
    from gumbelcheck.samplers.adapters import adapter, is_adapter_name
    from gumbelcheck.samplers.user import UserSampler, load_user_sampler, user_sampler

    if isinstance(sampler, UserSampler):
        return sampler
    if is_adapter_name(sampler):
        return adapter(sampler, form="top")  # type: ignore[arg-type]
    return load_user_sampler(sampler) if isinstance(sampler, str) else user_sampler(sampler)


def run(
    dist: Categorical,
    m: int,
    law: str,
    noise: str,
    user: Any,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> TopKResult:
    """Run the check on validated input (see :func:`prepare`)."""
    k = dist.k
    block = engine.default_block_size(k)
    if law == "full":
        kernel: TopKernel | MarginalKernel = TopKernel(dist, m, noise, user)
    else:
        pairs = order_pairs(dist.p)
        kernel = MarginalKernel(dist, m, noise, user, pairs)
    table = engine.run_blocks(
        engine.Plan(samples=config.samples, block_size=block),
        config.seed,
        kernel,
        np.add,
        workers=config.workers,
        backend=config.backend,
        progress=progress,
    )
    gof, laws = None, None
    tuples = np.empty((0, m), dtype=np.intp)
    counts = expected = np.empty(0)
    if law == "full":
        positive = np.flatnonzero(dist.support)
        tuples = np.array(list(itertools.permutations(positive, m)), dtype=np.intp).reshape(-1, m)
        counts = table[_codes(tuples, k)]
        expected = plackett_luce(dist.p, tuples)
        invalid = int(config.samples - counts.sum())
        gof = categorical_gof(
            counts, expected / math.fsum(expected), alpha=config.alpha, seed=config.seed
        )
        inclusion = np.zeros(k)
        included = np.zeros(k, dtype=np.int64)
        for j in range(m):
            np.add.at(inclusion, tuples[:, j], expected)
            np.add.at(included, tuples[:, j], counts)
        observed = included / config.samples
    else:
        inclusion = inclusion_probabilities(dist.p, m)
        laws = marginal_laws(
            dist, m, pairs, table, inclusion, alpha=config.alpha, seed=config.seed
        )
        invalid = int(table[-1])
        observed = np.asarray(laws.inclusion_counts) / config.samples
    return TopKResult(
        pi=tuple(float(x) for x in dist.p),
        m=m,
        samples=config.samples,
        noise=user.name if user is not None else noise,
        law=law,
        tuples=tuple(tuple(int(i) for i in t) for t in tuples),
        expected=tuple(float(x) for x in expected),
        counts=tuple(int(c) for c in counts),
        invalid_draws=invalid,
        inclusion=tuple(float(x) for x in inclusion),
        observed_inclusion=tuple(float(x) for x in observed),
        gof=gof,
        marginals=laws,
        alpha=config.alpha,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=block,
            noise=user.name if user is not None else noise,
            sampler_origin=user.origin if user is not None else "built-in",
        ),
    )
