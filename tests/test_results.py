"""results/ holds the reports of the README's main command; regenerate and compare."""

from __future__ import annotations

import json
from pathlib import Path

from gumbelcheck import suite

RESULTS = Path(__file__).resolve().parent.parent / "results"

#: Header lines that describe the machine and the moment, not the result.
ENVIRONMENT = ("# command:", "# versions:", "# platform:", "# created_utc:")


def _result_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(ENVIRONMENT)]


def test_committed_results_are_what_the_suite_produces(tmp_path: Path) -> None:
    specs = suite.parse_suite(suite.DEFAULT_SUITE)
    suite.write_outputs(suite.run_suite(specs), tmp_path)
    committed = json.loads((RESULTS / "manifest.json").read_text())
    fresh = json.loads((tmp_path / "manifest.json").read_text())
    assert [c["file"] for c in committed["checks"]] == [c["file"] for c in fresh["checks"]]
    for check in fresh["checks"]:
        expected = (RESULTS / check["file"]).read_text()
        assert _result_lines((tmp_path / check["file"]).read_text()) == _result_lines(expected)
