"""The Gumbel-Max check: argmax_i(ln pi_i + g_i) ~ Categorical(pi)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.core import provenance
from gumbelcheck.core.params import Categorical, categorical
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import DEFAULT_SAMPLER, Sampler, resolve
from gumbelcheck.stats import CategoricalGof, categorical_gof

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = "argmax_i(ln pi_i + g_i), g_i iid Gumbel(0, 1), is distributed as Categorical(pi)"


@dataclass(frozen=True, kw_only=True, eq=False)
class MaxTrickResult(ResultReport):
    """Result of :func:`maxtrick`.

    Attributes
    ----------
    null_hypothesis : str
        What was tested.
    pi : tuple of float
        The category probabilities (normalized).
    samples : int
        Number of draws N.
    counts : tuple of int
        Draws per category.
    noise : str
        The sampler that drew them.
    gof : CategoricalGof
        The goodness-of-fit test: rule, statistic, df, p-value, log10 p-value, alpha,
        per-category residuals and intervals, effect sizes, verdict.
    provenance : Provenance
        Seed, block size, versions: what is needed to reproduce the result.
    """

    check: ClassVar[str] = "maxtrick"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    samples: int
    counts: tuple[int, ...]
    noise: str
    gof: CategoricalGof
    provenance: provenance.Provenance = field(repr=False)

    @property
    def passed(self) -> bool:
        """True when the check passed."""
        return self.gof.passed

    def to_frame(self) -> pd.DataFrame:
        """The per-category table, one row per category (tidy)."""
        import pandas as pd

        g = self.gof
        return pd.DataFrame(
            {
                "category": np.arange(len(self.pi)),
                "pi": self.pi,
                "expected": g.expected,
                "observed": self.counts,
                "fraction": g.fraction,
                "fraction_low99": g.fraction_low,
                "fraction_high99": g.fraction_high,
                "residual": g.residual,
                "bin_test": g.bin_test,
                "bin_pvalue": g.bin_pvalue,
            }
        )

    def summary(self) -> Summary:
        """The run-level figures: verdict, test, statistic, p-value, effect sizes."""
        g = self.gof
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=g.zero_probability_draws > 0,
            null_hypothesis=self.null_hypothesis,
            rule=g.rule,
            test=g.test,
            statistic=g.statistic,
            df=g.df,
            pvalue=g.pvalue,
            log10_pvalue=g.log10_pvalue,
            alpha=g.alpha,
            effect=f"TV {g.tv_distance:.2g}",
            mde="" if math.isnan(g.mde_tv) else f"TV >= {g.mde_tv:.2g}",
            samples=self.samples,
            reason=g.reason,
            figures={
                "tv_distance": g.tv_distance,
                "cohen_w": g.cohen_w,
                "zero_probability_draws": g.zero_probability_draws,
                "mde_w": g.mde_w,
                "mde_tv": g.mde_tv,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(
            pi=self.pi,
            counts=self.counts,
            noise=self.noise,
            tests=self.gof.tests,
            categories=self.to_frame().to_dict(orient="records"),
        )


@dataclass(frozen=True, eq=False)
class CountKernel:
    """The block kernel of the max-trick check: draws per category of a block's samples.

    A picklable object (the sampler and the distribution), so that worker processes receive
    it by value.
    """

    sampler: Sampler
    dist: Categorical

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        return self.sampler.counts(rng, self.dist, n)


def count_draws(
    sampler: Sampler,
    dist: Categorical,
    *,
    plan: engine.Plan,
    seed: int,
    workers: int,
    progress: Callable[[int], None] | None,
    backend: str = "local",
) -> NDArray[np.int64]:
    """Counts per category of ``plan.samples`` draws of ``sampler`` on the block engine."""
    kernel = CountKernel(sampler, dist)
    return engine.run_blocks(
        plan, seed, kernel, np.add, workers=workers, backend=backend, progress=progress
    )


def maxtrick(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    noise: str | Sampler = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> MaxTrickResult:
    """Verify the Gumbel-Max trick for one categorical distribution.

    Draws ``samples`` Gumbel-max samples on the seeded block engine and tests their counts
    against Categorical(pi) (see :func:`gumbelcheck.stats.categorical_gof`).

    Parameters
    ----------
    pi : str or array_like, optional
        Probabilities, e.g. ``[0.1, 0.2, 0.7]`` or ``"0.1,0.2,0.7"``; zeros allowed.
    logits : str or array_like, optional
        Unnormalized log-probabilities instead of ``pi``; ``-inf`` means probability 0.
    normalize : bool
        Accept weights that do not sum to 1.
    samples : int or str
        Number of draws N (``"10M"`` and ``"1e7"`` are accepted).
    seed : int, optional
        Root seed; fresh entropy (recorded in the provenance) when None.
    alpha : float
        Significance level of the test.
    noise : str or Sampler
        Sampler name (``race``, ``reference``, ``numpy``, or a negative control) or object.
    block_size : int, optional
        Samples per block; by default about 2**19 numbers per block. Part of the
        reproducibility contract: the same seed and block size give the same counts.
    workers : int, optional
        Worker processes; all cores by default. The result does not depend on it.
    progress : callable, optional
        Called with the number of samples finished after each block.

    Returns
    -------
    MaxTrickResult

    Examples
    --------
    >>> from gumbelcheck import maxtrick
    >>> result = maxtrick([0.1, 0.2, 0.7], samples=100_000, seed=1)
    >>> result.verdict
    'PASS'
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        samples=samples,
        seed=seed,
        alpha=alpha,
        noise=noise,
        block_size=block_size,
        workers=workers,
    ).run(progress)


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    noise: str | Sampler = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
) -> Prepared[MaxTrickResult]:
    """Validate the input of :func:`maxtrick` (parameters as there) and return it ready to
    run; raises InputError, before any sampling, on anything invalid."""
    dist = categorical(pi, logits, normalize=normalize)
    sampler = resolve(noise)
    config = RunConfig.create(
        samples=samples, seed=seed, alpha=alpha, block_size=block_size, workers=workers
    )
    return Prepared(samples=config.samples, run=partial(run, dist, sampler, config))


def run(
    dist: Categorical,
    sampler: Sampler,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> MaxTrickResult:
    """Run the max-trick check on validated input (see :func:`prepare`)."""
    plan = config.plan(engine.default_block_size(dist.k))
    counts = count_draws(
        sampler,
        dist,
        plan=plan,
        seed=config.seed,
        workers=config.workers,
        progress=progress,
        backend=config.backend,
    )
    gof = categorical_gof(counts, dist.p, alpha=config.alpha, seed=config.seed)
    return MaxTrickResult(
        pi=tuple(float(x) for x in dist.p),
        samples=config.samples,
        counts=tuple(int(c) for c in counts),
        noise=sampler.name,
        gof=gof,
        provenance=provenance.collect(
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=plan.block_size,
            noise=sampler.name,
        ),
    )
