"""The command group: one-line errors, exit codes, and reporting a result.

Exit codes: 0 every check passed, 1 a check failed, 2 usage, input, configuration or I/O
error (or a user sampler that broke its contract), 3 an internal error of gumbelcheck,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Errors are one line on stderr, never a
traceback (``--debug`` adds it for internal errors). The library names parameters as Python
does (```block_size` 0 ...``); errors show them as this command line's flags
(``--block-size 0 ...``).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from gumbelcheck._version import __version__
from gumbelcheck.core.errors import InputError

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143

#: Where an internal error should be reported.
REPORT_TO = "the gumbelcheck issue tracker, with the command line and this message"


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (reports are written atomically, so none is
    half-written; worker processes end with the run)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


#: Set by --debug: internal errors print their traceback.
_debug = False

_PARAMETER = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class _OneLineErrors(TyperGroup):
    """The command group: errors as one line on stderr with the right exit code, and a
    command for every registered check that has no hand-written one."""

    def list_commands(self, ctx: Any) -> list[str]:
        from gumbelcheck.checks import registry

        own = super().list_commands(ctx)
        return [*own, *(name for name in registry.without_command() if name not in own)]

    _resolving = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # The command that will run (or show its own help): built in full by get_command.
        self._resolving = True
        try:
            return super().resolve_command(ctx, args)
        finally:
            self._resolving = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            from gumbelcheck.checks import registry

            if cmd_name in registry.without_command():
                info = registry.get(cmd_name)
                if not self._resolving:
                    # Listed only (the group's help): its name and help, without importing
                    # the check, whose options come from its prepare function's signature.
                    return TyperCommand(name=info.name, help=info.help)
                from gumbelcheck.cli.generic import command_for

                return command_for(info)
        return command

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        previous = _on_sigterm()
        # Dask's logs would add lines to gumbelcheck's one-line errors (and reach the workers
        # of a local:N cluster through the environment); a user's own setting wins.
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as error:  # usage errors of typer's parser
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            code = _fail(f"{error.format_message()}{hint}", getattr(error, "exit_code", 2))
        except InputError as error:
            code = _fail(str(error) if error.in_file else self._with_flags(str(error)))
        except OSError as error:
            code = _fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
        except (KeyboardInterrupt, typer.Abort):
            code = _fail("interrupted; no report was written", EXIT_INTERRUPTED)
        except Terminated:
            code = _fail("terminated (SIGTERM); no report was written", EXIT_TERMINATED)
        except Exception as error:  # a bug of gumbelcheck's, never a verdict
            if _debug:
                import traceback

                traceback.print_exc()
            detail = " ".join(f"{type(error).__name__}: {error}".split())[:300]
            hint = "" if _debug else "; rerun with --debug for the traceback"
            code = _fail(
                f"internal error ({detail}); please report it to {REPORT_TO}{hint}", EXIT_INTERNAL
            )
        finally:
            _close_clusters()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        code = code if isinstance(code, int) else EXIT_PASS
        if code == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into a silent Exit(130)
            _fail("interrupted; no report was written", EXIT_INTERRUPTED)
        if standalone_mode:
            sys.exit(code)
        return code

    def _with_flags(self, message: str) -> str:
        """``message`` with every backquoted Python parameter name replaced by its flag."""
        from gumbelcheck.checks import registry
        from gumbelcheck.cli.generic import command_for

        commands = [*self.commands.values()]
        commands += [command_for(registry.get(name)) for name in registry.without_command()]
        flags: dict[str, str] = {}
        for command in commands:
            for param in command.params:
                long = [opt for opt in param.opts if opt.startswith("--")]
                if param.name and long:
                    flags.setdefault(param.name, long[0])
        return _PARAMETER.sub(lambda m: flags.get(m.group(1), m.group(1)), message)


def _close_clusters() -> None:
    """Close the Dask clients of the run and the local clusters it started, however it
    ended (an interrupted run has cancelled its futures already)."""
    dask = sys.modules.get("gumbelcheck.engine.dask")
    if dask is not None:
        dask.close_all()


def _on_sigterm() -> Any:
    """Handle SIGTERM like Ctrl-C for the run (main thread only); the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminate)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    typer.echo(f"gumbelcheck: error: {message}", err=True)
    return code


app = typer.Typer(
    cls=_OneLineErrors,
    name="gumbelcheck",
    help="Verify the Gumbel-Max trick and friends with seeded Monte Carlo experiments.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:\n\n  gumbelcheck suite --out results\n\n"
    "  gumbelcheck maxtrick --pi 0.1,0.2,0.7 --samples 10M --seed 42",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gumbelcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the traceback of an internal error (exit 3).")
    ] = False,
) -> None:
    """Verify the Gumbel-Max trick and friends with seeded Monte Carlo experiments.

    Exit codes: 0 every check passed, 1 a check failed, 2 usage, input, configuration or I/O
    error, 3 internal error (a bug: please report it), 130 interrupted, 143 terminated.
    """
    global _debug
    _debug = debug
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def report(
    result: Any,
    csv: Path | None,
    json: bool,
    view: str | Callable[[Any], Any],
    junit: Path | None = None,
    seconds: float = 0.0,
    html: Path | None = None,
) -> int:
    """Write the CSV, JUnit XML and HTML report (when asked; ``seconds`` is the run's time),
    print JSON or the Rich view ``view`` (``module:function``), and return the exit code: 0
    when the result passed, 1 when it failed."""
    if csv is not None:
        from gumbelcheck.output.csv import write_csv

        write_csv(csv, result.to_frame(), result.csv_header())
    if junit is not None:
        from gumbelcheck.output.junit import result_case, write_junit

        write_junit([result_case(result, seconds)], junit, f"gumbelcheck {result.check}")
    if html is not None:
        from gumbelcheck.output.html import write_html

        write_html(result, html)
    if json:
        from gumbelcheck.output.json import to_json

        typer.echo(to_json(result.to_dict()), nl=False)
    else:
        from gumbelcheck.checks.registry import load
        from gumbelcheck.cli.progress import console

        console().print(load(view)(result))
    return EXIT_PASS if result.passed else EXIT_FAIL


def view_of(check: str) -> str | Callable[[Any], Any]:
    """The registered terminal view of a check."""
    from gumbelcheck.checks import registry

    return registry.get(check).view


def writable(*paths: Path | None) -> None:
    """Fail before any sampling when a report path cannot be written."""
    from gumbelcheck.output.files import check_writable

    for path in paths:
        if path is not None:
            check_writable(path)


def run_prepared(ready: Any, quiet: bool, *reports: Path | None) -> Any:
    """Check that every report path is writable, then run a prepared check with a progress
    bar and return its result."""
    from gumbelcheck.cli.progress import progress

    writable(*reports)
    with progress(ready.samples, quiet) as update:
        return ready.run(update)


def main() -> NoReturn:
    """Entry point of the ``gumbelcheck`` console script."""
    from gumbelcheck.core.heap import keep_freed_memory

    keep_freed_memory()  # this process is gumbelcheck's own
    app()
    raise SystemExit(EXIT_PASS)  # pragma: no cover - app() always exits
