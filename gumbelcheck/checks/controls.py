"""Negative and positive controls: the max-trick check run with samplers known to be wrong.

A verifier is only as good as its ability to fail. Every control is a sampler, a probability
vector and a sample size. For each one this module computes the category probabilities the
sampler really draws from (closed form, numerical quadrature, or exact enumeration of its
noise), the effect size of those probabilities against pi, the power the check has at the
chosen N and alpha, and then runs the ordinary :func:`gumbelcheck.checks.maxtrick.maxtrick`
check with that sampler. Wrong samplers must be rejected and exact ones must pass; a second
test per control compares the observed counts with the computed true probabilities, which
validates the computation itself.

How the true probabilities are obtained
---------------------------------------
``gumbel-scale-s``
    argmax_i(ln pi_i + s G_i) = argmax_i(ln pi_i / s + G_i) samples proportional to
    pi^(1/s) (closed form).
``noise-on-pi``
    argmax_i(pi_i + G_i) is exactly Categorical(softmax(pi)) (closed form).
``gaussian``, ``logistic``, ``left-gumbel``
    P(i wins) = integral f(x - l_i) prod_{j != i} F(x - l_j) dx with l = ln pi, evaluated
    with adaptive Gauss-Kronrod quadrature (scipy.integrate.quad, absolute tolerance 1e-14)
    in log space over the range where the noise density exceeds ~1e-20.
``float32``
    float32 uniforms take the 2^24 values m 2^-24, m = 0 .. 2^24 - 1, each with probability
    2^-24; the sampler's float32 scores l_i + g(m) are enumerated for every m and the win
    probabilities follow exactly by counting (ties go to the lowest index, as in argmax).
``clamped``
    The noise is min(G, c) with c = -ln(-ln 0.999): the quadrature above over the continuous
    part plus the atom of mass 1 - 0.999 at c (the uniforms' 2^-53 grid is ignored).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck import engine
from gumbelcheck.checks import maxtrick
from gumbelcheck.checks.maxtrick import MaxTrickResult
from gumbelcheck.core import provenance
from gumbelcheck.core.params import categorical, parse_count
from gumbelcheck.core.result import ResultReport, Summary
from gumbelcheck.core.run import Prepared, RunConfig
from gumbelcheck.samplers import CLAMP, SAMPLERS, Sampler, float32_noise
from gumbelcheck.stats import CategoricalGof, binomial_power, categorical_gof, power

if TYPE_CHECKING:
    import pandas as pd

#: Samples per block of every control (recorded in the provenance).
BLOCK_SIZE = 2**18

# --- The probabilities a sampler really draws from -----------------------------------------


@dataclass(frozen=True)
class NoiseLaw:
    """A continuous noise distribution for :func:`quadrature_probabilities`.

    Attributes
    ----------
    name : str
        Name of the distribution.
    logpdf, logcdf : callable
        Scalar log density and log distribution function.
    lower, upper : float
        Interval outside which the density is below ~1e-20 (the integration range).
    """

    name: str
    logpdf: Callable[[float], float]
    logcdf: Callable[[float], float]
    lower: float
    upper: float


def _log1pexp(x: float) -> float:
    """ln(1 + e^x) without overflow."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _left_gumbel_logcdf(x: float) -> float:
    e = math.exp(x)  # P(-G <= x) = 1 - exp(-e^x), ~e^x in the left tail
    return math.log(-math.expm1(-e)) if e > 0 else -math.inf


def _gumbel_logpdf(x: float) -> float:
    return -x - math.exp(-x) if x > -700 else -math.inf


def _gumbel_logcdf(x: float) -> float:
    return -math.exp(-x) if x > -700 else -math.inf


def _normal_logcdf(x: float) -> float:
    from scipy import special

    return float(special.log_ndtr(x))


LAWS: dict[str, NoiseLaw] = {
    law.name: law
    for law in (
        NoiseLaw(
            "gumbel", _gumbel_logpdf, _gumbel_logcdf, -4.0, 50.0
        ),  # the right law: quadrature returns pi
        NoiseLaw(
            "normal",
            lambda x: -0.5 * x * x - 0.5 * math.log(2.0 * math.pi),
            _normal_logcdf,
            -10.0,
            10.0,
        ),
        NoiseLaw("logistic", lambda x: -x - 2.0 * _log1pexp(-x), lambda x: -_log1pexp(-x), -50, 50),
        NoiseLaw("left-gumbel", lambda x: x - math.exp(x), _left_gumbel_logcdf, -50.0, 4.0),
    )
}


