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

if TYPE_CHECKING:
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
