"""``gumbelcheck suite``: run a suite of registered checks, with Holm across them."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from gumbelcheck.cli.app import EXIT_PASS, app, report, writable
from gumbelcheck.cli.options import Html, Json, Quiet, Scheduler, Workers
from gumbelcheck.cli.progress import suite_progress
from gumbelcheck.core.errors import InputError

EPILOG = """\
Examples:

  gumbelcheck suite

  gumbelcheck suite --out results --junit results/junit.xml

  gumbelcheck suite --print-default > my-suite.toml   # edit, then:

  gumbelcheck suite --config my-suite.toml --out reports
"""


@app.command(epilog=EPILOG)
def suite(
    config: Annotated[
        Path | None,
        typer.Option(help="A suite TOML file (default: the embedded suite, see --print-default)."),
    ] = None,
    print_default: Annotated[
        bool, typer.Option("--print-default", help="Print the embedded default suite and exit.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write each check's CSV and a manifest.json (SHA-256s) to this folder."),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Write JUnit XML, one test case per check, for CI.")
    ] = None,
    html: Html = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    json: Json = False,
    quiet: Quiet = False,
) -> int:
    """Run a suite of checks, controlling the family-wise error with Holm's method.

    Without --config, runs every check with embedded defaults and prints a one-screen summary.
    """
    from gumbelcheck.suite.run import prepare_suite, run_suite
    from gumbelcheck.suite.spec import DEFAULT_SUITE, load_suite, parse_suite

    if print_default:
        typer.echo(DEFAULT_SUITE, nl=False)
        return EXIT_PASS
    spec = load_suite(config) if config is not None else parse_suite(DEFAULT_SUITE, "default suite")
    # Every check's input (and the Dask scheduler, if any), before anything runs.
    prepare_suite(spec, workers=workers, scheduler=scheduler)
    if out is not None:
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {str(out)!r} is a file; give a folder")
        out.mkdir(parents=True, exist_ok=True)
        writable(out / "manifest.json")
    writable(junit, html)
    from gumbelcheck.output.manifest import locked, write_outputs

    with locked(out) if out is not None else nullcontext(), suite_progress(quiet) as update:
        result = run_suite(spec, workers=workers, scheduler=scheduler, progress=update)
        if out is not None:
            write_outputs(result, out)
    if junit is not None:
        from gumbelcheck.output.junit import suite_cases, write_junit

        write_junit(suite_cases(result), junit)
    return report(result, None, json, "gumbelcheck.cli.views:suite", html=html)
