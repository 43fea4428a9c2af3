"""Suites: TOML configuration, Holm's correction, JUnit XML, manifests and replay."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from gumbelcheck.core.errors import InputError
from gumbelcheck.output.manifest import SELF_HASH, manifest_hash, write_outputs
from gumbelcheck.stats import holm
from gumbelcheck.suite.replay import replay
from gumbelcheck.suite.run import run_suite
from gumbelcheck.suite.spec import DEFAULT_SUITE, parse_suite

Cli = Callable[..., Result]

SMALL = """
alpha = 0.01

[[check]]
name = "right"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 200_000
seed = 1

[[check]]
name = "wrong"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 200_000
seed = 1
sampler = "gumbel-scale-2"
"""


def test_holm_adjusts_in_log_space() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    adjusted = [10**x for x in holm([math.log10(v) for v in p])]
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([-5000.0, -1.0]) == pytest.approx([-5000.0 + math.log10(2), -1.0])


def test_holm_turns_a_marginal_pass_into_a_suite_failure_only_when_warranted() -> None:
    # Three checks with p = 0.004: each rejects alone at 0.01; Holm multiplies the smallest
    # by 3, so none is rejected as a family.
    adjusted = [10**x for x in holm([math.log10(0.004)] * 3)]
    assert min(adjusted) == pytest.approx(0.012)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[check", "not valid TOML"),
        ("alpha = 0.01", r"no \[\[check\]\]"),
        ("alpha = 2\n[[check]]\nname='a'\ncheck='maxtrick'", "`alpha` 2"),
        ("[[check]]\ncheck='maxtrick'", "has no name"),
        ("[[check]]\nname='a'\ncheck='nope'", "no check 'nope'"),
        ("[[check]]\nname='a'\ncheck='maxtrick'\n[[check]]\nname='a'\ncheck='maxtrick'", "repeat"),
        ("colour = 'red'\n[[check]]\nname='a'\ncheck='maxtrick'", "unknown top-level"),
    ],
)
def test_bad_suites_are_rejected(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_suite(text)


def test_a_wrong_sampler_fails_the_suite_and_the_junit_file_says_so(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "suite.toml"
    config.write_text(SMALL)
    junit = tmp_path / "junit.xml"
    result = cli("suite", "--config", str(config), "--junit", str(junit), "-q")
    assert result.exit_code == 1
    assert "wrong:" in result.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["right"].find("failure") is None
    failure = cases["wrong"].find("failure")
    assert failure is not None
    assert "pearson-chi2" in (failure.get("message") or "")
    assert all(float(case.get("time") or "x") >= 0 for case in cases.values())


def test_print_default_is_the_suite_that_runs_by_default(cli: Cli) -> None:
    printed = cli("suite", "--print-default")
    assert printed.exit_code == 0
    assert printed.stdout == DEFAULT_SUITE
    assert parse_suite(printed.stdout).alpha == 0.01


def test_unreadable_config_is_a_one_line_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("suite", "--config", str(tmp_path / "none.toml"))
    assert result.exit_code == 2
    assert "cannot read suite" in result.stderr


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    spec = parse_suite(SMALL.replace('sampler = "gumbel-scale-2"', ""))
    write_outputs(run_suite(spec), tmp_path)
    return tmp_path


def test_a_fresh_results_folder_replays_byte_for_byte(cli: Cli, results_dir: Path) -> None:
    result = cli("replay", str(results_dir), "-q")
    assert result.exit_code == 0, result.stdout
    assert replay(results_dir).files[0].status == "identical"


def test_a_tampered_report_is_named(cli: Cli, results_dir: Path) -> None:
    path = results_dir / "right.csv"
    path.write_text(path.read_text().replace("\n0,", "\n0,0", 1))
    result = cli("replay", str(results_dir), "-q", "--json")
    assert result.exit_code == 1
    files = {f["file"]: f for f in json.loads(result.stdout)["files"]}
    assert files["right.csv"]["status"] == "edited"
    assert "line" in files["right.csv"]["detail"]


def _rewrite(results_dir: Path, edit_manifest: Callable[[dict], None]) -> None:
    """Change a report and record its new hash, as if the run itself had produced it."""
    path = results_dir / "right.csv"
    text = path.read_text().replace("# samples:", "# samples: 1", 1)
    path.write_text(text)
    manifest = json.loads((results_dir / "manifest.json").read_text())
    import hashlib

    manifest["checks"][0]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    edit_manifest(manifest)
    manifest[SELF_HASH] = manifest_hash(manifest)
    (results_dir / "manifest.json").write_text(json.dumps(manifest))


def test_a_different_result_with_the_same_versions_is_a_failure(results_dir: Path) -> None:
    _rewrite(results_dir, lambda manifest: None)
    outcome = replay(results_dir)
    assert not outcome.passed
    assert outcome.files[0].status == "differs"
    assert "same versions" in outcome.files[0].detail


def test_other_versions_compare_verdicts_and_say_so(results_dir: Path) -> None:
    _rewrite(results_dir, lambda manifest: manifest["versions"].update(numpy="0.0.1"))
    outcome = replay(results_dir)
    assert outcome.passed
    assert not outcome.versions_match
    assert outcome.files[0].status == "verdict-matches"
    assert "numpy 0.0.1 -> " in outcome.files[0].detail


def test_missing_report_fails(results_dir: Path) -> None:
    (results_dir / "right.csv").unlink()
    assert replay(results_dir).files[0].status == "missing"


def test_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no manifest\.json"):
        replay(tmp_path)


# Replay cannot be fooled -------------------------------------------------------------------


def _edit_manifest(results_dir: Path, edit: Callable[[dict], None], rehash: bool = True) -> None:
    path = results_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    if rehash:
        manifest[SELF_HASH] = manifest_hash(manifest)
    path.write_text(json.dumps(manifest))


def test_an_edited_manifest_is_caught_by_its_own_hash(cli: Cli, results_dir: Path) -> None:
    _edit_manifest(results_dir, lambda m: m.update(verdict="PASS", alpha=0.5), rehash=False)
    result = cli("replay", str(results_dir), "-q")
    assert result.exit_code == 1
    assert "manifest.json" in result.stdout
    assert "edited" in result.stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("checks"), "has no 'checks'"),
        (lambda m: m.update(checks=[]), "lists no checks: there is nothing to verify"),
        (lambda m: m.update(checks="right.csv"), "'checks' is a str, not a list"),
        (lambda m: m["checks"][0].pop("sha256"), "has no 'sha256'"),
        (lambda m: m["checks"][0].update(file="/etc/passwd"), "not a plain file name"),
        (lambda m: m["checks"][0].update(file="../right.csv"), "not a plain file name"),
        (lambda m: m.update(versions={"numpy": 2}), "versions must map names"),
        (lambda m: m.update(format=1), "not a gumbelcheck manifest of format 2"),
        (lambda m: m["checks"][0].update(name="other"), "but its suite has the checks"),
    ],
)
def test_a_malformed_manifest_is_one_line_exit_2(
    cli: Cli, results_dir: Path, edit: Callable[[dict], None], message: str
) -> None:
    _edit_manifest(results_dir, edit)
    result = cli("replay", str(results_dir), "-q")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_changed_line_ending_is_a_difference(results_dir: Path) -> None:
    path = results_dir / "right.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    outcome = replay(results_dir)
    assert not outcome.passed
    assert outcome.files[0].status == "edited"


def test_nothing_from_a_results_folder_is_rendered_as_markup(
    cli: Cli, results_dir: Path
) -> None:
    path = results_dir / "right.csv"
    path.write_text(path.read_text().replace("# check:", "# [bold red]EVIL[/bold red]", 1))
    result = cli("replay", str(results_dir), "-q")
    assert result.exit_code == 1
    assert "[bold red]EVIL" in result.stdout


# A results folder is written as a unit -------------------------------------------------------


def test_a_second_suite_on_the_same_folder_is_refused(cli: Cli, tmp_path: Path) -> None:
    import fcntl
    import os

    from gumbelcheck.output.manifest import LOCK_NAME

    config = tmp_path / "suite.toml"
    config.write_text(SMALL)
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a first suite, still running, holds it
    try:
        result = cli("suite", "--config", str(config), "--out", str(out), "-q")
    finally:
        os.close(fd)
    assert result.exit_code == 2
    assert "is being written by another gumbelcheck suite" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    again = cli("suite", "--config", str(config), "--out", str(out), "-q")
    assert again.exit_code == 1  # the lock is free again; SMALL has a wrong sampler


def test_two_suites_at_once_never_mix_a_folder(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    config = tmp_path / "suite.toml"
    config.write_text(SMALL.replace("samples = 200_000", "samples = 1_000_000_000_000", 1))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "gumbelcheck", "suite", "--config", str(config)]
    command += ["--out", str(out), "-q", "--workers", "1"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while f" {first.pid} " not in Path("/proc/locks").read_text():  # until it holds the lock
        assert time.monotonic() < deadline, "the first suite never took the folder's lock"
        time.sleep(0.05)
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert second.returncode == 2
    assert "is being written by another gumbelcheck suite" in second.stderr
    first.send_signal(signal.SIGTERM)  # stopped mid-run: it leaves no report either
    _, stderr = first.communicate(timeout=30)
    assert first.returncode == 143, stderr
    assert [p.name for p in out.iterdir()] == [".gumbelcheck.lock"]


def test_a_new_suite_removes_the_reports_of_the_earlier_one(tmp_path: Path) -> None:
    write_outputs(run_suite(parse_suite(SMALL)), tmp_path)
    assert (tmp_path / "wrong.csv").exists()
    write_outputs(run_suite(parse_suite(SMALL.split("[[check]]\nname = \"wrong\"")[0])), tmp_path)
    assert not (tmp_path / "wrong.csv").exists()
    assert replay(tmp_path).passed


def test_a_failed_write_leaves_the_earlier_folder_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_outputs(run_suite(parse_suite(SMALL)), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full_disk(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_outputs(run_suite(parse_suite(SMALL.replace("seed = 1", "seed = 9"))), tmp_path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
