"""Suites: a list of checks with their parameters, run in one go, replayable bit for bit.

A suite is TOML: an optional top-level ``alpha`` (the family-wise error rate, controlled
across the checks with Holm's method; default 0.01) and one ``[[check]]`` table per check,
with ``name``, ``check`` (the kind) and that check's keyword arguments. The embedded default
suite, :data:`DEFAULT_SUITE`, is in the same format (``gumbelcheck suite --print-default``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gumbelcheck import report
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import parse_alpha
from gumbelcheck.stats import holm

#: Version of the manifest.json layout.
MANIFEST_FORMAT = 1

#: Provenance that changes from run to run; kept in the manifest, not in the check's CSV,
#: so that a replay can reproduce every CSV byte for byte.
VOLATILE = ("command", "created_utc")

DEFAULT_SUITE = """\
# gumbelcheck's default suite: the checks `gumbelcheck suite` runs.
# alpha is the family-wise error rate across the checks (Holm's method).
alpha = 0.01

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

[[check]]
name = "sweep-basic"
check = "sweep"
# Gumbel-Softmax over 25 log-spaced temperatures from 1e-3 to 1e3 (results/sweep.png)
pi = [0.1, 0.2, 0.7]
tau = "1e-3:1e3:25"
samples = 100_000
seed = 5
"""


class CheckResult(Protocol):
    """What every check's result offers the suite.

    ``summary()`` returns at least: ``check``, ``verdict``, ``rule``, ``test``, ``statistic``,
    ``df``, ``pvalue``, ``log10_pvalue``, ``alpha``, ``samples`` (or None), ``effect`` (a
    short text such as ``"TV 3.1e-05"``), ``reason`` (empty when the check passed) and
    ``hard_failure``: True when the check failed for a reason other than its p-value (a draw
    on a zero-probability category, a function missing its reference); such a failure stands
    whatever the multiple-testing correction. A check without ``hard_failure`` that failed is
    counted as a hard failure.
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
    from gumbelcheck.checks.sweep import sweep

    return {"maxtrick": maxtrick, "dist": dist, "sweep": sweep}


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """One check of a suite: its name, kind and keyword arguments."""

    name: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SuiteSpec:
    """A parsed suite: its family-wise alpha, its checks, and the TOML it came from."""

    alpha: float
    checks: tuple[CheckSpec, ...]
    text: str


