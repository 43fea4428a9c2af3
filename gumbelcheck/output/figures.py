"""Figures of results, drawn with matplotlib (the optional ``plot`` extra), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from gumbelcheck.core.errors import InputError
from gumbelcheck.output.files import atomic_write_bytes

#: The figure formats a path's suffix may ask for.
FORMATS = ("png", "svg", "pdf")


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
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError(
            "--plot needs matplotlib, which is not installed; "
            "run pip install 'gumbelcheck[plot]' or drop --plot"
        ) from None


if TYPE_CHECKING:
    from gumbelcheck.checks.gradients import GradientsResult
    from gumbelcheck.checks.sweep import SweepResult


def sweep_png(result: SweepResult, path: str | Path) -> None:
    """Draw both gaps against tau (log axis) with matplotlib (Agg, headless) into a PNG, SVG
    or PDF file, by the path's suffix (see :func:`figure_format`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.8), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
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
    buffer = io.BytesIO()
    figure.savefig(buffer, format=figure_format(path))
    atomic_write_bytes(path, buffer.getvalue())


def gradients_png(result: GradientsResult, path: str | Path) -> None:
    """Bias against the exact discrete gradient and total variance of the estimators against
    tau (log axes, error bars of 3 standard errors), with the exact bias of the relaxed
    objective and the score functions' variances as references; PNG, SVG or PDF by suffix."""
    import math

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
    buffer = io.BytesIO()
    figure.savefig(buffer, format=figure_format(path))
    atomic_write_bytes(path, buffer.getvalue())
