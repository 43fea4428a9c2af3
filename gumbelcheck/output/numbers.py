"""Numbers for people, the same in every human-readable report (terminal and HTML)."""

from __future__ import annotations

import math


def fmt_p(pvalue: float, log10_pvalue: float) -> str:
    """A p-value for people: ``0.853``, ``3.2e-12``, or ``10^-17686.2`` once it underflows."""
    if math.isnan(pvalue):
        return "-"
    if pvalue >= 1e-4:
        return f"{pvalue:.3g}"
    if pvalue > 1e-300:
        return f"{pvalue:.2e}"
    return f"10^{log10_pvalue:.1f}" if math.isfinite(log10_pvalue) else "0"


def fmt_float(value: float | None, digits: int = 4) -> str:
    """A float in general format, ``-`` for None or NaN."""
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}g}"
