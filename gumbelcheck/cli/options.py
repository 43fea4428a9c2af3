"""Options shared by the commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Pi = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated probabilities, e.g. 0.1,0.2,0.7 (zeros allowed); @FILE reads "
        "them from a .npy or text file (@- from standard input)."
    ),
]
Logits = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated log-probabilities instead of --pi; -inf means probability 0. "
        "Write --logits=-1,0 when the list starts with a minus sign; @FILE reads them from a "
        ".npy or text file."
    ),
]
Normalize = Annotated[
    bool, typer.Option(help="Accept --pi weights that do not sum to 1 (divide by the sum).")
]
Samples = Annotated[
    str,
    typer.Option("--samples", "-n", help="Number of draws N: 10000000, 10_000_000, 1e7 or 10M."),
]
Seed = Annotated[
    str | None,
    typer.Option(help="Root seed (integer >= 0); if omitted, fresh entropy recorded in reports."),
]
Alpha = Annotated[str, typer.Option(help="Significance level, in (0, 1).")]
Workers = Annotated[
    str | None,
    typer.Option(
        help="Workers to run blocks on (default: all cores); results do not depend on it."
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Run the blocks on a Dask cluster: its scheduler's address (tcp://host:8786), or "
        "local:N for N worker processes started for the run; default $GUMBELCHECK_SCHEDULER, "
        "else this machine. Results do not depend on it."
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the whole result as JSON on stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
BlockSize = Annotated[
    str | None, typer.Option(help="Samples per block (default: about 2**19 numbers per block).")
]

Junit = Annotated[
    Path | None,
    typer.Option(
        "--junit", help="Write JUnit XML (one test case, its figures as properties) for CI."
    ),
]
Html = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Write one self-contained HTML report (figures inline, opens offline) to this file.",
    ),
]
CategoryCsv = Annotated[
    Path | None,
    typer.Option(help="Write the per-category table as CSV, with a provenance header."),
]
