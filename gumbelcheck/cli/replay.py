"""``gumbelcheck replay``: rerun a results folder and compare every report byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import app, report
from gumbelcheck.cli.options import Json, Quiet, Scheduler, Workers
from gumbelcheck.cli.progress import suite_progress

EPILOG = """\
Examples:

  gumbelcheck suite --out results && gumbelcheck replay results
"""


@app.command(epilog=EPILOG)
def replay(
    directory: Annotated[Path, typer.Argument(help="A folder written by gumbelcheck suite --out.")],
    workers: Workers = None,
    scheduler: Scheduler = None,
    json: Json = False,
    quiet: Quiet = False,
) -> int:
    """Rerun a results folder's suite with its seeds and verify every report byte for byte.

    Exit 0 when every report is reproduced, 1 naming each file that differs and the likely
    cause. When numpy or another library has another version than recorded (numpy does not
    promise identical streams across versions), it says so and compares verdicts instead.
    """
    from gumbelcheck.suite.replay import replay as run

    with suite_progress(quiet) as update:
        result = run(directory, workers=workers, scheduler=scheduler, progress=update)
    return report(result, None, json, "gumbelcheck.cli.views:replay")
