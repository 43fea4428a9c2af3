"""Gumbel-top-k: the indices of the m largest ln w_i + g_i are an ordered sample of size m
without replacement with the Plackett-Luce law,

    P(i_1, ..., i_m) = prod_j pi_{i_j} / (1 - pi_{i_1} - ... - pi_{i_{j-1}}).

The check draws n ordered m-tuples on the block engine (or from a user's sampler returning
n x m indices) and tests their counts against that exact law over its full support: every
ordered tuple of distinct categories with positive weight (at most :data:`MAX_TUPLES`). A
tuple with a repeated index or a zero-weight category is a hard failure. The report also
gives the exact inclusion probabilities P(i in the sample), which are not proportional to the
weights: the law tested is Plackett-Luce's, not "inclusion proportional to w".
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
from gumbelcheck.stats import CategoricalGof, categorical_gof

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = (
    "the indices of the m largest ln w_i + g_i, g_i iid Gumbel(0, 1), are an ordered sample "
    "without replacement with the Plackett-Luce law prod_j pi_ij / (1 - sum_{l<j} pi_il)"
)

#: Most ordered tuples the full-support test enumerates (k! / (k - m)! of them).
MAX_TUPLES = 20_000

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
        if self.sampler is not None:
            top = self.sampler.top(rng, self.dist, n, m, start)
        else:
            top = _gumbel_top(rng, self.dist, n, m, self.noise)
        top = np.where((top >= 0) & (top < k), top, k)  # outside: the extra digit k
        codes = np.zeros(n, dtype=np.int64)
        for j in range(m):
            codes = codes * (k + 1) + top[:, j]
        return np.bincount(codes, minlength=(k + 1) ** m).astype(np.int64)


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


@dataclass(frozen=True, kw_only=True, eq=False)
class TopKResult(ResultReport):
    """Result of :func:`topk`."""

    check: ClassVar[str] = "topk"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    m: int
    samples: int
    noise: str
    tuples: tuple[tuple[int, ...], ...]
    expected: tuple[float, ...]
    counts: tuple[int, ...]
    invalid_draws: int
    inclusion: tuple[float, ...]
    observed_inclusion: tuple[float, ...]
    gof: CategoricalGof
    provenance: provenance.Provenance = field(repr=False)

    @property
    def passed(self) -> bool:
        """True when the Plackett-Luce test passes and no tuple was invalid."""
        return self.gof.passed and self.invalid_draws == 0

    def to_frame(self) -> pd.DataFrame:
        """One row per ordered tuple of the support."""
        import pandas as pd

        return pd.DataFrame(
            {
                "tuple": [" ".join(map(str, t)) for t in self.tuples],
                "probability": self.expected,
                "expected": np.asarray(self.expected) * self.samples,
                "observed": self.counts,
                "residual": self.gof.residual,
            }
        )

    def summary(self) -> Summary:
        """The Plackett-Luce test, the invalid tuples, the effect size."""
        g = self.gof
        reasons = [g.reason] if g.reason else []
        if self.invalid_draws:
            reasons.append(
                f"{self.invalid_draws} samples with a repeated index, an index outside the "
                "categories or a zero-weight category"
            )
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=self.invalid_draws > 0,
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
            reason="; ".join(reasons),
            figures={
                "m": self.m,
                "tuples": len(self.tuples),
                "invalid_draws": self.invalid_draws,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(
            pi=self.pi,
            m=self.m,
            noise=self.noise,
            inclusion=self.inclusion,
            observed_inclusion=self.observed_inclusion,
            tuples=self.to_frame().to_dict(orient="records"),
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
    noise: str = "gumbel",
    sampler: str | Callable[..., Any] | None = None,
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
    noise : str
        The engine's way: ``gumbel`` (exact), ``gumbel-scale-1.05`` or ``with-replacement``
        (m independent Gumbel-max draws) to watch the check fail.
    sampler : str or callable, optional
        A user's sampler ``function(logits, n, seed, m)`` returning n x m indices
        (``module:function``, ``file.py:function`` or a callable), instead of the engine's.

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
    noise: str = "gumbel",
    sampler: str | Callable[..., Any] | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[TopKResult]:
    """Validate the input of :func:`topk` and return it ready to run."""
    from gumbelcheck.samplers.user import load_user_sampler, user_sampler

    dist = categorical(pi, logits, normalize=normalize)
    size = parse_count(m, "`m`")
    support = int(dist.support.sum())
    if size > support:
        raise InputError(
            f"`m` {size} exceeds the {support} categories with positive weight; a sample "
            "without replacement cannot be larger"
        )
    tuples = math.perm(support, size)
    if tuples > MAX_TUPLES or (dist.k + 1) ** size > 2**20:
        raise InputError(
            f"`m` {size} of {support} categories has {tuples:,} ordered tuples; the full "
            f"Plackett-Luce test enumerates at most {MAX_TUPLES:,} (use a smaller m or k)"
        )
    if noise not in NOISES:
        raise InputError(f"`noise` {noise!r} is not known; choose one of {', '.join(NOISES)}")
    user = None
    if sampler is not None:
        user = load_user_sampler(sampler) if isinstance(sampler, str) else user_sampler(sampler)
    config = RunConfig.create(
        samples=samples, seed=seed, alpha=alpha, workers=workers, scheduler=scheduler
    )
    config.check_memory(16 * dist.k * size, engine.default_block_size(dist.k))
    return Prepared(samples=config.samples, run=partial(run, dist, size, noise, user, config))


def run(
    dist: Categorical,
    m: int,
    noise: str,
    user: Any,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> TopKResult:
    """Run the check on validated input (see :func:`prepare`)."""
    k = dist.k
    block = engine.default_block_size(k)
    table = engine.run_blocks(
        engine.Plan(samples=config.samples, block_size=block),
        config.seed,
        TopKernel(dist, m, noise, user),
        np.add,
        workers=config.workers,
        backend=config.backend,
        progress=progress,
    )
    positive = np.flatnonzero(dist.support)
    tuples = np.array(list(itertools.permutations(positive, m)), dtype=np.intp).reshape(-1, m)
    codes = np.zeros(len(tuples), dtype=np.int64)
    for j in range(m):
        codes = codes * (k + 1) + tuples[:, j]
    counts = table[codes]
    expected = plackett_luce(dist.p, tuples)
    invalid = int(config.samples - counts.sum())
    law = expected / math.fsum(expected)
    gof = categorical_gof(counts, law, alpha=config.alpha, seed=config.seed)
    inclusion = np.zeros(k)
    observed = np.zeros(k)
    for j in range(m):
        np.add.at(inclusion, tuples[:, j], expected)
        np.add.at(observed, tuples[:, j], counts / config.samples)
    return TopKResult(
        pi=tuple(float(x) for x in dist.p),
        m=m,
        samples=config.samples,
        noise=user.name if user is not None else noise,
        tuples=tuple(tuple(int(i) for i in t) for t in tuples),
        expected=tuple(float(x) for x in expected),
        counts=tuple(int(c) for c in counts),
        invalid_draws=invalid,
        inclusion=tuple(float(x) for x in inclusion),
        observed_inclusion=tuple(float(x) for x in observed),
        gof=gof,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=block,
            noise=user.name if user is not None else noise,
            sampler_origin=user.origin if user is not None else "built-in",
        ),
    )
