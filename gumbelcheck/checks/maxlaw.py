"""The law of the max: M = max_i(ln w_i + g_i) ~ Gumbel(ln sum w, 1), independent of the argmax.

Two experiments on the block engine, each with its own seed stream:

(a) the max against the fully specified Gumbel(ln sum w, 1): the KS, Cramér-von Mises, mean
    and variance tests of :func:`gumbelcheck.checks.dist.sampling_check` (the same code that
    checks the Gumbel sampler of ``dist``);
(b) independence of max and argmax: the k x B table of (argmax, bin of the max), the bins cut
    at the quantiles j / B of Gumbel(ln sum w, 1), against its exact law under H0,
    P(argmax = i, bin = j) = pi_i / B (Pearson's chi-square over the full table, df =
    (categories with pi > 0) x B - 1, so a wrong argmax law fails it too).

The check's p-value is the smaller of the two, Bonferroni-adjusted (x 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.checks.dist import SamplingCheck, sampling_check
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical, categorical
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import gumbel_rows
from gumbelcheck.stats import CategoricalGof, categorical_gof

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = (
    "M = max_i(ln w_i + g_i), g_i iid Gumbel(0, 1), is Gumbel(ln sum w, 1) and independent "
    "of argmax_i(ln w_i + g_i)"
)

#: Bins of the max in the independence table (equiprobable under H0).
BINS = 10

#: Ways to draw (argmax, max): the right one, and wrong ones that the check must reject.
#: ``shared-uniform`` gets both marginal laws exactly right and only their independence
#: wrong: it turns one uniform U into the index (the inverse CDF of Categorical(pi)) and the
#: max (the Gumbel quantile), as a sampler that reuses its random numbers would.
NOISES = ("gumbel", "gumbel-scale-1.05", "gaussian", "shared-uniform")


def _draw(
    rng: np.random.Generator, dist: Categorical, n: int, kind: str, location: float = 0.0
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """n draws of (argmax, max) of the scores ln pi + location + noise (under H0 the max is
    Gumbel(location, 1))."""
    if kind == "shared-uniform":
        top = gumbel_rows(rng, 1, n)[0]  # exact Gumbel(0, 1) draws of the max
        u = np.exp(-np.exp(-top))  # their CDF values: the one uniform both come from
        cumulative = np.cumsum(dist.p)
        winner = np.searchsorted(cumulative, u * cumulative[-1], side="right")
        last = int(np.flatnonzero(dist.support)[-1])
        return np.minimum(winner, last), top + location
    if kind == "gaussian":
        noise = rng.standard_normal((dist.k, n))
    else:
        noise = gumbel_rows(rng, dist.k, n, 1.05 if kind == "gumbel-scale-1.05" else 1.0)
    scores = (dist.logp + location)[:, None] + noise
    winner = scores.argmax(axis=0)
    return winner, scores[winner, np.arange(n)]


@dataclass(frozen=True, eq=False)
class MaxSampler:
    """Draws of M = max_i(ln w_i + g_i) for the dist sampling check, ``(rng, n, mu, beta) ->
    n maxima``, with ln w = ln pi + ``location`` (location = ln sum w)."""

    dist: Categorical
    noise: str
    location: float

    def __call__(self, rng: np.random.Generator, n: int, mu: float, beta: float) -> Any:
        return _draw(rng, self.dist, n, self.noise, self.location)[1]


@dataclass(frozen=True, eq=False)
class JointKernel:
    """Counts of (argmax, bin of the max) in a block: a k x B table, flattened."""

    dist: Categorical
    noise: str
    edges: NDArray[np.float64]  # the B - 1 inner bin edges

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        winner, top = _draw(rng, self.dist, n, self.noise)
        bins = np.searchsorted(self.edges, top)
        return np.bincount(winner * BINS + bins, minlength=self.dist.k * BINS).astype(np.int64)


@dataclass(frozen=True, kw_only=True, eq=False)
class MaxLawResult(ResultReport):
    """Result of :func:`maxlaw`: the max's law (``law``) and the independence table
    (``joint``: the k x B counts tested against pi_i / B)."""

    check: ClassVar[str] = "maxlaw"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    location: float
    samples: int
    noise: str
    law: SamplingCheck
    joint: CategoricalGof
    counts: tuple[tuple[int, ...], ...]
    provenance: provenance.Provenance = field(repr=False)

    @property
    def log10_pvalue(self) -> float:
        """The smaller p-value of the two experiments, Bonferroni-adjusted (x 2)."""
        return min(0.0, math.log10(2) + min(self.law.log10_pvalue, self.joint.log10_pvalue))

    @property
    def passed(self) -> bool:
        """True when neither experiment rejects at alpha (after Bonferroni)."""
        return self.log10_pvalue >= math.log10(self.joint.alpha)

    def to_frame(self) -> pd.DataFrame:
        """The independence table, one row per category and bin of the max."""
        import pandas as pd

        k = len(self.pi)
        table = np.asarray(self.counts)
        return pd.DataFrame(
            {
                "category": np.repeat(np.arange(k), BINS),
                "bin": np.tile(np.arange(BINS), k),
                "expected": np.repeat(np.asarray(self.pi), BINS) * self.samples / BINS,
                "observed": table.reshape(-1),
            }
        )

    def summary(self) -> Summary:
        """The deciding test of the two experiments and the effect sizes."""
        law, joint = self.law, self.joint
        use_law = law.log10_pvalue <= joint.log10_pvalue
        reasons = []
        if not self.passed:
            name = f"max law {law.test}" if use_law else f"independence {joint.test}"
            reasons.append(f"{name}: log10 p = {self.log10_pvalue:.4g} (Bonferroni x 2)")
        if joint.zero_probability_draws:
            reasons.append(f"{joint.zero_probability_draws} draws on zero-probability categories")
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=joint.zero_probability_draws > 0,
            null_hypothesis=self.null_hypothesis,
            rule="bonferroni(2 experiments)",
            test=f"max law {law.test}" if use_law else f"independence {joint.test}",
            statistic=law.statistic if use_law else joint.statistic,
            df=None if use_law else joint.df,
            pvalue=10.0**self.log10_pvalue,
            log10_pvalue=self.log10_pvalue,
            alpha=joint.alpha,
            effect=f"KS D {law.ks_distance:.2g}, joint TV {joint.tv_distance:.2g}",
            mde="" if math.isnan(joint.mde_tv) else f"joint TV >= {joint.mde_tv:.2g}",
            samples=self.samples,
            reason="; ".join(reasons),
            figures={
                "location": self.location,
                "ks_distance": law.ks_distance,
                "mean_shift_sd": law.mean_shift_sd,
                "variance_ratio": law.variance_ratio,
                "joint_tv": joint.tv_distance,
                "law_log10_pvalue": law.log10_pvalue,
                "joint_log10_pvalue": joint.log10_pvalue,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(pi=self.pi, noise=self.noise, law_tests=self.law.tests, table=self.counts)


def maxlaw(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    noise: str = "gumbel",
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> MaxLawResult:
    """Check the law of the max of perturbed logits and its independence from the argmax.

    Parameters
    ----------
    pi, logits, normalize
        The distribution, as for :func:`gumbelcheck.maxtrick`; with ``normalize`` the weights
        w are kept as given, so the max's location is ln sum w.
    samples : int or str
        Draws N of each of the two experiments.
    seed : int, optional
        Root seed; the experiments use ``engine.child_seed(seed, 0)`` and ``(seed, 1)``.
    alpha : float
        Level of the check (Bonferroni over the two experiments).
    noise : str
        ``gumbel`` (the identity holds); ``gumbel-scale-1.05`` or ``gaussian`` to watch it
        fail, ``shared-uniform`` to watch the independence test fail alone (both marginal
        laws exact, the index and the max made from one uniform).
    workers : int, optional
        Workers; the result does not depend on it.
    scheduler : str, optional
        Run the blocks on a Dask cluster: its scheduler's address (``tcp://host:8786``) or
        ``local:N`` (N local worker processes); by default the ``GUMBELCHECK_SCHEDULER``
        environment variable, or this machine. The result does not depend on it.
    progress : callable, optional
        Called with the draws finished after each block.

    Returns
    -------
    MaxLawResult
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        samples=samples,
        seed=seed,
        alpha=alpha,
        noise=noise,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    noise: str = "gumbel",
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[MaxLawResult]:
    """Validate the input of :func:`maxlaw` and return it ready to run."""
    dist = categorical(pi, logits, normalize=normalize)
    if noise not in NOISES:
        raise InputError(f"`noise` {noise!r} is not known; choose one of {', '.join(NOISES)}")
    config = RunConfig.create(
        samples=samples, seed=seed, alpha=alpha, workers=workers, scheduler=scheduler
    )
    config.check_memory(16 * dist.k, engine.default_block_size(dist.k))
    return Prepared(
        samples=2 * config.samples, run=partial(run, dist, dist.log_total, noise, config)
    )


