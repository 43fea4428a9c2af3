"""Figures of results, drawn with matplotlib (the optional ``plot`` extra).

Each check's registry entry names its figure here (``figure=``); :func:`figure_of` draws it,
:func:`svg_text` turns it into SVG for the HTML report, :func:`save` writes it to a file
atomically. The figures only read results: they compute nothing a report does not have.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import norm

from gumbelcheck.core.errors import InputError
from gumbelcheck.output.files import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from gumbelcheck.checks.calibration import CalibrationResult
    from gumbelcheck.checks.controls import ControlsResult
    from gumbelcheck.checks.dist import DistResult
    from gumbelcheck.checks.frameworks import FrameworksResult
    from gumbelcheck.checks.gradients import GradientsResult
    from gumbelcheck.checks.maxlaw import MaxLawResult
    from gumbelcheck.checks.maxtrick import MaxTrickResult
    from gumbelcheck.checks.sweep import SweepResult
    from gumbelcheck.checks.topk import TopKResult
    from gumbelcheck.stats import CategoricalGof

#: The figure formats a path's suffix may ask for.
FORMATS = ("png", "svg", "pdf")

#: What the report says when matplotlib is missing.
NO_MATPLOTLIB = "matplotlib is not installed (pip install 'gumbelcheck[plot]'): no figures"


def figure_format(path: str | Path) -> str:
    """The format a figure path asks for by its suffix; InputError for any other suffix
    (checked before any sampling, so that PNG bytes never land in a file named .jpg)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(
            f"cannot draw {str(path)!r}: a figure is written as {', '.join(FORMATS)}; end the "
            "file name with one of these suffixes"
        )
    return suffix


def check_figure(path: str | Path) -> None:
    """InputError, before any sampling, when ``path`` names no figure format or matplotlib
    (the optional ``plot`` extra) is not installed."""
    figure_format(path)
    if not have_matplotlib():
        raise InputError(
            "--plot needs matplotlib, which is not installed; "
            "run pip install 'gumbelcheck[plot]' or drop --plot"
        )


def have_matplotlib() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def figure_of(result: Any) -> Figure | None:
    """The figure the check's registry entry names for ``result`` (None when it has none).

    Raises ImportError when matplotlib is missing.
    """
    from gumbelcheck.checks import registry

    info = registry.get(result.check)
    if info.figure is None:
        return None
    figure: Figure = registry.load(info.figure)(result)
    return figure


def save(figure: Figure, path: str | Path) -> None:
    """Write ``figure`` to ``path`` atomically, as PNG, SVG or PDF by the path's suffix."""
    atomic_write_bytes(path, _render(figure, figure_format(path)))


def svg_text(figure: Figure, prefix: str) -> str:
    """``figure`` as an ``<svg>`` element to inline in HTML: no XML prolog, text as text,
    and every id prefixed with ``prefix`` so that several figures share one page."""
    text = _render(figure, "svg").decode("utf-8")
    text = text[text.index("<svg") :]
    return re.sub(r'(id="|href="#|url\(#)', lambda m: f"{m.group(1)}{prefix}", text)


def _render(figure: Figure, fmt: str) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    # Text stays text in SVG (small, searchable); fixed ids and no date: the same result
    # draws the same bytes.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "gumbelcheck"}):
        figure.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


