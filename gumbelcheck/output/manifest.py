"""A suite's results folder: each check's CSV and manifest.json with their SHA-256s."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from gumbelcheck.core import provenance
from gumbelcheck.output.files import atomic_write_text
from gumbelcheck.output.json import jsonable, to_json

if TYPE_CHECKING:
    from gumbelcheck.suite.run import SuiteResult

#: Version of the manifest.json layout.
MANIFEST_FORMAT = 1


def sha256(text: str) -> str:
    """SHA-256 of a report's UTF-8 bytes, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_outputs(result: SuiteResult, out: Path) -> Path:
    """Write each check's CSV and manifest.json (provenance, verdicts, SHA-256) to ``out``."""
    files = []
    for entry in result.entries:
        text = entry.csv_text()
        atomic_write_text(out / f"{entry.name}.csv", text)
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
    first = jsonable(result.entries[0].result.csv_header())
    manifest = {
        "format": MANIFEST_FORMAT,
        "tool_version": first.get("tool_version"),
        "command": first.get("command"),
        "created_utc": first.get("created_utc"),
        "versions": provenance.library_versions(),
        "platform": first.get("platform"),
        "alpha": result.spec.alpha,
        "correction": "holm",
        "verdict": result.verdict,
        "suite_toml": result.spec.text,
        "checks": files,
    }
    path = out / "manifest.json"
    atomic_write_text(path, to_json(manifest))
    return path
