"""``gumbelcheck gradients``: the Gumbel gradient estimators against exact gradients."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import (
    Alpha,
    BlockSize,
    Html,
    Json,
    Junit,
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

  gumbelcheck gradients --pi 0.1,0.2,0.7 --objective quadratic --tau 0.1:10:5 --seed 1

  gumbelcheck gradients --pi 0.1,0.2,0.7 --anneal 1:0.5:1e-4:20000 --seed 1

  gumbelcheck gradients --pi 0.1,0.2,0.7 --objective my_loss.py:f --plot gradients.png

  gumbelcheck gradients --pi 0.1,0.2,0.7 --control score-sign   # a wrong estimator: FAIL
"""


@app.command(epilog=EPILOG)
def gradients(
    pi: Pi = None,
    logits: Logits = None,
    normalize: Normalize = False,
    objective: Annotated[
        str,
        typer.Option(
            help="The objective f of the one-hot sample z: linear (c . z), quadratic "
            "(sum (z_i - t_i)^2), or yours, package.module:function or path/to/file.py:function "
            "taking an n x k array and returning n values (an optional attribute `gradient` "
            "returns the n x k gradients; central differences otherwise)."
        ),
    ] = "quadratic",
    target: Annotated[
        str | None,
        typer.Option(help="c of linear or t of quadratic, k numbers (default i / (k - 1))."),
    ] = None,
    tau: Annotated[
        str | None,
        typer.Option(
            help="Temperatures: a list 0.1,0.5,1,2 or a log range START:STOP:COUNT "
            "(default 0.1:10:5)."
        ),
    ] = None,
    anneal: Annotated[
        str | None,
        typer.Option(
            help="Instead of --tau, the schedule tau_t = max(tau_min, tau_0 exp(-r t)) as "
            "TAU0:TAU_MIN:RATE:STEPS, e.g. 1:0.5:1e-4:20000, evaluated at 9 checkpoints."
        ),
    ] = None,
    draws: Annotated[
        str, typer.Option(help="Conditional Gumbel draws per sample of Gumbel-Rao.")
    ] = "10",
    control: Annotated[
        str,
        typer.Option(
            help="none, or a wrong estimator to watch the check fail: score-sign (REINFORCE "
            "with its sign flipped), tau-misplaced (Gumbel-Softmax as softmax(theta / tau + g)), "
            "rao-noisy (Gumbel-Rao plus mean-zero noise: more variance than straight-through), "
            "rao-unconditional (Gumbel-Rao over draws that ignore the sample: another mean)."
        ),
    ] = "none",
    samples: Samples = "100K",
    seed: Seed = None,
    alpha: Alpha = "0.01",
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Draw bias and variance against tau (log axes) into this figure, .png, .svg or "
            ".pdf (needs matplotlib, the optional 'plot' extra of gumbelcheck)."
        ),
    ] = None,
    block_size: BlockSize = None,
    workers: Workers = None,
    json: Json = False,
    csv: Annotated[
        Path | None,
        typer.Option(
            help="Write the per-estimator, per-tau table as CSV, with a provenance header."
        ),
    ] = None,
    scheduler: Scheduler = None,
    junit: Junit = None,
    html: Html = None,
    quiet: Quiet = False,
) -> int:
    """Measure the Gumbel gradient estimators against exact gradients, tau by tau.

    For z = onehot(argmax(theta + g)) and an objective f, draws N samples of REINFORCE (with
    and without a baseline), Gumbel-Softmax, straight-through and Gumbel-Rao, and reports for
    each the bias against the exact gradient of E f(z) (norm, relative, cosine), the total
    variance and the MSE, with standard errors. Tests, with Holm's procedure: REINFORCE is
    unbiased; Gumbel-Softmax is unbiased for the exact gradient of the relaxed objective
    E f(softmax((theta + g) / tau)) at each tau; Gumbel-Rao has the straight-through mean and
    no larger variance.
    """
    from gumbelcheck.checks import gradients as check

    ready = check.prepare(
        pi,
        logits=logits,
        normalize=normalize,
        objective=objective,
        target=target,
        tau=tau,
        anneal=anneal,
        draws=draws,
        control=control,
        samples=samples,
        seed=seed,
        alpha=alpha,
        block_size=block_size,
        workers=workers,
        scheduler=scheduler,
    )
    if plot is not None:
        from gumbelcheck.output.figures import check_figure

        check_figure(plot)
    started = time.perf_counter()
    result = run_prepared(ready, quiet, plot, csv, junit, html)
    seconds = time.perf_counter() - started
    if plot is not None:
        from gumbelcheck.output.figures import gradients_png

        gradients_png(result, plot)
    return report(result, csv, json, view_of("gradients"), junit, seconds, html)