def _new(width: float = 8.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """An Agg figure (headless) with one axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def sweep(result: SweepResult) -> Figure:
    """Both gaps against tau (log axis): one_hot_gap, the expected distance to the nearest
    one-hot vector, and uniform_gap, to the uniform vector, with error bars of three
    standard errors."""
    figure, axes = _new(8, 4.8)
    taus = result.tau
    for name, color in (("one_hot_gap", "tab:blue"), ("uniform_gap", "tab:orange")):
        values = [getattr(p, name) for p in result.points]
        se = [getattr(p, f"{name}_se") for p in result.points]
        axes.errorbar(
            taus,
            values,
            yerr=[3 * s for s in se],
            color=color,
            marker="o",
            markersize=3,
            capsize=2,
            label=f"{name} (±3 se)",
        )
    axes.set_xscale("log")
    axes.set_xlabel("temperature tau")
    axes.set_ylabel("expected distance")
    axes.set_ylim(bottom=0)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    pi = ", ".join(f"{p:.3g}" for p in result.pi)
    axes.set_title(
        f"Gumbel-Softmax sweep: pi = ({pi}), N = {result.samples:,} per tau, {result.verdict}",
        fontsize=10,
    )
    return figure


def sweep_png(result: SweepResult, path: str | Path) -> None:
    """Draw :func:`sweep` into a PNG, SVG or PDF file, by the path's suffix."""
    save(sweep(result), path)


def _residuals(
    gof: CategoricalGof | tuple[Sequence[float], float],
    labels: Sequence[str],
    title: str,
    what: str,
) -> Figure:
    """Standardized residuals (O - E) / sqrt(E (1 - p)) per cell, with their spread under H0:
    N(0, 1), so a band of ±1 and of the two-sided quantile at alpha. ``gof`` is a
    goodness-of-fit result or (residuals, alpha)."""
    residual, alpha = gof if isinstance(gof, tuple) else (gof.residual, gof.alpha)
    residual = np.asarray(residual, dtype=float)
    n = len(residual)
    figure, axes = _new(8, 3.6)
    x = np.arange(n)
    z = float(norm.isf(alpha / 2))
    axes.axhspan(-z, z, color="tab:green", alpha=0.12, label=f"±{z:.2f}: two-sided alpha")
    axes.axhspan(-1, 1, color="tab:green", alpha=0.18, label="±1: one sd under H0")
    axes.axhline(0, color="black", linewidth=0.8)
    finite = np.isfinite(residual)
    outside = finite & (np.abs(residual) > z)
    axes.vlines(x[finite], 0, residual[finite], color="tab:blue", linewidth=1)
    axes.plot(x[finite & ~outside], residual[finite & ~outside], "o", color="tab:blue",
              markersize=3)  # fmt: skip
    if outside.any():
        axes.plot(x[outside], residual[outside], "o", color="tab:red", markersize=4,
                  label="outside the band")  # fmt: skip
    if n <= 30:
        axes.set_xticks(x, labels, rotation=90 if n > 12 else 0, fontsize=8)
    axes.set_xlabel(what)
    axes.set_ylabel("standardized residual")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper right")
    axes.set_title(title, fontsize=10)
    return figure


def residuals(result: MaxTrickResult) -> Figure:
    """Standardized residual (O - E) / sqrt(E (1 - p)) of each category, about N(0, 1) under
    H0: most lie within ±1 (dark band), all but a fraction alpha within the two-sided band
    (light); red points lie outside it."""
    title = f"{result.check}: residual per category, N = {result.samples:,}, {result.verdict}"
    labels = [str(i) for i in range(len(result.pi))]
    return _residuals(result.gof, labels, title, "category")


def maxlaw(result: MaxLawResult) -> Figure:
    """Standardized residual of each cell of the independence table (category : bin of the
    max), about N(0, 1) under H0: most lie within ±1 (dark band), all but a fraction alpha
    within the two-sided band (light); red points lie outside it."""
    bins = len(result.counts[0])
    labels = [f"{i}:{b}" for i in range(len(result.pi)) for b in range(bins)]
    title = f"maxlaw: residual per category and bin of the max, {result.verdict}"
    return _residuals(result.joint, labels, title, "category:bin of the max")


def topk(result: TopKResult) -> Figure:
    """Standardized residual of each ordered tuple against the Plackett-Luce law (the full
    test), or of each category's inclusion count against its exact inclusion probability
    (the marginal laws), about N(0, 1) under H0: most lie within ±1 (dark band), all but a
    fraction alpha within the two-sided band (light); red points lie outside it."""
    if result.gof is not None:
        labels = [",".join(map(str, t)) for t in result.tuples]
        title = f"topk (m = {result.m}): residual per ordered tuple, {result.verdict}"
        return _residuals(result.gof, labels, title, "ordered tuple")
    assert result.marginals is not None
    residual = result.marginals.inclusion_residual
    labels = [str(i) for i in range(len(residual))]
    title = f"topk (m = {result.m}): inclusion residual per category, {result.verdict}"
    return _residuals((residual, result.alpha), labels, title, "category")


def calibration(result: CalibrationResult) -> Figure:
    """Histogram of the replicates' p-values, and their QQ plot against the exact
    multinomial replicates' p-values (the law they should follow)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.8), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    hist, qq = figure.subplots(1, 2)
    bins = np.linspace(0, 1, 21)
    hist.hist(result.reference_pvalues, bins=bins, color="tab:gray", alpha=0.5,
              label="exact multinomial")  # fmt: skip
    hist.hist(result.pvalues, bins=bins, histtype="step", color="tab:blue", linewidth=1.5,
              label=result.noise)  # fmt: skip
    hist.axvline(result.alpha, color="tab:red", linewidth=0.8, label=f"alpha = {result.alpha:g}")
    hist.set_xlabel("p-value")
    hist.set_ylabel("replicates")
    hist.legend(fontsize=8)
    hist.set_title(f"p-values of {result.replicates:,} replicates", fontsize=10)
    q = np.arange(1, 100) / 100.0
    qq.plot([0, 1], [0, 1], color="black", linewidth=0.8)
    qq.plot(np.quantile(result.reference_pvalues, q), np.quantile(result.pvalues, q), "o",
            color="tab:blue", markersize=3)  # fmt: skip
    qq.set_xlabel("quantile, exact multinomial replicates")
    qq.set_ylabel(f"quantile, {result.noise}")
    qq.set_title(f"QQ plot (percentiles), {result.verdict}", fontsize=10)
    qq.grid(True, alpha=0.3)
    return figure


def dist(result: DistResult) -> Figure:
    """Each function's largest error against the 256-bit reference as a multiple of its
    tolerance, per region (log axis; the red line is the limit, no bar means no error)."""
    rows = result.accuracy
    height = max(2.5, 0.22 * len(rows) + 1)
    figure, axes = _new(8, height)
    ratio = np.array([r.error_ratio for r in rows], dtype=float)
    shown = np.where(np.isfinite(ratio) & (ratio > 0), ratio, np.nan)
    floor = np.nanmin(shown) / 2 if np.isfinite(shown).any() else 1e-3
    y = np.arange(len(rows))
    colors = ["tab:blue" if r.passed else "tab:red" for r in rows]
    axes.barh(y, np.nan_to_num(shown, nan=floor) - floor, left=floor, color=colors)
    axes.axvline(1, color="tab:red", linewidth=1, label="tolerance")
    axes.set_xscale("log")
    axes.set_yticks(y, [f"{r.function} {r.region}" for r in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("largest error / tolerance (ULP)")
    axes.grid(True, axis="x", which="both", alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(f"dist: accuracy against a 256-bit reference, {result.verdict}", fontsize=10)
    return figure


def _pvalues(
    labels: Sequence[str], log10_pvalues: Sequence[float], alpha: float, passed: Sequence[bool],
    title: str,
) -> Figure:  # fmt: skip
    """-log10 p per test on a log axis, with the level it is judged at."""
    height = max(2.5, 0.2 * len(labels) + 1)
    figure, axes = _new(8, height)
    strength = np.array([-v if math.isfinite(v) else np.nan for v in log10_pvalues])
    shown = np.clip(np.nan_to_num(strength, nan=1e-3), 1e-3, None)
    y = np.arange(len(labels))
    axes.barh(y, shown, color=["tab:blue" if ok else "tab:red" for ok in passed])
    axes.axvline(-math.log10(alpha), color="black", linewidth=1,
                 label=f"-log10 alpha ({alpha:.3g})")  # fmt: skip
    axes.set_xscale("log")
    axes.set_yticks(y, labels, fontsize=7 if len(labels) > 20 else 8)
    axes.invert_yaxis()
    axes.set_xlabel("-log10 p (longer bar: stronger evidence against H0; red: failed)")
    axes.grid(True, axis="x", which="both", alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(title, fontsize=10)
    return figure


def controls(result: ControlsResult) -> Figure:
    """-log10 of each control's p-value: wrong samplers' bars should reach past -log10 alpha,
    exact ones' stay short; red marks a control not behaving as expected."""
    outcomes = result.outcomes
    return _pvalues(
        [f"{o.control.name} (expect {o.control.expected_verdict})" for o in outcomes],
        [o.result.gof.log10_pvalue for o in outcomes],
        result.alpha,
        [o.matched for o in outcomes],
        f"controls: p-value of each sampler, {result.verdict}",
    )


def frameworks(result: FrameworksResult) -> Figure:
    """-log10 of each probe's p-value against its Bonferroni level (the black line); red
    marks a failed probe."""
    probes = result.probes
    return _pvalues(
        [f"{p.sampler} {p.probe}" for p in probes],
        [p.log10_pvalue for p in probes],
        probes[0].alpha,
        [p.passed for p in probes],
        f"frameworks: p-value of each sampler and probe, {result.verdict}",
    )


def gradients(result: GradientsResult) -> Figure:
    """Bias against the exact discrete gradient and total variance of the estimators against
    tau (log axes, error bars of 3 standard errors), with the exact bias of the relaxed
    objective and the score functions' variances as references."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.4), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    bias_axes, variance_axes = figure.subplots(1, 2)
    colors = {"gumbel-softmax": "tab:blue", "straight-through": "tab:orange",
              "gumbel-rao": "tab:green"}  # fmt: skip
    for estimator, color in colors.items():
        rows = [r for r in result.rows if r.estimator == estimator]
        taus = [r.tau for r in rows]
        for axes, name in ((bias_axes, "bias_norm"), (variance_axes, "trace_variance")):
            values = [getattr(r, name) for r in rows]
            errors = [3 * getattr(r, f"{name}_se") for r in rows]
            axes.errorbar(taus, values, yerr=errors, color=color, marker="o", markersize=3,
                          capsize=2, label=estimator)  # fmt: skip
    gs = [r for r in result.rows if r.estimator == "gumbel-softmax"]
    if all(math.isfinite(r.exact_bias_norm) for r in gs):
        bias_axes.plot([r.tau for r in gs], [r.exact_bias_norm for r in gs], color="black",
                       linestyle=":", label="exact, relaxed objective")  # fmt: skip
    for estimator, style in (("reinforce", "--"), ("reinforce-baseline", "-.")):
        row = result.row(estimator)
        variance_axes.axhline(row.trace_variance, color="gray", linestyle=style, label=estimator)
    for axes, label in ((bias_axes, "|E[estimate] - exact discrete gradient|"),
                        (variance_axes, "total variance tr Cov(estimate)")):  # fmt: skip
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("temperature tau")
        axes.set_ylabel(label)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    pi = ", ".join(f"{p:.3g}" for p in result.pi)
    figure.suptitle(
        f"gradient estimators: {result.objective} objective, pi = ({pi}), "
        f"N = {result.samples:,}, {result.verdict}",
        fontsize=10,
    )
    return figure


def gradients_png(result: GradientsResult, path: str | Path) -> None:
    """Draw :func:`gradients` into a PNG, SVG or PDF file, by the path's suffix."""
    save(gradients(result), path)
