"""A command for every registered check that has no hand-written one.

Each keyword parameter of the check's ``prepare`` becomes an option (``block_size`` ->
``--block-size VALUE``, a bool -> a flag); the check validates the values itself. With
``--json``, ``--csv PATH``, ``--junit PATH``, ``--html PATH`` and ``--quiet`` as on every
command.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from gumbelcheck.checks.registry import CheckInfo
from gumbelcheck.cli.app import report, run_prepared
from gumbelcheck.cli.options import Html, Json, Junit, Quiet

#: Options every generated command has, with the names its callback receives.
_COMMON = {
    "json_": (Json, False),
    "csv_": (Annotated[Path | None, typer.Option("--csv", help="Write the table as CSV.")], None),
    "junit_": (Junit, None),
    "html_": (Html, None),
    "quiet_": (Quiet, False),
}


def command_for(info: CheckInfo) -> Any:
    """The ``gumbelcheck NAME`` command (a typer command object) of a registered check."""
    parameters = []
    for name, parameter in info.parameters().items():
        flag = "--" + name.replace("_", "-")
        if isinstance(parameter.default, bool):
            annotation: Any = Annotated[bool, typer.Option(f"{flag}/--no-{flag[2:]}")]
            default: Any = parameter.default
        else:
            hint = "required" if parameter.default is inspect.Parameter.empty else (
                f"default: {parameter.default!r}"
            )
            annotation, default = Annotated[str | None, typer.Option(flag, help=hint)], None
        parameters.append(_keyword(name, annotation, default))
    parameters += [_keyword(name, *spec) for name, spec in _COMMON.items()]

    def callback(**values: Any) -> int:
        json, csv, junit, html, quiet = (values.pop(name) for name in _COMMON)
        given = {key: value for key, value in values.items() if value is not None}
        started = time.perf_counter()
        ready = info.prepare_function()(**given)
        result = run_prepared(ready, quiet, csv, junit, html)
        seconds = time.perf_counter() - started
        return report(result, csv, json, info.view, junit, seconds, html=html)

    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in parameters}
    single = typer.Typer(add_completion=False)
    single.command(name=info.name, help=info.help)(callback)
    return typer.main.get_command(single)


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )
