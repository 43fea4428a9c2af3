"""JUnit XML for CI: one test case per check (a suite's checks, or one check's result),
failures with their reason."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gumbelcheck.output.files import atomic_write_text
from gumbelcheck.output.json import jsonable

if TYPE_CHECKING:
    from gumbelcheck.core.result import CheckResult
    from gumbelcheck.suite.run import SuiteResult

#: Summary keys each test case lists as properties (those a row has).
PROPERTIES = ("rule", "test", "statistic", "df", "pvalue", "log10_pvalue", "holm_log10_pvalue",
              "alpha", "samples", "effect", "mde")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class JunitCase:
    """One test case: a check's name, kind, time, summary row and verdict."""

    name: str
    check: str
    seconds: float
    row: Mapping[str, Any]
    passed: bool
    reason: str


def suite_cases(result: SuiteResult) -> list[JunitCase]:
    """One case per check of a suite (its verdict after Holm's correction)."""
    cases = []
    for entry in result.entries:
        row = entry.row()
        reason = row.get("reason") or (
            f"Holm-adjusted log10 p = {entry.holm_log10_pvalue:.4g} < log10 alpha"
        )
        cases.append(
            JunitCase(
                name=entry.name,
                check=entry.spec.check,
                seconds=entry.seconds,
                row=row,
                passed=entry.passed,
                reason=reason,
            )
        )
    return cases


def result_case(result: CheckResult, seconds: float) -> JunitCase:
    """The case of one check's result."""
    row = result.summary().flat()
    return JunitCase(
        name=result.check,
        check=result.check,
        seconds=seconds,
        row=row,
        passed=result.passed,
        reason=row.get("reason") or "check failed",
    )


def write_junit(cases: Sequence[JunitCase], path: Path, title: str = "gumbelcheck suite") -> None:
    """Write JUnit XML: one ``testcase`` per case, failures with their reason."""
    failures = sum(not case.passed for case in cases)
    total = sum(case.seconds for case in cases)
    root = ET.Element("testsuites", name="gumbelcheck", tests=str(len(cases)))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{total:.3f}")
    suite = ET.SubElement(root, "testsuite", name=title)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", f"{total:.3f}")
    for case in cases:
        row = case.row
        element = ET.SubElement(suite, "testcase", name=case.name)
        element.set("classname", f"gumbelcheck.{case.check}")
        element.set("time", f"{case.seconds:.3f}")
        properties = ET.SubElement(element, "properties")
        for key in PROPERTIES:
            if key in row:
                ET.SubElement(properties, "property", name=key, value=str(row[key]))
        if not case.passed:
            failure = ET.SubElement(element, "failure", message=case.reason, type="CheckFailed")
            failure.text = json.dumps(jsonable(row), indent=2)
        out = ET.SubElement(element, "system-out")
        log10_p = row["log10_pvalue"]
        verdict = "PASS" if case.passed else "FAIL"
        out.text = f"{case.name}: {verdict} ({row.get('test')}, log10 p = {log10_p:.4g})"
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    atomic_write_text(path, text)
