"""``gumbelcheck controls``: wrong samplers must fail, exact ones pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import Alpha, Html, Json, Quiet, Scheduler, Seed, Workers

EPILOG = """\
Examples:

  gumbelcheck controls --seed 1

  gumbelcheck controls --seed 1 --csv controls.csv

  gumbelcheck controls --samples 1e4 --seed 1   # too few draws: some wrong samplers pass, exit 1
"""


@app.command(epilog=EPILOG)
def controls(
    samples: Annotated[
        str | None,
        typer.Option(
            "--samples",
            "-n",
            help="Draws N for every control (default: each control's own N, 1M; 2e8 for "
            "float32-rare).",
        ),
    ] = None,
    seed: Seed = None,
    alpha: Alpha = "0.01",
    workers: Workers = None,
    scheduler: Scheduler = None,
    json: Json = False,
    csv: Annotated[
        Path | None,
        typer.Option(help="Write the per-control table as CSV, with a provenance header."),
    ] = None,
    html: Html = None,
    quiet: Quiet = False,
) -> int:
    """Run the max trick with deliberately wrong samplers next to exact ones.

    For each control: the category probabilities the sampler really draws from (closed form,
    quadrature or exact enumeration), their effect size, the power predicted at N and alpha,
    the observed p-value, and whether the verdict matched the expectation (wrong samplers
    rejected, exact ones passed). Exit code 1 when any expectation fails.
    """
    from gumbelcheck.checks import controls as check

    ready = check.prepare(
        samples=samples, seed=seed, alpha=alpha, workers=workers, scheduler=scheduler
    )
    result = run_prepared(ready, quiet, csv, html)
    return report(result, csv, json, view_of("controls"), html=html)
