"""``gumbelcheck sweep``: the Gumbel-Softmax temperature sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import (
    Html,
    Json,
    Logits,
    Normalize,
    Pi,
    Quiet,
    Samples,
    Scheduler,
    Seed,
    Workers,
)

EPILOG = """\
Examples:

  gumbelcheck sweep --pi 0.1,0.2,0.7 --tau 1e-3:1e3:25 --samples 1e5 --seed 5

  gumbelcheck sweep --pi 0.1,0.2,0.7 --tau 0.1,0.5,1,2 -n 1M --float32 --csv sweep.csv

  gumbelcheck sweep --logits=-inf,0,1,2 --tau 1e-2:1e2:9 --plot sweep.png

  gumbelcheck sweep --pi 0.1,0.2,0.7 --sampler my_layer.py:relaxed   # your Gumbel-Softmax
"""


@app.command(epilog=EPILOG)
def sweep(
    pi: Pi = None,
    logits: Logits = None,
    normalize: Normalize = False,
    tau: Annotated[
        str,
        typer.Option(
            help="Temperatures: a list 0.1,0.5,1,2 or a log range START:STOP:COUNT, e.g. "
            "1e-3:1e3:25 for 25 log-spaced values."
        ),
    ] = "1e-3:1e3:25",
    samples: Samples = "100K",
    seed: Seed = None,
    alpha: Annotated[
        str, typer.Option(help="Family-wise significance level over all tests (Holm), in (0, 1).")
    ] = "0.01",
    float32: Annotated[
        bool,
        typer.Option(
            "--float32", help="Also report the share of exactly one-hot samples in float32."
        ),
    ] = False,
    sampler: Annotated[
        str | None,
        typer.Option(
            help="Check your own Gumbel-Softmax: package.module:function or "
            "path/to/file.py:function, called as function(logits, n, seed, tau) and returning "
            "the n x k relaxed samples (one seed per block, the same at every tau)."
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Draw both gaps against tau into this figure, .png, .svg or .pdf by its suffix "
            "(needs matplotlib, the optional 'plot' extra of gumbelcheck)."
        ),
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    json: Json = False,
    csv: Annotated[
        Path | None,
        typer.Option(help="Write the per-tau table as CSV, with a provenance header."),
    ] = None,
    html: Html = None,
    quiet: Quiet = False,
) -> int:
    """Sweep the Gumbel-Softmax temperature: distance from one-hot and from uniform.

    For each tau, draws N relaxed samples y = softmax((ln pi + g) / tau), computed in log
    space, and reports with standard errors one_hot_gap = E[1 - max y], uniform_gap (total
    variation to uniform), the mean normalized entropy, mean_bias = 0.5 sum |E y_i - pi_i|
    and the share of exactly one-hot samples. At every tau it tests argmax(y) ~ Categorical(pi)
    and the exact law tau (log y_i - log y_j) - (ln pi_i - ln pi_j) ~ Logistic(0, 1) (KS and
    numerical error), with Holm's procedure over all tests. PASS also needs one_hot_gap to
    fall as tau falls and uniform_gap to fall as tau grows (within 3 standard errors).
    """
    from gumbelcheck.checks import sweep as check

    ready = check.prepare(
        pi,
        logits=logits,
        normalize=normalize,
        tau=tau,
        samples=samples,
        seed=seed,
        alpha=alpha,
        float32=float32,
        sampler=sampler,
        workers=workers,
        scheduler=scheduler,
    )
    if plot is not None:
        from gumbelcheck.output.figures import check_figure

        check_figure(plot)
    result = run_prepared(ready, quiet, plot, csv, html)
    if plot is not None:
        from gumbelcheck.output.figures import sweep_png

        sweep_png(result, plot)
    return report(result, csv, json, view_of("sweep"), html=html)