def quadrature_probabilities(
    pi: NDArray[np.float64], law: NoiseLaw, cap: float | None = None
) -> NDArray[np.float64]:
    """P(argmax_i(ln pi_i + g_i) = i) for iid noise g_i of the continuous law ``law``.

    P(i) = integral f(x - l_i) prod_{j != i} F(x - l_j) dx, l = ln pi, by adaptive
    quadrature in log space. With ``cap`` the noise is min(g, cap): its atom of mass
    1 - F(cap) at ``cap`` is added exactly. Every pi_i must be positive and the ln pi_i
    distinct when ``cap`` is given (ties between atoms are not resolved).
    """
    from scipy import integrate

    logp = np.log(np.asarray(pi, dtype=np.float64))
    k = logp.size
    atom_log_mass = math.log(-math.expm1(law.logcdf(cap))) if cap is not None else -math.inf

    def logcdf_capped(y: float) -> float:
        return 0.0 if cap is not None and y > cap else law.logcdf(y)

    out = np.empty(k)
    for i in range(k):
        others = [float(logp[i] - logp[j]) for j in range(k) if j != i]

        def integrand(x: float, i: int = i, others: list[float] = others) -> float:
            log_value = law.logpdf(x) + sum(logcdf_capped(x + d) for d in others)
            return math.exp(log_value) if log_value > -745.0 else 0.0

        upper = law.upper if cap is None else min(law.upper, cap)
        breaks = [] if cap is None else [cap - d for d in others if law.lower < cap - d < upper]
        value, _ = integrate.quad(
            integrand,
            law.lower,
            upper,
            points=breaks or None,
            epsabs=1e-14,
            epsrel=1e-12,
            limit=500,
        )
        if cap is not None:
            value += math.exp(atom_log_mass + sum(logcdf_capped(cap + d) for d in others))
        out[i] = value
    return out


@functools.lru_cache(maxsize=1)
def _float32_noise_sorted() -> NDArray[np.float32]:
    """The sampler's noise for all 2^24 float32 uniforms m 2^-24, sorted.

    Computed with the sampler's own float32 operations; sorted because numpy's float32
    logarithm is not exactly monotone.
    """
    u = np.arange(2**24, dtype=np.float32)
    u *= np.float32(2.0**-24)
    return np.sort(float32_noise(u))


