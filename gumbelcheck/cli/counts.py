"""``gumbelcheck counts``: test counts (or category indices) made anywhere."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import (
    Alpha,
    CategoryCsv,
    Html,
    Json,
    Junit,
    Logits,
    Normalize,
    Pi,
    Quiet,
)

EPILOG = """\
Examples:

  gumbelcheck counts --pi 0.1,0.2,0.7 --counts counts.txt

  gumbelcheck counts --logits @vocab.npy --indices samples.npy --junit junit.xml

  my_gpu_job | gumbelcheck counts --pi 0.1,0.2,0.7 --counts -
"""


@app.command(epilog=EPILOG)
def counts(
    pi: Pi = None,
    logits: Logits = None,
    normalize: Normalize = False,
    counts: Annotated[
        str | None,
        typer.Option(
            help="The k per-category counts: a .npy file, text with one number per line or "
            "comma-separated, or a CSV with a count column; - reads standard input."
        ),
    ] = None,
    indices: Annotated[
        str | None,
        typer.Option(
            help="Raw category indices instead of --counts (.npy, or text one per line); - "
            "reads standard input."
        ),
    ] = None,
    alpha: Alpha = "0.01",
    seed: Annotated[
        str,
        typer.Option(help="Seed of the Monte Carlo exact multinomial test (small N only)."),
    ] = "0",
    json: Json = False,
    csv: CategoryCsv = None,
    junit: Junit = None,
    html: Html = None,
    quiet: Quiet = False,
) -> int:
    """Test counts made anywhere (another language, a GPU job, a log) against Categorical(pi).

    The same rules, p-values, effect sizes and minimum detectable effect as maxtrick: Pearson's
    chi-square under Cochran's rule, exact binomial tests for rare categories, an exact
    multinomial test for small N, every category counted (also those never drawn); a count on
    a zero-probability category is a hard failure.
    """
    from gumbelcheck.checks import counts as check

    ready = check.prepare(
        pi,
        logits=logits,
        normalize=normalize,
        counts=counts,
        indices=indices,
        alpha=alpha,
        seed=seed,
    )
    started = time.perf_counter()
    result = run_prepared(ready, quiet, csv, junit, html)
    seconds = time.perf_counter() - started
    return report(result, csv, json, view_of("counts"), junit, seconds, html)