def parse_suite(text: str, source: str = "suite") -> SuiteSpec:
    """Parse suite TOML; InputError on anything malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{source} is not valid TOML ({error}); fix the file") from None
    unknown = sorted(set(data) - {"alpha", "check"})
    if unknown:
        raise InputError(f"{source}: unknown top-level keys {unknown}; use alpha and [[check]]")
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{source} has no [[check]] tables; add at least one")
    try:
        alpha = parse_alpha(data.get("alpha", 0.01))
    except InputError as error:
        raise InputError(f"{source}: {error}") from None
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
    return SuiteSpec(alpha=alpha, checks=tuple(specs), text=text)


def load_suite(path: Path) -> SuiteSpec:
    """Read and parse a suite TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read suite {str(path)!r}: {error.strerror}") from None
    return parse_suite(text, str(path))


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteEntry:
    """A check of a suite with its result, its Holm-adjusted p-value and its suite verdict."""

    name: str
    spec: CheckSpec
    result: CheckResult
    seconds: float
    holm_log10_pvalue: float
    passed: bool

    def row(self) -> dict[str, Any]:
        """The check's summary figures, with its name first and the Holm-adjusted p."""
        return {
            "name": self.name,
            **self.result.summary(),
            "verdict": "PASS" if self.passed else "FAIL",
            "holm_pvalue": 10.0**self.holm_log10_pvalue,
            "holm_log10_pvalue": self.holm_log10_pvalue,
        }

    def csv_text(self) -> str:
        """The check's CSV report, without the volatile provenance lines."""
        header = {k: v for k, v in self.result.csv_header().items() if k not in VOLATILE}
        return report.csv_text(self.result.to_frame(), header)


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteResult:
    """The results of every check in a suite."""

    spec: SuiteSpec
    entries: tuple[SuiteEntry, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed (after Holm's correction)."""
        return all(entry.passed for entry in self.entries)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible types."""
        return report.jsonable(
            {
                "verdict": "PASS" if self.passed else "FAIL",
                "alpha": self.spec.alpha,
                "correction": "holm",
                "checks": [
                    {**e.result.to_dict(), **e.row(), "seconds": e.seconds} for e in self.entries
                ],
            }
        )


def run_suite(
    spec: SuiteSpec,
    *,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> SuiteResult:
    """Run every check of a suite in order, then apply Holm's correction across them.

    Parameters
    ----------
    spec : SuiteSpec
        The suite (see :func:`parse_suite`).
    workers : int, optional
        Worker processes for each check; results do not depend on it.
    progress : callable, optional
        ``progress(check_name, samples_done)`` after each block.

    Returns
    -------
    SuiteResult
        A check passes the suite when it has no hard failure and its Holm-adjusted p-value
        is at least the suite's alpha.
    """
    known = _checks()
    done = []
    for check in spec.checks:
        started = time.perf_counter()
        on_block = None if progress is None else _bind(progress, check.name)
        try:
            result = known[check.check](**check.params, workers=workers, progress=on_block)
        except TypeError as error:
            raise InputError(f"check {check.name!r}: {error}; fix its parameters") from None
        except InputError as error:
            raise InputError(f"check {check.name!r}: {error}") from None
        done.append((check, result, time.perf_counter() - started))
    adjusted = holm([result.summary()["log10_pvalue"] for _, result, _ in done])
    entries = []
    for (check, result, seconds), log10_adjusted in zip(done, adjusted.tolist(), strict=True):
        summary = result.summary()
        hard = bool(summary.get("hard_failure", not result.passed))
        entries.append(
            SuiteEntry(
                name=check.name,
                spec=check,
                result=result,
                seconds=seconds,
                holm_log10_pvalue=log10_adjusted,
                passed=not hard and log10_adjusted >= math.log10(spec.alpha),
            )
        )
    return SuiteResult(spec=spec, entries=tuple(entries))


def _bind(progress: Callable[[str, int], None], name: str) -> Callable[[int], None]:
    return lambda done: progress(name, done)


def write_outputs(result: SuiteResult, out: Path) -> Path:
    """Write each check's CSV and manifest.json (provenance, verdicts, SHA-256) to ``out``."""
    files = []
    for entry in result.entries:
        text = entry.csv_text()
        report.atomic_write_text(out / f"{entry.name}.csv", text)
        row = entry.row()
        files.append(
            {
                "name": entry.name,
                "check": entry.spec.check,
                "params": entry.spec.params,
                "verdict": row["verdict"],
                "log10_pvalue": row["log10_pvalue"],
                "holm_log10_pvalue": row["holm_log10_pvalue"],
                "file": f"{entry.name}.csv",
                "sha256": sha256(text),
            }
        )
    first = report.jsonable(result.entries[0].result.to_dict().get("provenance", {}))
    manifest = {
        "format": MANIFEST_FORMAT,
        "tool_version": first.get("tool_version"),
        "command": first.get("command"),
        "created_utc": first.get("created_utc"),
        "versions": provenance.library_versions(),
        "platform": first.get("platform"),
        "alpha": result.spec.alpha,
        "correction": "holm",
        "verdict": "PASS" if result.passed else "FAIL",
        "suite_toml": result.spec.text,
        "checks": files,
    }
    path = out / "manifest.json"
    report.atomic_write_text(path, report.to_json(manifest))
    return path


def sha256(text: str) -> str:
    """SHA-256 of a report's UTF-8 bytes, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_junit(result: SuiteResult, path: Path) -> None:
    """Write the suite as JUnit XML: one ``testcase`` per check, failures with their reason."""
    failures = sum(not e.passed for e in result.entries)
    total = sum(e.seconds for e in result.entries)
    root = ET.Element("testsuites", name="gumbelcheck", tests=str(len(result.entries)))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{total:.3f}")
    suite = ET.SubElement(root, "testsuite", name="gumbelcheck suite")
    suite.set("tests", str(len(result.entries)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", f"{total:.3f}")
    for entry in result.entries:
        row = entry.row()
        case = ET.SubElement(suite, "testcase", name=entry.name)
        case.set("classname", f"gumbelcheck.{entry.spec.check}")
        case.set("time", f"{entry.seconds:.3f}")
        properties = ET.SubElement(case, "properties")
        for key in ("rule", "test", "statistic", "df", "pvalue", "log10_pvalue",
                    "holm_log10_pvalue", "alpha", "samples", "effect"):  # fmt: skip
            ET.SubElement(properties, "property", name=key, value=str(row.get(key)))
        if not entry.passed:
            reason = row.get("reason") or (
                f"Holm-adjusted log10 p = {entry.holm_log10_pvalue:.4g} < log10 alpha"
            )
            failure = ET.SubElement(case, "failure", message=reason, type="CheckFailed")
            failure.text = json.dumps(report.jsonable(row), indent=2)
        out = ET.SubElement(case, "system-out")
        log10_p = row["log10_pvalue"]
        out.text = f"{entry.name}: {row['verdict']} ({row.get('test')}, log10 p = {log10_p:.4g})"
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    report.atomic_write_text(path, text)
