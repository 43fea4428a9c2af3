"""Calibration of the max-trick check: the distribution of its p-values over replicates.

R independent seeded replicates of the check give R p-values. Under the null hypothesis
they follow the null distribution of the test's p-value: Uniform(0, 1) when the statistic is
continuous, but a discrete law at small N, where a KS test against Uniform(0, 1) would reject
a correct sampler. The reference is therefore simulated exactly: R counts drawn with
``rng.multinomial(N, pi)`` go through the same test (:func:`gumbelcheck.stats.categorical_gof`),
and the two samples of p-values are compared.

Seeds: replicate r of the sampler uses ``engine.child_seed(seed, 0, r)`` as its root seed
(its blocks then use the engine's usual per-block streams) and reference replicate r uses
``engine.child_seed(seed, 1, r)``.

Verdict
-------
Two second-level tests, each at level alpha / 2 (Bonferroni, so a correct sampler fails the
calibration with probability at most alpha):

* the two-sample Kolmogorov-Smirnov test of the replicate p-values against the reference
  p-values (scipy.stats.ks_2samp; valid for discrete p-values too, where it is conservative);
* Fisher's exact test of the rejection counts (replicates vs reference), which targets the
  false-alarm rate at alpha itself.

Both compare with the test's real null behaviour at this N rather than with its nominal
level. The rejection rate is also reported with its Clopper-Pearson interval and an exact
binomial test against alpha: these say whether the test's size is alpha (true for large N),
not whether the sampler is right, so they do not decide the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.checks.maxtrick import NULL_HYPOTHESIS, count_draws, null_hypothesis
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import MAX_SAMPLES, Categorical, categorical, parse_count
from gumbelcheck.core.result import ResultReport, Summary, log10
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import DEFAULT_SAMPLER, AnySampler, Sampler, UserSampler, resolve
from gumbelcheck.stats import CategoricalGof, categorical_gof

if TYPE_CHECKING:
    import pandas as pd

#: Probabilities at which the p-value quantiles are reported.
DECILES = tuple(round(0.1 * i, 1) for i in range(1, 10))

#: Source label of the exact multinomial reference replicates.
REFERENCE = "exact-multinomial"


@dataclass(frozen=True, kw_only=True, eq=False)
class CalibrationResult(ResultReport):
    """Result of :func:`calibrate`.

    Attributes
    ----------
    null_hypothesis : str
        What every replicate tests.
    pi : tuple of float
        Category probabilities.
    samples : int
        Draws N per replicate.
    replicates : int
        Number of replicates R (and of reference replicates).
    noise : str
        The sampler.
    alpha : float
        Level of every replicate's check and of the calibration.
    replicate_gofs, reference_gofs : tuple of CategoricalGof
        Every replicate's test, of the sampler and of the exact multinomial draws.
    replicate_seeds, reference_seeds : tuple of int
        Their root seeds.
    ks_statistic, ks_pvalue : float
        Two-sample KS test of the replicate p-values against the reference p-values.
    fisher_pvalue : float
        Fisher's exact test of the rejection counts, replicates vs reference.
    rate_low, rate_high : float
        Clopper-Pearson interval (confidence 1 - alpha) of the rejection rate.
    size_pvalue : float
        Exact two-sided binomial test of the rejection count against alpha.
    uniform_ks_statistic, uniform_ks_pvalue : float
        KS test of the replicate p-values against Uniform(0, 1): right only for continuous
        statistics (large N), reported for comparison.
    provenance : Provenance
        Root seed, block size, versions.
    """

    check: ClassVar[str] = "calibration"
    null_hypothesis: str = NULL_HYPOTHESIS
    pi: tuple[float, ...]
    samples: int
    replicates: int
    noise: str
    alpha: float
    replicate_gofs: tuple[CategoricalGof, ...] = field(repr=False)
    reference_gofs: tuple[CategoricalGof, ...] = field(repr=False)
    replicate_seeds: tuple[int, ...] = field(repr=False)
    reference_seeds: tuple[int, ...] = field(repr=False)
    ks_statistic: float
    ks_pvalue: float
    fisher_pvalue: float
    rate_low: float
    rate_high: float
    size_pvalue: float
    uniform_ks_statistic: float
    uniform_ks_pvalue: float
    provenance: provenance.Provenance = field(repr=False)

    @property
    def pvalues(self) -> NDArray[np.float64]:
        """The replicates' p-values."""
        return np.array([g.pvalue for g in self.replicate_gofs])

    @property
    def reference_pvalues(self) -> NDArray[np.float64]:
        """The exact multinomial replicates' p-values."""
        return np.array([g.pvalue for g in self.reference_gofs])

    @property
    def rejections(self) -> int:
        """Replicates whose check failed."""
        return sum(not g.passed for g in self.replicate_gofs)

    @property
    def reference_rejections(self) -> int:
        """Reference replicates whose check failed."""
        return sum(not g.passed for g in self.reference_gofs)

    @property
    def deciles(self) -> tuple[float, ...]:
        """The deciles of the replicate p-values (see :data:`DECILES`)."""
        return tuple(float(x) for x in np.quantile(self.pvalues, DECILES))

    @property
    def passed(self) -> bool:
        """True when neither second-level test rejects at alpha / 2."""
        return min(self.ks_pvalue, self.fisher_pvalue) >= self.alpha / 2

    def to_frame(self) -> pd.DataFrame:
        """One row per replicate and source (the sampler or the exact multinomial)."""
        import pandas as pd

        rows = []
        for source, gofs, seeds in (
            (self.noise, self.replicate_gofs, self.replicate_seeds),
            (REFERENCE, self.reference_gofs, self.reference_seeds),
        ):
            for r, (g, seed) in enumerate(zip(gofs, seeds, strict=True)):
                rows.append(
                    {
                        "replicate": r,
                        "source": source,
                        "seed": str(seed),
                        "rule": g.rule,
                        "statistic": g.statistic,
                        "df": g.df,
                        "pvalue": g.pvalue,
                        "log10_pvalue": g.log10_pvalue,
                        "rejected": not g.passed,
                    }
                )
        return pd.DataFrame(rows)

    def summary(self) -> Summary:
        """Verdict, second-level tests, rejection rate and the p-value deciles."""
        reasons = []
        if self.ks_pvalue < self.alpha / 2:
            reasons.append(f"KS p = {self.ks_pvalue:.3g} < alpha/2 = {self.alpha / 2:g}")
        if self.fisher_pvalue < self.alpha / 2:
            reasons.append(
                f"rejection rate {self.rejections}/{self.replicates} vs exact multinomial "
                f"{self.reference_rejections}/{self.replicates}: Fisher p = "
                f"{self.fisher_pvalue:.3g} < alpha/2 = {self.alpha / 2:g}"
            )
        decisive = min(self.ks_pvalue, self.fisher_pvalue)
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=False,  # decided by the two p-values alone
            null_hypothesis=self.null_hypothesis,
            rule="second-level",
            test="ks-2samp vs exact multinomial + fisher-exact",
            statistic=self.ks_statistic,
            df=None,
            pvalue=decisive,
            log10_pvalue=log10(decisive),
            alpha=self.alpha,
            effect=f"rejection rate {self.rejections / self.replicates:.3g}",
            mde="",
            samples=self.samples,
            reason="; ".join(reasons),
            figures={
                "replicates": self.replicates,
                "noise": self.noise,
                "ks_statistic": self.ks_statistic,
                "ks_pvalue": self.ks_pvalue,
                "fisher_pvalue": self.fisher_pvalue,
                "rejections": self.rejections,
                "rejection_rate": self.rejections / self.replicates,
                "rate_low": self.rate_low,
                "rate_high": self.rate_high,
                "size_pvalue": self.size_pvalue,
                "reference_rejections": self.reference_rejections,
                "uniform_ks_statistic": self.uniform_ks_statistic,
                "uniform_ks_pvalue": self.uniform_ks_pvalue,
                "pvalue_deciles": self.deciles,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(pi=self.pi, replicates_table=self.to_frame().to_dict(orient="records"))


def calibrate(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 10_000,
    replicates: int | str = 200,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    sampler: str | Sampler | UserSampler | Callable[..., Any] = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> CalibrationResult:
    """Run R seeded replicates of the max-trick check and test their p-values' distribution.

    Parameters
    ----------
    pi, logits, normalize
        The distribution, as for :func:`gumbelcheck.checks.maxtrick.maxtrick`.
    samples : int or str
        Draws N per replicate.
    replicates : int or str
        Number of replicates R (>= 2); as many exact multinomial replicates are drawn.
    seed : int, optional
        Root seed; replicate r uses ``engine.child_seed(seed, 0, r)``, reference replicate r
        ``engine.child_seed(seed, 1, r)``. Fresh entropy (recorded) when None.
    alpha : float
        Level of every replicate's check and of the calibration verdict.
    sampler : str, callable or Sampler
        The sampler under test, as for :func:`gumbelcheck.checks.maxtrick.maxtrick`.
    block_size : int, optional
        Samples per block (default: about 2**19 numbers per block).
    workers : int, optional
        Worker processes per replicate; all cores by default. The result does not depend on
        it.
    scheduler : str, optional
        Run the blocks on a Dask cluster: its scheduler's address (``tcp://host:8786``) or
        ``local:N`` (N local worker processes); by default the ``GUMBELCHECK_SCHEDULER``
        environment variable, or this machine. The result does not depend on it.
    progress : callable, optional
        Called with the number of samples finished after each block (R N in total).

    Returns
    -------
    CalibrationResult
        PASS when neither the two-sample KS test nor Fisher's exact test of the rejection
        counts rejects at alpha / 2 (see the module docstring).
    """
    return prepare(
        pi,
        logits=logits,
        normalize=normalize,
        samples=samples,
        replicates=replicates,
        seed=seed,
        alpha=alpha,
        sampler=sampler,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    ).run(progress)


#: Most replicates of one calibration (each keeps its test result in memory).
MAX_REPLICATES = 1_000_000


def prepare(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    samples: int | str = 10_000,
    replicates: int | str = 200,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    sampler: str | Sampler | UserSampler | Callable[..., Any] = DEFAULT_SAMPLER,
    block_size: int | str | None = None,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[CalibrationResult]:
    """Validate the input of :func:`calibrate` (parameters as there) and return it ready to
    run; raises InputError, before any sampling, on anything invalid."""
    dist = categorical(pi, logits, normalize=normalize)
    count = parse_count(replicates, "`replicates`", minimum=2, maximum=MAX_REPLICATES)
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
    if config.samples * count > MAX_SAMPLES:
        raise InputError(
            f"`replicates` {count:,} x `samples` {config.samples:,} draws exceed "
            f"{MAX_SAMPLES:,}; use fewer replicates or samples"
        )
    return Prepared(samples=config.samples * count, run=partial(run, dist, chosen, count, config))


def run(
    dist: Categorical,
    sampler: AnySampler,
    replicates: int,
    config: RunConfig,
    progress: Callable[[int], None] | None = None,
) -> CalibrationResult:
    """Run the calibration on validated input (see :func:`prepare`)."""
    from scipy import stats

    samples, seed, alpha, workers = config.samples, config.seed, config.alpha, config.workers
    plan = config.plan(sampler.block_size(dist.k))
    size = plan.block_size
    replicate_seeds = tuple(engine.child_seed(seed, 0, r) for r in range(replicates))
    reference_seeds = tuple(engine.child_seed(seed, 1, r) for r in range(replicates))
    replicate_gofs = []
    for s in replicate_seeds:
        counts, outside = count_draws(
            sampler,
            dist,
            plan=plan,
            seed=s,
            workers=workers,
            progress=progress,
            backend=config.backend,
        )
        replicate_gofs.append(
            categorical_gof(counts, dist.p, alpha=alpha, seed=s, outside=outside)
        )
    reference_gofs = [
        categorical_gof(
            engine.block_generator(s, 0).multinomial(samples, dist.p), dist.p, alpha=alpha, seed=s
        )
        for s in reference_seeds
    ]

    pvalues = np.array([g.pvalue for g in replicate_gofs])
    reference = np.array([g.pvalue for g in reference_gofs])
    rejections = sum(not g.passed for g in replicate_gofs)
    reference_rejections = sum(not g.passed for g in reference_gofs)
    ks = stats.ks_2samp(pvalues, reference)
    fisher = stats.fisher_exact(
        [
            [rejections, replicates - rejections],
            [reference_rejections, replicates - reference_rejections],
        ]
    )
    size_test = stats.binomtest(rejections, replicates, alpha)
    interval = size_test.proportion_ci(confidence_level=1 - alpha, method="exact")
    uniform = stats.kstest(pvalues, "uniform")
    return CalibrationResult(
        null_hypothesis=null_hypothesis(sampler),
        pi=tuple(float(x) for x in dist.p),
        samples=samples,
        replicates=replicates,
        noise=sampler.name,
        alpha=alpha,
        replicate_gofs=tuple(replicate_gofs),
        reference_gofs=tuple(reference_gofs),
        replicate_seeds=replicate_seeds,
        reference_seeds=reference_seeds,
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        fisher_pvalue=float(fisher.pvalue),
        rate_low=float(interval.low),
        rate_high=float(interval.high),
        size_pvalue=float(size_test.pvalue),
        uniform_ks_statistic=float(uniform.statistic),
        uniform_ks_pvalue=float(uniform.pvalue),
        provenance=provenance.collect(
            execution=config.execution(),
            seed=seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=size,
            noise=sampler.name,
            sampler_origin=sampler.origin,
        ),
    )
