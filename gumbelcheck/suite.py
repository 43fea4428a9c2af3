"""Suites: a list of checks with their parameters, run in one go.

A suite is TOML: one ``[[check]]`` table per check, with ``name``, ``check`` (the kind) and
that check's keyword arguments. The embedded default suite is :data:`DEFAULT_SUITE`.
"""

from __future__ import annotations

import hashlib
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gumbelcheck import provenance, report
from gumbelcheck.errors import InputError

DEFAULT_SUITE = """\
# gumbelcheck's default suite: the checks `gumbelcheck suite` runs.

[[check]]
name = "maxtrick-basic"
check = "maxtrick"
pi = [0.1, 0.2, 0.7]
samples = 10_000_000
seed = 1

[[check]]
name = "maxtrick-rare"
check = "maxtrick"
# expected count 1 in the rare category: tested on its own with an exact binomial test
pi = [0.5, 0.4999999, 1e-7]
samples = 10_000_000
seed = 2

[[check]]
name = "maxtrick-zero"
check = "maxtrick"
# a zero-probability category: any draw there is a hard failure
pi = [0.25, 0.0, 0.75]
samples = 10_000_000
seed = 3

[[check]]
name = "maxtrick-logits-k50"
check = "maxtrick"
# 50 categories given as logits, one of them -inf (probability 0)
logits = [-inf, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0,
          -1.0, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0, -4.5, -5.0, -5.5,
          0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1,
          1.2, 1.3, 1.4, 1.6, 1.7, 1.8, 1.9, 2.1, 2.2, 2.3,
          -0.1, -0.2, -0.3, -0.4, -0.6, -0.7, -0.8, -0.9, -6.0, -8.0]
samples = 2_000_000
seed = 4

[[check]]
name = "dist"
check = "dist"
# pdf ... isf against a 256-bit reference and SciPy; 1M draws through the inverse CDF
mu = 0.0
beta = 1.0
samples = 1_000_000
seed = 5
"""


class CheckResult(Protocol):
    """What every check's result offers the suite.

    ``summary()`` returns at least: ``check``, ``verdict``, ``rule``, ``test``, ``statistic``,
    ``df``, ``pvalue``, ``log10_pvalue``, ``alpha``, ``samples`` (or None), ``effect`` (a
    short text such as ``"TV 3.1e-05"``) and ``reason`` (empty when the check passed).
    """

    check: str

    @property
    def passed(self) -> bool: ...

    def summary(self) -> dict[str, Any]: ...

    def to_dict(self) -> dict[str, Any]: ...

    def to_frame(self) -> Any: ...

    def csv_header(self) -> dict[str, Any]: ...


def _checks() -> dict[str, Callable[..., CheckResult]]:
    from gumbelcheck.checks.dist import dist
    from gumbelcheck.checks.maxtrick import maxtrick

    return {"maxtrick": maxtrick, "dist": dist}


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """One check of a suite: its name, kind and keyword arguments."""

    name: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)


def parse_suite(text: str, source: str = "suite") -> tuple[CheckSpec, ...]:
    """Parse suite TOML into check specifications; InputError on anything malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{source} is not valid TOML ({error}); fix the file") from None
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{source} has no [[check]] tables; add at least one")
    known = _checks()
    specs = []
    for position, table in enumerate(tables):
        params = dict(table)
        name = params.pop("name", None)
        kind = params.pop("check", None)
        if not isinstance(name, str) or not name:
            raise InputError(f'{source}: check {position} has no name; add name = "..."')
        if kind not in known:
            raise InputError(
                f"{source}: check {name!r} has kind {kind!r}; use one of {', '.join(known)}"
            )
        specs.append(CheckSpec(name=name, check=kind, params=params))
    names = [spec.name for spec in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        repeated = ", ".join(duplicates)
        raise InputError(f"{source}: check names repeat ({repeated}); make them unique")
    return tuple(specs)


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteEntry:
    """A check of a suite with its result and wall-clock time."""

    name: str
    spec: CheckSpec
    result: CheckResult
    seconds: float

    def row(self) -> dict[str, Any]:
        """The check's summary figures, with its name first."""
        return {"name": self.name, **self.result.summary()}


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteResult:
    """The results of every check in a suite."""

    entries: tuple[SuiteEntry, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(entry.result.passed for entry in self.entries)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible types."""
        return report.jsonable(
            {
                "verdict": "PASS" if self.passed else "FAIL",
                "checks": [
                    {"name": e.name, "seconds": e.seconds, **e.result.to_dict()}
                    for e in self.entries
                ],
            }
        )


def run_suite(
    specs: tuple[CheckSpec, ...],
    *,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> SuiteResult:
    """Run every check of a suite in order.

    Parameters
    ----------
    specs : tuple of CheckSpec
        The checks (see :func:`parse_suite`).
    workers : int, optional
        Threads for each check; results do not depend on it.
    progress : callable, optional
        ``progress(check_name, samples_done)`` after each block.
    """
    known = _checks()
    entries = []
    for spec in specs:
        started = time.perf_counter()
        on_block = None if progress is None else _bind(progress, spec.name)
        try:
            result = known[spec.check](**spec.params, workers=workers, progress=on_block)
        except TypeError as error:
            raise InputError(f"check {spec.name!r}: {error}; fix its parameters") from None
        except InputError as error:
            raise InputError(f"check {spec.name!r}: {error}") from None
        entries.append(
            SuiteEntry(
                name=spec.name, spec=spec, result=result, seconds=time.perf_counter() - started
            )
        )
    return SuiteResult(entries=tuple(entries))


def _bind(progress: Callable[[str, int], None], name: str) -> Callable[[int], None]:
    return lambda done: progress(name, done)


def write_outputs(result: SuiteResult, out: Path) -> Path:
    """Write each check's CSV and a manifest.json (provenance, verdicts, SHA-256) to ``out``."""
    files = []
    for entry in result.entries:
        path = out / f"{entry.name}.csv"
        text = report.csv_text(entry.result.to_frame(), entry.result.csv_header())
        report.atomic_write_text(path, text)
        files.append(
            {
                "name": entry.name,
                "check": entry.spec.check,
                "params": entry.spec.params,
                "verdict": "PASS" if entry.result.passed else "FAIL",
                "file": path.name,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }
        )
    first = result.entries[0].result.to_dict()["provenance"] if result.entries else {}
    manifest = {
        "tool_version": first.get("tool_version"),
        "command": first.get("command"),
        "created_utc": first.get("created_utc"),
        "versions": provenance.library_versions(),
        "platform": first.get("platform"),
        "verdict": "PASS" if result.passed else "FAIL",
        "checks": files,
    }
    path = out / "manifest.json"
    report.atomic_write_text(path, report.to_json(manifest))
    return path
