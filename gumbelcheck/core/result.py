"""The result contract every check fulfils: one typed :class:`Summary`.

Every result (maxtrick, dist, sweep, controls, calibration, and a suite or a replay) returns
the same :class:`Summary` from ``summary()``. Suites, JUnit, the CSV header and the top-level
keys of every ``--json`` read only that; the check's own figures travel in
``Summary.figures``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from gumbelcheck.output.json import jsonable

if TYPE_CHECKING:
    import pandas as pd

    from gumbelcheck.core.provenance import Provenance

#: The keys every summary has, in the order reports list them.
SUMMARY_KEYS = (
    "check",
    "verdict",
    "hard_failure",
    "null_hypothesis",
    "rule",
    "test",
    "statistic",
    "df",
    "pvalue",
    "log10_pvalue",
    "alpha",
    "effect",
    "mde",
    "samples",
    "reason",
)


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What a check found, in the fields every report shares.

    Attributes
    ----------
    check : str
        The check's registered name (``maxtrick``, ``dist``, ...).
    verdict : str
        ``PASS`` or ``FAIL``.
    hard_failure : bool
        True when the check failed for a reason other than its p-value (a draw on a
        zero-probability category, a function missing its tolerance, NaN output, a control
        not behaving as expected). A hard failure stands whatever a multiple-testing
        correction does to the p-value; a failure without one goes through Holm in a suite.
    null_hypothesis : str
        What was tested.
    rule : str
        The decision rule (``cochran``, ``holm(50 tests)``, ...).
    test : str
        The deciding test.
    statistic : float or None
        Its statistic.
    df : int or None
        Its degrees of freedom, None where it has none.
    pvalue, log10_pvalue : float
        The check's p-value and its log10 (exact where the p-value underflows; NaN for
        checks decided without one).
    alpha : float
        Significance level.
    effect : str
        The observed effect size, in a few words (``TV 0.00022``).
    mde : str
        The minimum detectable effect: what this run would have caught with power >= 0.9
        (``TV >= 0.00066``); empty where the check does not compute one.
    samples : int or None
        Draws the check made.
    reason : str
        Why the check failed; empty when it passed.
    figures : mapping
        The check's own figures (``tv_distance``, ``max_error_ratio``, ...), in report order.
    """

    check: str
    verdict: str
    hard_failure: bool
    null_hypothesis: str
    rule: str
    test: str
    statistic: float | None
    df: int | None
    pvalue: float
    log10_pvalue: float
    alpha: float
    effect: str
    mde: str
    samples: int | None
    reason: str
    figures: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when the verdict is PASS."""
        return self.verdict == "PASS"

    def common(self) -> dict[str, Any]:
        """The shared fields (:data:`SUMMARY_KEYS`), in order."""
        return {key: getattr(self, key) for key in SUMMARY_KEYS}

    def flat(self) -> dict[str, Any]:
        """The shared fields, then the check's figures: one flat mapping."""
        return {**self.common(), **self.figures}


def log10(pvalue: float) -> float:
    """log10 of a p-value that did not underflow (-inf for 0, NaN for NaN)."""
    if math.isnan(pvalue):
        return math.nan
    return math.log10(pvalue) if pvalue > 0 else -math.inf


class CheckResult(Protocol):
    """What every check's result offers the suite and the writers."""

    check: ClassVar[str]

    @property
    def passed(self) -> bool: ...

    @property
    def verdict(self) -> str: ...

    def summary(self) -> Summary: ...

    def to_dict(self) -> dict[str, Any]: ...

    def to_frame(self) -> pd.DataFrame: ...

    def csv_header(self) -> dict[str, Any]: ...


class ResultReport:
    """Mixin of the result dataclasses: the verdict from ``passed``, the CSV header, the JSON
    and the notebook's HTML from ``summary()`` and ``provenance``. Adds no fields."""

    @property
    def verdict(self: Any) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    def csv_header(self: Any) -> dict[str, Any]:
        """Summary and provenance lines for the top of the CSV report."""
        provenance: Provenance = self.provenance
        return {**self.summary().flat(), **jsonable(provenance)}

    def _repr_html_(self: Any) -> str:
        """The HTML report of the result, for notebooks (see :mod:`gumbelcheck.output.html`)."""
        from gumbelcheck.output.html import fragment

        return fragment(self)

    def _json(self: Any, **details: Any) -> dict[str, Any]:
        """The summary's keys, then ``details``, then the provenance, as plain JSON types."""
        return jsonable({**self.summary().flat(), **details, "provenance": self.provenance})
