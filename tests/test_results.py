"""results/ holds the reports of the README's main command; a replay regenerates and compares."""

from __future__ import annotations

from pathlib import Path

from gumbelcheck.suite.replay import load_manifest, replay
from gumbelcheck.suite.spec import DEFAULT_SUITE

RESULTS = Path(__file__).resolve().parent.parent / "results"


def test_committed_results_are_what_the_suite_produces() -> None:
    assert load_manifest(RESULTS)["suite_toml"] == DEFAULT_SUITE, "regenerate results/"
    outcome = replay(RESULTS)
    assert outcome.passed, [f for f in outcome.files if not f.passed]
    if outcome.versions_match:
        assert {f.status for f in outcome.files} == {"identical"}


def test_suite_reports_leave_the_machine_to_the_manifest() -> None:
    # The kernel's version string changes with OS updates, never a result: a report that
    # recorded it would "differ" on every other machine.
    manifest = load_manifest(RESULTS)
    assert manifest["platform"]
    for item in manifest["checks"]:
        header = (RESULTS / item["file"]).read_text(encoding="utf-8")
        assert "\n# platform:" not in header
        assert "\n# created_utc:" not in header
