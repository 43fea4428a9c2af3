"""JUnit XML of a suite, for CI: one test case per check, failures with their reason."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from gumbelcheck.output.files import atomic_write_text
from gumbelcheck.output.json import jsonable

if TYPE_CHECKING:
    from gumbelcheck.suite.run import SuiteResult


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
            failure.text = json.dumps(jsonable(row), indent=2)
        out = ET.SubElement(case, "system-out")
        log10_p = row["log10_pvalue"]
        out.text = f"{entry.name}: {row['verdict']} ({row.get('test')}, log10 p = {log10_p:.4g})"
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    atomic_write_text(path, text)
