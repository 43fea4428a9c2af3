"""Sample-size planning: how many draws catch a given deviation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import MAX_SAMPLES, categorical, parse_alpha
from gumbelcheck.output.json import jsonable
from gumbelcheck.stats import TARGET_POWER, detectable_noncentrality


@dataclass(frozen=True, kw_only=True)
class PlanResult:
    """Samples needed for the maxtrick chi-square test to catch a deviation.

    Attributes
    ----------
    df : int
        Degrees of freedom (categories with positive probability, minus one).
    alpha : float
        Significance level.
    power : float
        Probability of rejecting when the deviation is present.
    w : float
        Cohen's w to detect; a total-variation distance ``tv`` is planned as w = 2 tv, the
        smallest w any deviation of that TV can have.
    tv : float or None
        The total-variation distance asked for, if any.
    noncentrality : float
        lambda* with P(chi2'(df, lambda*) > chi2.isf(alpha, df)) = power.
    samples : int
        N = ceil(lambda* / w^2).
    """

    df: int
    alpha: float
    power: float
    w: float
    tv: float | None
    noncentrality: float
    samples: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible types."""
        return jsonable(self)


def plan(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    normalize: bool = False,
    tv: float | None = None,
    w: float | None = None,
    alpha: float = 0.01,
    power: float = TARGET_POWER,
) -> PlanResult:
    """How many draws the maxtrick test needs to catch a deviation of ``tv`` or ``w``.

    Parameters
    ----------
    pi, logits, normalize
        The distribution, as for :func:`gumbelcheck.maxtrick` (only its support size matters).
    tv : float, optional
        Total-variation distance to detect, in (0, 1].
    w : float, optional
        Cohen's w to detect, > 0. Give exactly one of ``tv`` and ``w``.
    alpha : float
        Significance level.
    power : float
        Desired power, in (0, 1).

    Returns
    -------
    PlanResult
    """
    dist = categorical(pi, logits, normalize=normalize)
    df = int(dist.support.sum()) - 1
    if df < 1:
        raise InputError("only one category has positive probability: there is nothing to test")
    alpha = parse_alpha(alpha)
    if (tv is None) == (w is None):
        raise InputError("give exactly one of `tv` and `w`, e.g. `tv`=1e-4")
    if tv is not None and not (0 < tv <= 1):
        raise InputError(f"`tv` {tv} is outside (0, 1]; use a distance like 1e-4")
    if w is not None and not (0 < w < math.inf):
        raise InputError(f"`w` {w} must be a positive number, like 0.01")
    if not 0 < power < 1:
        raise InputError(f"`power` {power} is outside (0, 1); use a power like 0.9")
    if power <= alpha:
        raise InputError(
            f"`power` {power} is not above `alpha` {alpha}: a test rejects that often with no "
            "deviation at all; ask for a power like 0.9"
        )
    effect = 2.0 * tv if tv is not None else float(w)  # type: ignore[arg-type]
    noncentrality = detectable_noncentrality(df, alpha, power)
    needed = noncentrality / effect**2 if effect**2 > 0 else math.inf
    if not needed <= MAX_SAMPLES:
        raise InputError(
            f"catching {'`tv` ' + format(tv, 'g') if tv is not None else '`w` ' + format(w, 'g')}"
            f" would take {needed:.3g} draws, more than one run may make ({MAX_SAMPLES:.3g}); "
            "ask for a larger deviation"
        )
    return PlanResult(
        df=df,
        alpha=alpha,
        power=power,
        w=effect,
        tv=tv,
        noncentrality=noncentrality,
        samples=math.ceil(needed),
    )
