"""``gumbelcheck maxtrick``: the Gumbel-Max check, and its calibration with --replicates."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import (
    Alpha,
    BlockSize,
    CategoryCsv,
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

  gumbelcheck maxtrick --pi 0.1,0.2,0.7 --samples 10M --seed 42

  gumbelcheck maxtrick --logits=-inf,0,1,2 -n 1e8 --csv report.csv

  gumbelcheck maxtrick --pi 1,2,7 --normalize --sampler gaussian   # a wrong sampler: FAIL

  gumbelcheck maxtrick --pi 0.1,0.2,0.7 -n 1e7 --sampler my_sampler.py:sample   # yours

  gumbelcheck maxtrick --pi 0.1,0.2,0.7 -n 10000 --replicates 200 --seed 1   # calibration
"""


@app.command(epilog=EPILOG)
def maxtrick(
    pi: Pi = None,
    logits: Logits = None,
    normalize: Normalize = False,
    samples: Samples = "1M",
    seed: Seed = None,
    alpha: Alpha = "0.01",
    sampler: Annotated[
        str,
        typer.Option(
            "--sampler",
            "--noise",
            help="The sampler under test. Yours: package.module:function or "
            "path/to/file.py:function, called as function(logits, n, seed) and returning n "
            "category indices (or k counts when declared with gumbelcheck.returns_counts). "
            "Built in: race (default; the exponential race argmax ln(U)/pi, the fastest exact "
            "form, same samples as the reference from the same uniforms), reference "
            "(-ln(-ln U)), numpy (Generator.gumbel); or a wrong one to watch it fail: "
            "gaussian, gumbel-scale-2, noise-on-pi, logistic, gumbel-scale-1.05, left-gumbel, "
            "float32, clamped (see gumbelcheck controls). --noise is an older name.",
        ),
    ] = "race",
    block_size: BlockSize = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    json: Json = False,
    csv: CategoryCsv = None,
    junit: Junit = None,
    html: Html = None,
    quiet: Quiet = False,
    replicates: Annotated[
        str | None,
        typer.Option(
            help="Calibration: run R independent replicates (replicate r seeded from (seed, r)) "
            "and test the distribution of their p-values against exact multinomial draws."
        ),
    ] = None,
) -> int:
    """Check that argmax_i(ln pi_i + g_i), g_i iid Gumbel(0, 1), is Categorical(pi).

    Draws N samples on the seeded block engine and tests the counts over the full support with
    Pearson's chi-square and the G-test (exact binomial tests for rare categories, an exact
    multinomial test for small N). Reports statistic, df, p-value, log10 p, effect sizes and
    the verdict. With --replicates R it runs the calibration instead: the p-value deciles, the
    rejection rate with its Clopper-Pearson interval, and second-level tests against the
    p-values of R exact multinomial draws.
    """
    options = {
        "logits": logits,
        "normalize": normalize,
        "samples": samples,
        "seed": seed,
        "alpha": alpha,
        "sampler": sampler,
        "block_size": block_size,
        "workers": workers,
        "scheduler": scheduler,
    }
    if replicates is not None:
        from gumbelcheck.checks import calibration as check

        ready = check.prepare(pi, replicates=replicates, **options)
        name = "calibration"
    else:
        from gumbelcheck.checks import maxtrick as check  # type: ignore[no-redef]

        ready = check.prepare(pi, **options)
        name = "maxtrick"
    started = time.perf_counter()
    result = run_prepared(ready, quiet, csv, junit, html)
    seconds = time.perf_counter() - started
    return report(result, csv, json, view_of(name), junit, seconds, html)