def float32_probabilities(pi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact win probabilities of the ``float32`` sampler by enumerating its 2^24 uniforms.

    Category i's score takes the values fl32(ln pi_i) + g(m), each with probability 2^-24;
    P(i) = sum over its values x of P(s_i = x) prod_{j < i} P(s_j < x) prod_{j > i}
    P(s_j <= x) (argmax breaks ties to the lowest index). Rounded addition is monotone, so
    every score array inherits the order of the sorted noise.
    """
    g = _float32_noise_sorted()
    logp = np.log(np.asarray(pi, dtype=np.float64)).astype(np.float32)
    scores = [lp + g for lp in logp]
    out = np.empty(logp.size)
    for i, s in enumerate(scores):
        first = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
        values = s[first]
        weight = np.diff(np.append(first, s.size)).astype(np.float64)
        for j, other in enumerate(scores):
            if j != i:
                side = "left" if j < i else "right"
                weight *= np.searchsorted(other, values, side=side) / other.size
        out[i] = weight.sum() / s.size
    return out


def _scaled(scale: float) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    def probabilities(pi: NDArray[np.float64]) -> NDArray[np.float64]:
        q = np.exp(np.log(pi) / scale)
        return q / q.sum()

    return probabilities


def _softmax(pi: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.exp(pi - pi.max())
    return q / q.sum()


def _identity(pi: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array(pi, dtype=np.float64)


def _quadrature(law: str, cap: float | None = None) -> Callable[[NDArray], NDArray]:
    return functools.partial(quadrature_probabilities, law=LAWS[law], cap=cap)


# --- The controls --------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One control: a sampler, the distribution it is run on, and what must happen.

    Attributes
    ----------
    name : str
        Identifier of the control.
    sampler : Sampler
        The sampler under test.
    pi : tuple of float
        Category probabilities of the check.
    samples : int
        Default number of draws N.
    expected_verdict : str
        ``PASS`` for exact samplers, ``FAIL`` for wrong ones.
    method : str
        How :meth:`true_probabilities` is obtained.
    law : callable
        Maps pi to the probabilities the sampler really draws from.
    """

    name: str
    sampler: Sampler
    pi: tuple[float, ...]
    samples: int
    expected_verdict: str
    method: str
    law: Callable[[NDArray[np.float64]], NDArray[np.float64]] = field(repr=False)

    def true_probabilities(self) -> NDArray[np.float64]:
        """The category probabilities the sampler really draws from."""
        return self.law(np.asarray(self.pi, dtype=np.float64))


_PI3 = (0.1, 0.2, 0.7)
_M = 1_000_000

#: The controls `gumbelcheck controls` runs, in order.
CONTROLS: tuple[Control, ...] = (
    Control("race", SAMPLERS["race"], _PI3, _M, "PASS", "exact: pi", _identity),
    Control("reference", SAMPLERS["reference"], _PI3, _M, "PASS", "exact: pi", _identity),
    Control(
        "gaussian", SAMPLERS["gaussian"], _PI3, _M, "FAIL", "quadrature", _quadrature("normal")
    ),
    Control(
        "logistic",
        SAMPLERS["logistic"],
        _PI3,
        _M,
        "FAIL",
        "quadrature",
        _quadrature("logistic"),
    ),
    Control(
        "gumbel-scale-2",
        SAMPLERS["gumbel-scale-2"],
        _PI3,
        _M,
        "FAIL",
        "closed form: pi^(1/2), normalized",
        _scaled(2.0),
    ),
    Control(
        "gumbel-scale-1.05",
        SAMPLERS["gumbel-scale-1.05"],
        _PI3,
        _M,
        "FAIL",
        "closed form: pi^(1/1.05), normalized",
        _scaled(1.05),
    ),
    Control(
        # k >= 3: for two categories the left-Gumbel convention is exact (the difference of
        # two iid Gumbels is logistic, a symmetric law).
        "left-gumbel",
        SAMPLERS["left-gumbel"],
        _PI3,
        _M,
        "FAIL",
        "quadrature",
        _quadrature("left-gumbel"),
    ),
    Control(
        "noise-on-pi",
        SAMPLERS["noise-on-pi"],
        _PI3,
        _M,
        "FAIL",
        "closed form: softmax(pi)",
        _softmax,
    ),
    Control(
        # The floor 2^-24: category 1 wins only when category 0's U is exactly 0, with
        # probability 2^-24 (1 - 2^-24) = 5.96e-8 instead of 1e-9.
        "float32-rare",
        SAMPLERS["float32"],
        (1.0 - 1e-9, 1e-9),
        200_000_000,
        "FAIL",
        "exact enumeration of the 2^24 float32 uniforms",
        float32_probabilities,
    ),
    Control(
        "clamped",
        SAMPLERS["clamped"],
        (0.999, 0.001),
        _M,
        "FAIL",
        "quadrature + atom at the cap",
        _quadrature("gumbel", cap=-math.log(-math.log(CLAMP))),
    ),
)


# --- Power ---------------------------------------------------------------------------------


def predicted_power(
    pi: NDArray[np.float64], q: NDArray[np.float64], samples: int, alpha: float, rule: str
) -> tuple[float, str]:
    """Power of the check's test against true probabilities ``q``, and how it was computed.

    Under the ``rare-bins-binomial`` rule with two categories the decision is the exact
    binomial test of the rare bin, whose power is computed exactly; otherwise the
    noncentral chi-square power of Pearson's test with df = k - 1 (approximate under the
    rules other than ``cochran``).
    """
    if rule == "rare-bins-binomial" and pi.size == 2:
        rare = int(np.argmin(pi))
        return binomial_power(samples, float(pi[rare]), float(q[rare]), alpha), "exact-binomial"
    w = float(np.sqrt(np.sum((q - pi) ** 2 / pi)))
    method = "noncentral-chi2" if rule == "cochran" else "noncentral-chi2 (approximate)"
    return power(w, pi.size - 1, samples, alpha), method


# --- Results -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class ControlOutcome:
    """One control's run.

    Attributes
    ----------
    control : Control
        What was run.
    true_probabilities : tuple of float
        The probabilities the sampler really draws from (see ``control.method``).
    cohen_w_true, tv_true : float
        Cohen's w and total variation of ``true_probabilities`` against pi.
    predicted_power : float
        Probability that the check rejects, given the true probabilities, N and alpha.
    power_method : str
        ``noncentral-chi2`` or ``exact-binomial`` (see :func:`predicted_power`).
    result : MaxTrickResult
        The ordinary max-trick check of the control's sampler.
    consistency : CategoricalGof
        The observed counts tested against ``true_probabilities``: a pass validates the
        computed probabilities. Informational; it does not enter the verdict.
    """

    control: Control
    true_probabilities: tuple[float, ...]
    cohen_w_true: float
    tv_true: float
    predicted_power: float
    power_method: str
    result: MaxTrickResult
    consistency: CategoricalGof

    @property
    def verdict(self) -> str:
        """The max-trick check's verdict, ``PASS`` or ``FAIL``."""
        return self.result.verdict

    @property
    def matched(self) -> bool:
        """True when the verdict is the expected one."""
        return self.verdict == self.control.expected_verdict

    def row(self) -> dict[str, Any]:
        """The control as one flat row of the table."""
        g = self.result.gof
        return {
            "control": self.control.name,
            "sampler": self.control.sampler.name,
            "exact": self.control.sampler.exact,
            "pi": " ".join(f"{x:.10g}" for x in self.control.pi),
            "samples": self.result.samples,
            "seed": self.result.provenance.seed,
            "method": self.control.method,
            "true_probabilities": " ".join(f"{x:.10g}" for x in self.true_probabilities),
            "cohen_w_true": self.cohen_w_true,
            "tv_true": self.tv_true,
            "predicted_power": self.predicted_power,
            "power_method": self.power_method,
            "counts": " ".join(str(c) for c in self.result.counts),
            "rule": g.rule,
            "test": g.test,
            "statistic": g.statistic,
            "df": g.df,
            "pvalue": g.pvalue,
            "log10_pvalue": g.log10_pvalue,
            "verdict": self.verdict,
            "expected_verdict": self.control.expected_verdict,
            "matched": self.matched,
            "consistency_pvalue": self.consistency.pvalue,
        }


@dataclass(frozen=True, kw_only=True, eq=False)
class ControlsResult(ResultReport):
    """Result of :func:`controls`.

    Attributes
    ----------
    null_hypothesis : str
        What each control's check tests.
    alpha : float
        Significance level of every check.
    outcomes : tuple of ControlOutcome
        One per control, in :data:`CONTROLS` order.
    provenance : Provenance
        Root seed (control i uses ``engine.child_seed(seed, i)``), block size, versions.
    """

    check: ClassVar[str] = "controls"
    null_hypothesis: str = (
        "each exact sampler passes the max-trick check and each wrong sampler is rejected"
    )
    alpha: float
    outcomes: tuple[ControlOutcome, ...]
    provenance: provenance.Provenance = field(repr=False)

    @property
    def passed(self) -> bool:
        """True when every control's verdict is the expected one."""
        return all(o.matched for o in self.outcomes)

    def to_frame(self) -> pd.DataFrame:
        """One row per control."""
        import pandas as pd

        return pd.DataFrame([o.row() for o in self.outcomes])

    def summary(self) -> Summary:
        """Verdict and how many controls behaved as expected."""
        matched = sum(o.matched for o in self.outcomes)
        wrong = [o for o in self.outcomes if o.control.expected_verdict == "FAIL"]
        mismatched = [
            f"{o.control.name} {o.verdict} (expected {o.control.expected_verdict})"
            for o in self.outcomes
            if not o.matched
        ]
        lowest_power = min((o.predicted_power for o in wrong), default=math.nan)
        return Summary(
            check=self.check,
            verdict=self.verdict,
            # A control whose verdict is not the expected one is no p-value to correct.
            hard_failure=not self.passed,
            null_hypothesis=self.null_hypothesis,
            rule="expected verdicts",
            test="max-trick check per control",
            statistic=float(matched),
            df=None,
            pvalue=math.nan,
            log10_pvalue=math.nan,
            alpha=self.alpha,
            effect=f"{matched}/{len(self.outcomes)} as expected",
            mde=f"every wrong sampler with predicted power >= {lowest_power:.4f}",
            samples=sum(o.result.samples for o in self.outcomes),
            reason="; ".join(mismatched),
            figures={
                "controls": len(self.outcomes),
                "matched": matched,
                "wrong_rejected": sum(o.matched for o in wrong),
                "wrong": len(wrong),
                "min_predicted_power_wrong": lowest_power,
                "min_consistency_pvalue": min(o.consistency.pvalue for o in self.outcomes),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-compatible types."""
        return self._json(controls_table=self.to_frame().to_dict(orient="records"))


def run_control(
    control: Control, config: RunConfig, progress: Callable[[int], None] | None = None
) -> ControlOutcome:
    """Run one control: compute its true probabilities and run the max-trick check.

    ``config`` gives the control's seed, N, alpha, block size and workers.
    """
    pi = np.asarray(control.pi, dtype=np.float64)
    q = control.true_probabilities()
    result = maxtrick.run(categorical(pi), control.sampler, config, progress)
    samples, alpha = config.samples, config.alpha
    power, method = predicted_power(pi, q, samples, alpha, result.gof.rule)
    consistency = categorical_gof(np.asarray(result.counts), q, alpha=alpha, seed=config.seed)
    return ControlOutcome(
        control=control,
        true_probabilities=tuple(float(x) for x in q),
        cohen_w_true=float(np.sqrt(np.sum((q - pi) ** 2 / pi))),
        tv_true=float(0.5 * np.sum(np.abs(q - pi))),
        predicted_power=power,
        power_method=method,
        result=result,
        consistency=consistency,
    )


def controls(
    *,
    samples: int | str | None = None,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ControlsResult:
    """Run the max-trick check with every control sampler of :data:`CONTROLS`.

    Parameters
    ----------
    samples : int or str, optional
        Draws N for every control; by default each control's own N (1,000,000; 2e8 for
        ``float32-rare``), at which every wrong sampler is rejected with power >= 0.99.
    seed : int, optional
        Root seed; control i runs with ``engine.child_seed(seed, i)``. Fresh entropy
        (recorded in the provenance) when None.
    alpha : float
        Significance level of every check.
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
    ControlsResult
        Passed when every wrong sampler was rejected and every exact one passed.
    """
    return prepare(
        samples=samples, seed=seed, alpha=alpha, workers=workers, scheduler=scheduler
    ).run(progress)


def prepare(
    *,
    samples: int | str | None = None,
    seed: int | str | None = None,
    alpha: float | str = 0.01,
    workers: int | str | None = None,
    scheduler: str | None = None,
) -> Prepared[ControlsResult]:
    """Validate the input of :func:`controls` (parameters as there) and return it ready to
    run; raises InputError, before any sampling, on anything invalid."""
    n = None if samples is None else parse_count(samples, "`samples`")
    total = sum(n or control.samples for control in CONTROLS)
    config = RunConfig.create(
        samples=total,
        seed=seed,
        alpha=alpha,
        block_size=BLOCK_SIZE,
        workers=workers,
        scheduler=scheduler,
    )
    return Prepared(samples=total, run=partial(run, n, config))


def run(
    samples: int | None, config: RunConfig, progress: Callable[[int], None] | None = None
) -> ControlsResult:
    """Run every control on validated input (see :func:`prepare`); ``samples`` is the N of
    every control, or None for each control's own."""
    outcomes = tuple(
        run_control(
            control,
            config.with_seed(engine.child_seed(config.seed, index), samples or control.samples),
            progress,
        )
        for index, control in enumerate(CONTROLS)
    )
    return ControlsResult(
        alpha=config.alpha,
        outcomes=outcomes,
        provenance=provenance.collect(
            execution=config.execution(),
            seed=config.seed,
            bit_generator=engine.BIT_GENERATOR,
            block_size=BLOCK_SIZE,
            noise="controls",
        ),
    )