def run(
    dist: Categorical,
    location: float,
    noise: str,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> MaxLawResult:
    """Run both experiments on validated input (see :func:`prepare`)."""
    from scipy import stats

    block = engine.default_block_size(dist.k)
    law = sampling_check(
        location,
        1.0,
        sampler=MaxSampler(dist, noise, location),
        sampler_name=f"max_i(ln w_i + g_i), {noise} noise",
        samples=config.samples,
        seed=engine.child_seed(config.seed, 0),
        alpha=config.alpha,
        block_size=block,
        workers=config.workers,
        progress=progress,
        backend=config.backend,
    )
    # Bin edges of the max of the normalized scores ln pi + g, Gumbel(0, 1) under H0.
    edges = stats.gumbel_r.ppf(np.arange(1, BINS) / BINS)
    kernel = JointKernel(dist, noise, edges)
    table = engine.run_blocks(
        engine.Plan(samples=config.samples, block_size=block),
        engine.child_seed(config.seed, 1),
        kernel,
        np.add,
        workers=config.workers,
        backend=config.backend,
        progress=progress,
    )
    expected = np.repeat(dist.p, BINS) / BINS
    joint = categorical_gof(table, expected, alpha=config.alpha, seed=config.seed)
    return MaxLawResult(
        pi=tuple(float(x) for x in dist.p),
        location=location,
        samples=config.samples,
        noise=noise,
        law=law,
        joint=joint,
        counts=tuple(tuple(int(c) for c in row) for row in table.reshape(dist.k, BINS)),
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=block,
            noise=noise,
        ),
    )
