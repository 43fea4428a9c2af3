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
from gumbelcheck.samplers import DEFAULT_SAMPLER, AnySampler, Sampler, UserSampler, resolve
from gumbelcheck.stats import CategoricalGof, categorical_gof

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = "argmax_i(ln pi_i + g_i), g_i iid Gumbel(0, 1), is distributed as Categorical(pi)"


def null_hypothesis(sampler: AnySampler) -> str:
    """H0 of the check: the Gumbel-max identity for a built-in sampler, the sampler's law for
    a user's (which may sample Categorical(pi) any way it likes)."""
    if isinstance(sampler, UserSampler):
        return f"the draws of {sampler.name}(logits, n, seed) are distributed as Categorical(pi)"
    return NULL_HYPOTHESIS


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
        The sampler that drew them (a built-in name or the user's SPEC).
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
            hard_failure=g.zero_probability_draws > 0 or g.outside_draws > 0,
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
                "outside_draws": g.outside_draws,
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
    """The block kernel of the max-trick check: draws per category of a block's samples, then
    the draws outside the categories (length k + 1).

    A picklable object (the sampler, the distribution and the block size, which turns a
    block's first sample into the block index that a user sampler's errors name), so that
    worker processes receive it by value.
    """

    sampler: AnySampler
    dist: Categorical
    block_size: int

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        return self.sampler.tally(rng, self.dist, n, start // self.block_size)


def count_draws(
    sampler: AnySampler,
    dist: Categorical,
    *,
    plan: engine.Plan,
    seed: int,
    workers: int,
    progress: Callable[[int], None] | None,
    backend: str | engine.Backend = "local",
) -> tuple[NDArray[np.int64], int]:
    """Counts per category of ``plan.samples`` draws of ``sampler`` on the block engine, and
    the number of draws outside the categories (a user sampler's out-of-range indices)."""
    kernel = CountKernel(sampler, dist, plan.block_size)
    tally = engine.run_blocks(
        plan, seed, kernel, np.add, workers=workers, backend=backend, progress=progress
    )
    return tally[:-1], int(tally[-1])


def maxtrick(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    sampler: str | Sampler | UserSampler | Callable[..., Any] = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
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
    sampler : str, callable or Sampler
        A built-in sampler's name (``race``, ``reference``, ``numpy``, or a negative control
        such as ``gaussian``); a user's sampler as ``package.module:function`` or
        ``path/to/file.py:function``; a Python callable ``function(logits, n, seed)``
        returning n category indices (or k counts, see
        :func:`~gumbelcheck.samplers.user.returns_counts`); or a sampler object. Draws outside
        0..k-1 are counted and fail the check; a broken contract raises
        :class:`~gumbelcheck.samplers.user.SamplerError`.
    block_size : int, optional
        Samples per block; by default about 2**19 numbers per block. Part of the
        reproducibility contract: the same seed and block size give the same counts.
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
    samples: int | str = 1_000_000,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    sampler: str | Sampler | UserSampler | Callable[..., Any] = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[MaxTrickResult]:
    """Validate the input of :func:`maxtrick` (parameters as there) and return it ready to
    run; raises InputError, before any sampling, on anything invalid."""
    dist = categorical(pi, logits, normalize=normalize)
    config = RunConfig.create(
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    )
    chosen = resolve(sampler, "sampler")
    config.check_memory(chosen.bytes_per_sample(dist.k), chosen.block_size(dist.k))
    return Prepared(samples=config.samples, run=partial(run, dist, chosen, config))


def run(
    dist: Categorical,
    sampler: AnySampler,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> MaxTrickResult:
    """Run the max-trick check on validated input (see :func:`prepare`)."""
    plan = config.plan(sampler.block_size(dist.k))
    counts, outside = count_draws(
        sampler,
        dist,
        plan=plan,
        seed=config.seed,
        workers=config.workers,
        progress=progress,
        backend=config.backend,
    )
    gof = categorical_gof(counts, dist.p, alpha=config.alpha, seed=config.seed, outside=outside)
    return MaxTrickResult(
        null_hypothesis=null_hypothesis(sampler),
        pi=tuple(float(x) for x in dist.p),
        samples=config.samples,
        counts=tuple(int(c) for c in counts),
        noise=sampler.name,
        gof=gof,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=plan.block_size,
            noise=sampler.name,
            sampler_origin=sampler.origin,
        ),
    )
