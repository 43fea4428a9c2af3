"""The frameworks battery: the samplers of PyTorch, JAX and NumPy through one probe per
failure class that ships, in every dtype.

Probes (each with its N from a power calculation, and its own verdict at alpha / (number of
probes of the whole battery), Bonferroni, so that the battery's false-alarm rate is at most
alpha whatever is selected):

``bulk``
    pi = (0.1, 0.2, 0.7), the max-trick test; N catches TV >= :data:`BULK_TV` with power 0.9.
``logits 20``
    logits (20, 20.3, 21.1), the scale of a language model's: a low-precision dtype rounds
    them visibly (bfloat16 in steps of 0.125 there); N catches the total variation between
    the exact law and the rounded logits' law (computed exactly) with power 0.9, at most
    :data:`ROUNDING_MAX_SAMPLES`.
``zero``
    pi = (0.5, 0, 0.5): any draw on the zero-probability category is a hard failure.
``rare p``
    pi = (1 - p, p), the exact binomial test of the rare count; N is the smallest with power
    0.9 against a missing tail (tail-aware: the chi-square plan of a TV of p would ask orders
    of magnitude more).
``vocab``
    k = 262,144 logits, one head at 0 and the rest at -20.5 (tail mass 3.27e-4, computed
    exactly), the binomial test of the tail's share (inverse-cdf samplers only: a Gumbel-max
    sampler needs n x k random numbers).
``pairs``
    consecutive draws of one call are independent: Pearson's test of independence on the
    k x k table of the pairs (x_2i, x_2i+1) (noise reused across rows shows here and in no
    marginal test; a wrong marginal law alone does not fail it).
``streams``
    one seed gives the same draws twice, and two seeds different ones.

The samplers without replacement (``torch.multinomial(replacement=False)``,
``jax.random.choice(replace=False, p=...)``, numpy's ``choice(replace=False, p=...)``) take two
probes of their own, the ordered samples of size :data:`TOP_M` against the exact Plackett-Luce
law over every ordered pair (``topk``'s full test):

``plackett-luce``
    pi = :data:`TOP_PI`; N catches TV >= :data:`TOP_TV` over the ordered pairs with power 0.9.
``plackett-luce zero``
    pi = :data:`TOP_ZERO_PI`: a zero-weight category in a sample, or a repeated index, is a
    hard failure (the without-replacement bugs trackers are full of).

When a probe fails, its counts are tested again against the law of the *rounded* logits
(float64 logits rounded to the dtype, then an exact softmax): a pass there attributes the
failure to the dtype's rounding of the logits, a failure to the sampler itself.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.checks.maxtrick import count_draws
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical, categorical
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers.adapters import ADAPTERS, adapter, installed
from gumbelcheck.samplers.user import SEED_BOUND, UserSampler, user_sampler
from gumbelcheck.stats import (
    CategoricalGof,
    binomial_power,
    binomial_test,
    categorical_gof,
    chi2_test,
    pearson_statistic,
)

if TYPE_CHECKING:
    import pandas as pd

NULL_HYPOTHESIS = (
    "each framework sampler, in each dtype, draws from Categorical(softmax(logits)): "
    "its marginal law, its rare tail, its large-vocabulary tail, the independence of its "
    "draws and the determinism of its seed"
)

#: Total variation the bulk probe catches with power 0.9.
BULK_TV = 2e-3

#: The logits of the rounding probe, and its largest N (default run, --full).
ROUNDING_LOGITS = (20.0, 20.3, 21.1)
ROUNDING_MAX_SAMPLES, ROUNDING_MAX_SAMPLES_FULL = 10_000_000, 100_000_000

#: Rare-tail probabilities: the default run, and --full.
RARE = (1e-6,)
RARE_FULL = (1e-6, 1e-8)

#: The large-vocabulary probe: k, the head's and the tail's logits, draws (and with --full).
VOCAB_K, VOCAB_HEAD, VOCAB_TAIL = 2**18, 0.0, -20.5
VOCAB_SAMPLES, VOCAB_SAMPLES_FULL = 2_000_000, 20_000_000

#: Draws of the vocabulary probe for a Gumbel-max sampler (--full only): n x k = 1.3e10 random
#: numbers (about a minute), 16 tail draws expected.
VOCAB_GUMBEL_SAMPLES = 50_000

#: Draws of the pairs probe (10^6 pairs).
PAIRS_SAMPLES = 2_000_000

#: The Plackett-Luce probes of the samplers without replacement: weights, sample size, and the
#: total variation over the ordered samples their N catches (default run, --full).
TOP_PI, TOP_ZERO_PI, TOP_M = (0.4, 0.3, 0.2, 0.1), (0.5, 0.3, 0.0, 0.2), 2
TOP_TV, TOP_TV_FULL = 1e-2, 2e-3

#: Adapters that draw Gumbel noise for every category (cost n x k): no vocabulary probe.
GUMBEL_MAX = ("torch.gumbel_softmax", "jax.categorical")

#: Random numbers per block a Gumbel-max adapter may hold (its n x k noise).
GUMBEL_BLOCK_NUMBERS = 2**23


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """One probe of one sampler configuration.

    Attributes
    ----------
    sampler : str
        The adapter with its options (``torch.multinomial[float32,cpu]``).
    framework, version, dtype, mode, device : str
        What ran.
    probe : str
        ``bulk``, ``zero``, ``rare 1e-06``, ``vocab``, ``pairs``, ``streams``.
    samples : int
        Draws N (0 for ``streams``).
    plan : str
        Why this N: the power calculation, in words.
    test : str
        The deciding test.
    statistic, pvalue, log10_pvalue : float
        Its figures (NaN where the probe has none).
    alpha : float
        The probe's level (the battery's alpha, Bonferroni over the probes).
    passed : bool
        The probe's verdict.
    reason : str
        Why it failed; empty when it passed.
    cause : str
        For a failure: ``rounded logits`` when the counts fit the law of the logits rounded to
        the dtype, ``sampler`` when they do not, ``contract`` for draws outside the
        categories; empty otherwise.
    rounded_log10_pvalue : float
        The log10 p-value of the same counts against the rounded logits' law (NaN when not
        tested).
    """

    sampler: str
    framework: str
    version: str
    dtype: str
    mode: str
    device: str
    probe: str
    samples: int
    plan: str
    test: str
    statistic: float
    pvalue: float
    log10_pvalue: float
    alpha: float
    passed: bool
    reason: str
    cause: str = ""
    rounded_log10_pvalue: float = math.nan


@dataclass(frozen=True, kw_only=True, eq=False)
class FrameworksResult(ResultReport):
    """Result of :func:`frameworks`: one :class:`ProbeResult` per sampler and probe."""

    check: ClassVar[str] = "frameworks"
    null_hypothesis: str = NULL_HYPOTHESIS
    alpha: float
    probes: tuple[ProbeResult, ...]
    missing: tuple[str, ...]
    provenance: provenance.Provenance = field(repr=False)

    @property
    def passed(self) -> bool:
        """True when every probe passed."""
        return all(p.passed for p in self.probes)

    def to_frame(self) -> pd.DataFrame:
        """One row per sampler and probe."""
        import pandas as pd

        return pd.DataFrame([vars(p) for p in self.probes])

    def summary(self) -> Summary:
        """The battery as one check: FAIL when any probe failed (each at alpha / m)."""
        failed = [p for p in self.probes if not p.passed]
        worst = min(
            self.probes,
            key=lambda p: math.inf if math.isnan(p.log10_pvalue) else p.log10_pvalue,
        )
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=any(p.cause == "contract" for p in failed),
            null_hypothesis=self.null_hypothesis,
            rule=f"bonferroni(alpha / {self.alpha / self.probes[0].alpha:.0f})",
            test=f"{worst.sampler} {worst.probe}: {worst.test}",
            statistic=worst.statistic,
            df=None,
            pvalue=math.nan,
            log10_pvalue=math.nan,
            alpha=self.alpha,
            effect=f"{len(failed)}/{len(self.probes)} probes failed",
            mde="",
            samples=sum(p.samples for p in self.probes),
            reason="; ".join(f"{p.sampler} {p.probe}: {p.reason}" for p in failed),
            figures={
                "probes": len(self.probes),
                "failed": len(failed),
                "samplers": len({p.sampler for p in self.probes}),
                "missing_frameworks": ", ".join(self.missing),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(probes=[vars(p) for p in self.probes], missing=self.missing)


# Laws ----------------------------------------------------------------------------------------


def round_to(values: NDArray[np.float64], dtype: str) -> NDArray[np.float64]:
    """``values`` rounded to ``dtype`` (float64, float32, float16, bfloat16) and back, exactly
    as a framework's cast does (round to nearest even; bfloat16 from float32's top 16 bits)."""
    if dtype in ("float64", "float32", "float16"):
        with np.errstate(over="ignore"):
            return values.astype(dtype).astype(np.float64)
    if dtype == "bfloat16":
        bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
        finite = np.isfinite(values)
        rounding = 0x7FFF + ((bits >> 16) & 1)
        rounded = np.where(finite, (bits + rounding) & 0xFFFF0000, bits & 0xFFFF0000)
        return rounded.astype(np.uint32).view(np.float32).astype(np.float64)
    raise InputError(f"no rounding for dtype {dtype!r}")


def rounded_law(dist: Categorical, dtype: str) -> Categorical:
    """The exact law of the logits rounded to ``dtype``: softmax(round(log pi))."""
    return categorical(logits=round_to(dist.logp, dtype))


def vocab_distribution() -> Categorical:
    """The large vocabulary: one head logit and k - 1 equal tail logits (exact softmax)."""
    logits = np.full(VOCAB_K, VOCAB_TAIL)
    logits[0] = VOCAB_HEAD
    return categorical(logits=logits)


def rare_samples(p: float, alpha: float, power: float = 0.9) -> int:
    """The fewest draws whose exact binomial test of a rare bin of mass ``p`` detects the
    bin's absence (q = 0) with probability ``power`` at level ``alpha`` / 10: a tenfold
    margin, so that a missing tail fails clearly, not at the edge of the level (where the
    retest against the rounded logits' law could flip on a change of 1e-7 in p)."""
    level = alpha / 10
    n = max(16, math.ceil(math.log(2.0 / level) / -math.log1p(-p)))
    while binomial_power(n, p, 0.0, level) < power:
        n = math.ceil(n * 1.05)
    return n


# Probes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    """One sampler configuration under test."""

    sampler: UserSampler
    framework: str
    version: str
    dtype: str
    mode: str
    device: str
    gumbel_max: bool
    form: str = "indices"

    def row(self, **fields: Any) -> ProbeResult:
        return ProbeResult(
            sampler=self.sampler.name,
            framework=self.framework,
            version=self.version,
            dtype=self.dtype,
            mode=self.mode,
            device=self.device,
            **fields,
        )

    def gof_row(
        self, name: str, samples: int, plan: str, gof: CategoricalGof, cause: str,
        rounded: float, passed: bool | None = None, reason: str | None = None,
    ) -> ProbeResult:  # fmt: skip
        """The row of a probe decided by a goodness-of-fit test (its verdict and reason unless
        ``passed`` and ``reason`` say otherwise)."""
        return self.row(
            probe=name,
            samples=samples,
            plan=plan,
            test=gof.test,
            statistic=gof.statistic,
            pvalue=gof.pvalue,
            log10_pvalue=gof.log10_pvalue,
            alpha=gof.alpha,
            passed=gof.passed if passed is None else passed,
            reason=gof.reason if reason is None else reason,
            cause=cause,
            rounded_log10_pvalue=rounded,
        )


def _counts(
    config: _Config, dist: Categorical, samples: int, seed: int, workers: int
) -> tuple[NDArray[np.int64], int]:
    block = config.sampler.block_size(dist.k)
    if config.gumbel_max:
        block = max(1, min(block, GUMBEL_BLOCK_NUMBERS // dist.k))
    plan = engine.Plan(samples=samples, block_size=block)
    return count_draws(
        config.sampler, dist, plan=plan, seed=seed, workers=workers, progress=None
    )


def _attribute(
    config: _Config, law: Callable[[Categorical], float], dist: Categorical, alpha: float
) -> tuple[str, float]:
    """Test the failed probe's counts against the law of the logits rounded to the dtype (at
    the probe's own level): ``rounded logits`` when they fit it, ``sampler`` when not."""
    rounded = rounded_law(dist, config.dtype)
    log10_p = law(rounded)
    if np.array_equal(rounded.p, dist.p):  # rounding changes nothing: the sampler it is
        return "sampler", log10_p
    return ("rounded logits" if log10_p >= math.log10(alpha) else "sampler"), log10_p


def _bulk(config: _Config, seed: int, alpha: float, workers: int, dist: Categorical,
          samples: int, name: str, plan: str) -> ProbeResult:  # fmt: skip
    """The max-trick test of ``samples`` draws from ``dist``."""
    counts, outside = _counts(config, dist, samples, seed, workers)
    gof = categorical_gof(counts, dist.p, alpha=alpha, seed=seed, outside=outside)
    cause, rounded = "", math.nan
    if outside or gof.zero_probability_draws:
        cause = "contract"
    elif not gof.passed:

        def law(other: Categorical) -> float:
            return categorical_gof(counts, other.p, alpha=alpha, seed=seed).log10_pvalue

        cause, rounded = _attribute(config, law, dist, alpha)
    return config.gof_row(name, samples, plan, gof, cause, rounded)


def _tail(config: _Config, seed: int, alpha: float, workers: int, dist: Categorical,
          tail: NDArray[np.bool_], samples: int, name: str, plan: str) -> ProbeResult:  # fmt: skip
    """The exact binomial test of the draws that landed in ``tail``."""
    counts, outside = _counts(config, dist, samples, seed, workers)
    mass = math.fsum(dist.p[tail])
    hits = int(counts[tail].sum())
    pvalue, log10_p = binomial_test(hits, samples, mass)
    passed = log10_p >= math.log10(alpha) and not outside
    reason, cause, rounded = "", "", math.nan
    if outside:
        reason, cause = f"{outside} draws outside the categories", "contract"
    elif not passed:
        shown = f"{pvalue:.3g}" if pvalue > 0 else f"10^{log10_p:.1f}"
        reason = (
            f"{hits:,} draws in the tail where {samples * mass:,.1f} were expected "
            f"(mass {mass:.3g}); binomial p = {shown}"
        )

        def law(other: Categorical) -> float:
            return binomial_test(hits, samples, math.fsum(other.p[tail]))[1]

        cause, rounded = _attribute(config, law, dist, alpha)
    return config.row(
        probe=name,
        samples=samples,
        plan=plan,
        test="exact-binomial[tail]",
        statistic=float(hits),
        pvalue=pvalue,
        log10_pvalue=log10_p,
        alpha=alpha,
        passed=passed,
        reason=reason,
        cause=cause,
        rounded_log10_pvalue=rounded,
    )


@dataclass(frozen=True, eq=False)
class PairKernel:
    """Counts of the k^2 pairs (x_2i, x_2i+1) of each call's draws."""

    sampler: UserSampler
    dist: Categorical

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> NDArray[np.int64]:
        k = self.dist.k
        draws = self.sampler.indices(rng, self.dist, 2 * n, start)
        draws = np.where((draws >= 0) & (draws < k), draws, k)  # outside: one more symbol
        return np.bincount(draws[0::2] * (k + 1) + draws[1::2], minlength=(k + 1) ** 2)


def _pairs(config: _Config, seed: int, alpha: float, workers: int) -> ProbeResult:
    """Independence of consecutive draws: Pearson's test of independence on the k x k table
    of pairs (expected counts from the table's own margins, so a wrong marginal law, which
    the bulk probe judges, does not fail it)."""
    dist = categorical([0.1, 0.2, 0.7])
    k = dist.k
    plan = engine.Plan(samples=PAIRS_SAMPLES // 2, block_size=2**15)
    table = engine.run_blocks(
        plan, seed, PairKernel(config.sampler, dist), np.add, workers=workers
    ).reshape(k + 1, k + 1)
    outside = int(table[k].sum() + table[:, k].sum() - table[k, k])
    inner = table[:k, :k].astype(np.float64)
    rows, columns = inner.sum(axis=1), inner.sum(axis=0)
    keep_rows, keep_columns = rows > 0, columns > 0
    inner = inner[keep_rows][:, keep_columns]
    expected = np.outer(rows[keep_rows], columns[keep_columns]) / inner.sum()
    statistic = pearson_statistic(inner, expected)
    df = (inner.shape[0] - 1) * (inner.shape[1] - 1)
    log10_p = chi2_test("independence", statistic, df).log10_pvalue if df > 0 else 0.0
    passed = log10_p >= math.log10(alpha) and not outside
    reason = ""
    if outside:
        reason = f"{outside} draws outside the categories"
    elif not passed:
        reason = (
            f"pairs of one call are dependent: independence chi-square = {statistic:.4g}, "
            f"df = {df}, log10 p = {log10_p:.4g}"
        )
    return config.row(
        probe="pairs",
        samples=PAIRS_SAMPLES,
        plan="independence of (x_2i, x_2i+1): chi-square on the 3 x 3 table, df = 4",
        test="pearson-chi2-independence",
        statistic=statistic,
        pvalue=10.0**log10_p,
        log10_pvalue=log10_p,
        alpha=alpha,
        passed=passed,
        reason=reason,
        cause="contract" if outside else ("" if passed else "sampler"),
    )


def _streams(config: _Config, seed: int, alpha: float) -> ProbeResult:
    dist = categorical([0.25, 0.25, 0.25, 0.25])
    rng = engine.block_generator(engine.child_seed(seed, 7), 0)
    first, second = (int(s) for s in rng.integers(SEED_BOUND, size=2))
    a = config.sampler.indices_for_seed(dist, 4096, first)
    again = config.sampler.indices_for_seed(dist, 4096, first)
    other = config.sampler.indices_for_seed(dist, 4096, second)
    reasons = []
    if not np.array_equal(a, again):
        reasons.append("the same seed gave different draws: runs cannot be reproduced")
    if np.array_equal(a, other):
        reasons.append("two seeds gave the same 4,096 draws: the seed is ignored or reused")
    return config.row(
        probe="streams",
        samples=0,
        plan="4,096 draws: seed s twice, and another seed",
        test="identity of streams",
        statistic=math.nan,
        pvalue=math.nan,
        log10_pvalue=math.nan,
        alpha=alpha,
        passed=not reasons,
        reason="; ".join(reasons),
        cause="" if not reasons else "sampler",
    )


def _without_replacement(
    config: _Config, seed: int, alpha: float, workers: int, planned: _Planned, name: str
) -> ProbeResult:
    """``topk``'s full Plackett-Luce test of ``planned.samples`` ordered samples."""
    from gumbelcheck.checks import topk

    assert planned.dist is not None
    result = topk.prepare(
        planned.dist.p, m=TOP_M, samples=planned.samples, seed=seed, alpha=alpha, law="full",
        sampler=config.sampler, workers=workers,
    ).run()  # fmt: skip
    gof = result.gof
    assert gof is not None
    cause, rounded = "", math.nan
    if result.invalid_draws:
        cause = "contract"
    elif not gof.passed:
        tuples = np.asarray(result.tuples)
        counts = np.asarray(result.counts)

        def law(other: Categorical) -> float:
            expected = topk.plackett_luce(other.p, tuples)
            return categorical_gof(
                counts, expected / math.fsum(expected), alpha=alpha, seed=seed
            ).log10_pvalue

        cause, rounded = _attribute(config, law, planned.dist, alpha)
    return config.gof_row(
        name, planned.samples, planned.plan, gof, cause, rounded,
        passed=result.passed, reason=result.summary().reason,
    )  # fmt: skip


# The battery ---------------------------------------------------------------------------------


def _configs(only: Sequence[str]) -> tuple[list[_Config], list[str]]:
    """Every installed adapter configuration (dtype x mode, on the CPU) selected by ``only``
    (adapter names, framework names, or full names with options)."""
    configs, missing = [], []
    for base, info in ADAPTERS.items():
        version = installed(info.framework)
        if version is None:
            if info.framework not in missing:
                missing.append(info.framework)
            continue
        for dtype in info.dtypes:
            for mode in info.modes:
                options = ",".join(o for o in (dtype, mode) if o)
                name = f"{base}[{options}]"
                if only and not any(
                    sel in (base, info.framework)
                    or ("[" in sel and name.startswith(sel.rstrip("]")))
                    for sel in only
                ):
                    continue
                configs.append(
                    _Config(
                        sampler=adapter(name),
                        framework=info.framework,
                        version=version,
                        dtype=dtype,
                        mode=mode,
                        device="cpu",
                        gumbel_max=base in GUMBEL_MAX,
                        form=info.form,
                    )
                )
    return configs, missing


def _probes(config: _Config, full: bool) -> list[str]:
    return _probes_of(config.gumbel_max, full, config.form)


def _probes_of(gumbel_max: bool, full: bool, form: str = "indices") -> list[str]:
    if form == "top":
        return ["plackett-luce", "plackett-luce zero"]
    rare = (f"rare {p:g}" for p in (RARE_FULL if full else RARE))
    names = ["bulk", "logits 20", "zero", *rare]
    if not gumbel_max or full:
        names.append("vocab")
    return [*names, "pairs", "streams"]


@dataclass(frozen=True)
class _Planned:
    """What a probe draws from, how many, why, and which test decides."""

    dist: Categorical | None
    samples: int
    plan: str
    tail: NDArray[np.bool_] | None = None


def _plan_probe(
    dtype: str, probe: str, alpha: float, full: bool, gumbel_max: bool = False
) -> _Planned:
    """A probe's distribution and its N from the power calculation (see the module)."""
    from gumbelcheck.stats import detectable_noncentrality

    if probe in ("bulk", "zero", "logits 20"):
        dist = {
            "bulk": categorical([0.1, 0.2, 0.7]),
            "zero": categorical([0.5, 0.0, 0.5]),
            "logits 20": categorical(logits=list(ROUNDING_LOGITS)),
        }[probe]
        tv, cap, why = BULK_TV, None, ""
        if probe == "logits 20":
            shift = 0.5 * float(np.abs(rounded_law(dist, dtype).p - dist.p).sum())
            tv = shift if shift > 0 else BULK_TV
            cap = ROUNDING_MAX_SAMPLES_FULL if full else ROUNDING_MAX_SAMPLES
            why = " (the rounded logits' TV)" if shift > 0 else ""
        df = int(dist.support.sum()) - 1
        samples = math.ceil(detectable_noncentrality(df, alpha, 0.9) / (2 * tv) ** 2)
        plan = f"catches TV >= {tv:.3g}{why} with power 0.9 (chi-square, df = {df})"
        if cap is not None and samples > cap:
            samples, plan = cap, plan + f", capped at {cap:,}"
        return _Planned(dist, samples, plan)
    if probe.startswith("rare"):
        p = float(probe.split()[1])
        samples = rare_samples(p, alpha)
        plan = (
            f"power 0.9 against a missing tail (exact binomial); power against half the "
            f"mass: {binomial_power(samples, p, p / 2, alpha):.2f}"
        )
        return _Planned(categorical([1.0 - p, p]), samples, plan, np.array([False, True]))
    if probe == "vocab":
        dist = vocab_distribution()
        samples = VOCAB_SAMPLES_FULL if full else VOCAB_SAMPLES
        samples = VOCAB_GUMBEL_SAMPLES if gumbel_max else samples
        mass = math.fsum(dist.p[1:])
        plan = f"tail mass {mass:.4g} (exact): {samples * mass:,.0f} expected"
        return _Planned(dist, samples, plan, np.arange(dist.k) > 0)
    if probe.startswith("plackett-luce"):
        dist = categorical(list(TOP_ZERO_PI if probe.endswith("zero") else TOP_PI))
        df = math.perm(int(dist.support.sum()), TOP_M) - 1
        tv = TOP_TV_FULL if full else TOP_TV
        samples = math.ceil(detectable_noncentrality(df, alpha, 0.9) / (2 * tv) ** 2)
        plan = f"catches TV >= {tv:.3g} over the ordered samples with power 0.9 (df = {df})"
        return _Planned(dist, samples, plan)
    if probe == "pairs":
        return _Planned(None, PAIRS_SAMPLES, "")
    return _Planned(None, 0, "")


def _run_probe(
    config: _Config, probe: str, seed: int, alpha: float, workers: int, full: bool
) -> ProbeResult:
    planned = _plan_probe(config.dtype, probe, alpha, full, config.gumbel_max)
    if probe == "pairs":
        return _pairs(config, seed, alpha, workers)
    if probe == "streams":
        return _streams(config, seed, alpha)
    assert planned.dist is not None
    if probe.startswith("plackett-luce"):
        return _without_replacement(config, seed, alpha, workers, planned, probe)
    if planned.tail is not None:
        return _tail(config, seed, alpha, workers, planned.dist, planned.tail,
                     planned.samples, probe, planned.plan)  # fmt: skip
    return _bulk(config, seed, alpha, workers, planned.dist, planned.samples, probe, planned.plan)


def frameworks(
    *,
    only: Sequence[str] | str = (),
    samplers: Sequence[Callable[..., Any] | tuple[Callable[..., Any], str]] = (),
    full: bool = False,
    seed: int | str = 0,
    alpha: float | str = 0.01,
    workers: int | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> FrameworksResult:
    """Run every installed framework sampler (and ``samplers``) through the battery.

    Parameters
    ----------
    only : str or sequence of str
        Select adapters: ``torch``, ``torch.multinomial``, ``torch.multinomial[float32``...
    samplers : sequence of callable or (callable, dtype)
        Extra samplers ``function(logits, n, seed)`` (your own, or deliberately broken ones)
        to run through the same probes; a dtype (``bfloat16``...) says what the function
        rounds the logits to, for the attribution of a failure (float64 by default).
    full : bool
        The heavier probes too: the 1e-8 tail (about 10^9 draws per sampler), a larger
        vocabulary sample, and the vocabulary probe for Gumbel-max samplers.
    seed : int
        Root seed; every probe's seed derives from it.
    alpha : float
        The battery's family-wise level; each probe is tested at alpha / (number of probes of
        the whole battery, plus those of ``samplers``), so that a probe's level and N are the
        same whichever adapters are selected or installed.
    workers : int, optional
        Workers; the result does not depend on it.
    progress : callable, optional
        Called with the probe's draws after each probe.

    Returns
    -------
    FrameworksResult
    """
    return prepare(
        only=only, samplers=samplers, full=full, seed=seed, alpha=alpha, workers=workers
    ).run(progress)


def prepare(
    *,
    only: Sequence[str] | str = (),
    samplers: Sequence[Callable[..., Any] | tuple[Callable[..., Any], str]] = (),
    full: bool = False,
    seed: int | str = 0,
    alpha: float | str = 0.01,
    workers: int | str | None = None,
) -> Prepared[FrameworksResult]:
    """Validate the input of :func:`frameworks` and return it ready to run."""
    selection = [s for s in ([only] if isinstance(only, str) else only) if s]
    config = RunConfig.create(samples=1, seed=seed, alpha=alpha, workers=workers)
    configs, missing = _configs(selection)
    if not samplers and {"torch", "jax"} <= set(missing):
        raise InputError(
            "neither torch nor jax is installed; run pip install 'gumbelcheck[torch]' "
            "and/or 'gumbelcheck[jax]' (numpy.choice alone is not a framework battery)"
        )
    for entry in samplers:
        # A user's sampler may hold n x k noise like a Gumbel-max one: no vocabulary probe.
        function, dtype = entry if isinstance(entry, tuple) else (entry, "float64")
        wrapped = user_sampler(function)
        configs.append(_Config(wrapped, "user", "-", dtype, "", "cpu", gumbel_max=True))
    if selection and not configs:
        raise InputError(
            f"`only` {', '.join(selection)} selects no installed adapter; choose from "
            f"{', '.join(ADAPTERS)}"
        )
    plan = [(c, p) for c in configs for p in _probes(c, full)]
    # Bonferroni over every probe the whole battery has (whatever is installed or selected,
    # plus the user's samplers): a probe's level, N and seed do not depend on --only.
    users = [c for c in configs if c.framework == "user"]
    family = _battery_size(full) + sum(len(_probes(c, full)) for c in users)
    level = config.alpha / family
    draws = sum(_plan_probe(c.dtype, p, level, full, c.gumbel_max).samples for c, p in plan)
    return Prepared(
        samples=draws,
        run=partial(_run, tuple(plan), tuple(missing), full, config, family),
    )


def _battery_size(full: bool) -> int:
    """Probes of the whole battery: every adapter configuration, installed or not."""
    size = 0
    for base, info in ADAPTERS.items():
        per = len(_probes_of(base in GUMBEL_MAX, full, info.form))
        size += per * len(info.dtypes) * len(info.modes)
    return size


def _run(
    plan: tuple[tuple[_Config, str], ...],
    missing: tuple[str, ...],
    full: bool,
    config: RunConfig,
    family: int,
    progress: Callable[[int], None] | None = None,
) -> FrameworksResult:
    level = config.alpha / max(1, family)
    rows = []
    for sampler_config, probe in plan:
        # A probe's seed depends on what it is, not on what else runs: --only reproduces
        # the rows of a full run.
        key = zlib.crc32(f"{sampler_config.sampler.name} {probe}".encode())
        seed = engine.child_seed(config.seed, key)
        rows.append(_run_probe(sampler_config, probe, seed, level, config.workers, full))
        if progress is not None:
            progress(rows[-1].samples)
    return FrameworksResult(
        alpha=config.alpha,
        probes=tuple(rows),
        missing=missing,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=0,
            noise="frameworks",
            sampler_origin=", ".join(
                sorted({f"{c.framework} {c.version}" for c, _ in plan})
            ),
        ),
    )
