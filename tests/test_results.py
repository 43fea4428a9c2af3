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
