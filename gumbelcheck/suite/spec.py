"""Suite TOML: optional top-level ``alpha`` and ``scheduler``; a ``[[check]]`` table per check.

``alpha`` is the family-wise error rate, controlled across the checks with Holm's method
(default 0.01). ``scheduler`` names a Dask scheduler (``tcp://host:8786`` or ``local:N``)
to run every check on, unless --scheduler or ``GUMBELCHECK_SCHEDULER`` names another. Each
``[[check]]`` has a ``name``, a ``check`` (a registered check, see
:mod:`gumbelcheck.checks.registry`) and that check's keyword parameters. The embedded default
suite, :data:`DEFAULT_SUITE` (``gumbelcheck suite --print-default``), is package data in the
same format.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gumbelcheck.checks import registry
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import parse_alpha

#: The suite ``gumbelcheck suite`` runs without --config.
DEFAULT_SUITE = resources.files("gumbelcheck.suite").joinpath("default.toml").read_text("utf-8")


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """One check of a suite: its name, kind and keyword arguments."""

    name: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SuiteSpec:
    """A parsed suite: its family-wise alpha, its checks, the Dask scheduler it names (or
    None), and the TOML it came from."""

    alpha: float
    checks: tuple[CheckSpec, ...]
    text: str
    scheduler: str | None = None


def parse_suite(text: str, source: str = "suite") -> SuiteSpec:
    """Parse suite TOML; InputError on anything malformed (parameters are checked by name
    here, and by value when the suite is prepared)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _error(f"{source} is not valid TOML ({error}); fix the file") from None
    unknown = sorted(set(data) - {"alpha", "scheduler", "check"})
    if unknown:
        raise _error(
            f"{source}: unknown top-level keys {unknown}; use alpha, scheduler and [[check]]"
        )
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise _error(f"{source} has no [[check]] tables; add at least one")
    try:
        alpha = parse_alpha(data.get("alpha", 0.01))
    except InputError as error:
        raise _error(f"{source}: {error}") from None
    scheduler = data.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        raise _error(
            f'{source}: scheduler {scheduler!r} is not a string; write scheduler = "local:2" '
            'or scheduler = "tcp://host:8786"'
        )
    specs = []
    for position, table in enumerate(tables):
        params = dict(table)
        name = params.pop("name", None)
        kind = params.pop("check", None)
        if not isinstance(name, str) or not name:
            raise _error(f'{source}: check {position} has no name; add name = "..."')
        if not _SAFE_NAME.fullmatch(name):
            raise _error(
                f"{source}: check name {name!r} is not a safe file name (it names the check's "
                "report); use letters, digits, '.', '_' and '-', not starting with '.'"
            )
        if "alpha" in params:
            raise _error(
                f"{source}: check {name!r} sets alpha; the suite's top-level alpha is the "
                "family-wise level of every check (Holm), so remove it from the check"
            )
        try:
            registry.get(kind).check_parameters(params)
        except InputError as error:
            raise _error(f"{source}: check {name!r}: {error}") from None
        specs.append(CheckSpec(name=name, check=kind, params=params))
    names = [spec.name for spec in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        repeated = ", ".join(duplicates)
        raise _error(f"{source}: check names repeat ({repeated}); make them unique")
    return SuiteSpec(alpha=alpha, checks=tuple(specs), text=text, scheduler=scheduler)


#: A check's name: a plain file name of at most 100 characters.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def _error(message: str) -> InputError:
    return InputError(message, in_file=True)


def load_suite(path: Path) -> SuiteSpec:
    """Read and parse a suite TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read suite {str(path)!r}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"suite {str(path)!r} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    return parse_suite(text, str(path))
