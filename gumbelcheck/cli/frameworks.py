"""``gumbelcheck frameworks``: the samplers of PyTorch, JAX and NumPy through the battery."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report, run_prepared, view_of
from gumbelcheck.cli.options import Alpha, Html, Json, Junit, Quiet, Workers

EPILOG = """\
Examples:

  gumbelcheck frameworks

  gumbelcheck frameworks --only torch.multinomial --only jax --junit frameworks.xml

  gumbelcheck frameworks --full   # the 1e-8 tail too: about 10^9 draws per sampler
"""


@app.command(epilog=EPILOG)
def frameworks(
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only these adapters: a framework (torch), a sampler "
            "(torch.multinomial) or one configuration (torch.multinomial[float32]); repeatable."
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Also the heavier probes: the 1e-8 tail and a larger vocabulary."
        ),
    ] = False,
    seed: Annotated[str, typer.Option(help="Root seed of every probe.")] = "0",
    alpha: Alpha = "0.01",
    workers: Workers = None,
    json: Json = False,
    csv: Annotated[
        Path | None, typer.Option(help="Write one row per sampler and probe as CSV.")
    ] = None,
    junit: Junit = None,
    html: Html = None,
    quiet: Quiet = False,
) -> int:
    """Run every installed framework sampler, in every dtype, through one battery of probes.

    Adapters: torch.multinomial, torch.categorical, torch.gumbel_softmax (hard), each in
    float64, float32, float16 and bfloat16; jax.categorical in the same dtypes, modes low and
    high; numpy.choice in float64 and float32. Probes: the bulk law, a zero-probability
    category, a rare tail (exact binomial test, N from a tail-aware power calculation), a
    262,144-token vocabulary's tail share, independence of consecutive draws, and seed
    determinism. A failed probe's counts are tested again against the law of the logits
    rounded to the dtype, which says whether the rounding or the sampler is at fault.
    Exit 2 when neither torch nor JAX is installed (pip install 'gumbelcheck[torch]').
    """
    from gumbelcheck.checks import frameworks as check

    ready = check.prepare(only=only or (), full=full, seed=seed, alpha=alpha, workers=workers)
    started = time.perf_counter()
    result = run_prepared(ready, quiet, csv, junit, html)
    seconds = time.perf_counter() - started
    return report(result, csv, json, view_of("frameworks"), junit, seconds, html)
