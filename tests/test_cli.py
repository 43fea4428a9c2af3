"""The command line as a user meets it: exit codes, one-line errors, reports."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from gumbelcheck import __version__
from gumbelcheck.engine import default_workers

Cli = Callable[..., Result]
BASE = ["maxtrick", "--pi", "0.1,0.2,0.7", "-q"]


def _one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gumbelcheck: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--pi", "0.1,abc,0.7"], ["'abc'"]),
        (["--pi", "0.1,nan,0.9"], ["NaN"]),
        (["--pi", "0.1,inf,0.9"], ["inf"]),
        (["--pi=-0.1,0.2,0.9"], ["negative"]),
        (["--pi", "0,0"], ["all zeros"]),
        (["--pi", ""], ["empty"]),
        (["--pi", "0.1,0.2"], ["sums to", "--normalize"]),
        (["--pi", "0.5,0.5", "--logits", "0,0"], ["--pi and --logits"]),
        (["--pi", "0.5,0.5", "--samples", "0"], ["--samples 0"]),
        (["--pi", "0.5,0.5", "--samples", "ten"], ["'ten'"]),
        (["--pi", "0.5,0.5", "--alpha", "1.5"], ["--alpha 1.5", "(0, 1)"]),
        (["--pi", "0.5,0.5", "--alpha", "0"], ["--alpha 0"]),
        (["--pi", "0.5,0.5", "--seed", "x"], ["--seed 'x'"]),
        (["--pi", "0.5,0.5", "--noise", "foo"], ["'foo'", "race"]),
        (["--pi", "0.5,0.5", "--workers", "0"], ["--workers 0"]),
        (["--pi", "0.5,0.5", "--bogus"], ["--bogus"]),
        (["--pi"], ["--pi"]),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(
    cli: Cli, args: list[str], needles: list[str]
) -> None:
    _one_line_error(cli("maxtrick", *args), *needles)


def test_unwritable_report_path_fails_before_sampling(cli: Cli, tmp_path: Path) -> None:
    # 10**15 draws would take days: the error must come first.
    target = tmp_path / "missing" / "report.csv"
    _one_line_error(cli(*BASE, "-n", "1e15", "--csv", str(target)), "does not exist")
    _one_line_error(cli(*BASE, "-n", "1e15", "--csv", str(tmp_path)), "is a directory")


def test_exit_codes_for_pass_and_fail(cli: Cli) -> None:
    passed = cli(*BASE, "-n", "100000", "--seed", "1")
    assert passed.exit_code == 0
    assert "PASS" in passed.stdout
    failed = cli(*BASE, "-n", "1000000", "--seed", "1", "--noise", "gumbel-scale-2")
    assert failed.exit_code == 1
    assert "FAIL" in failed.stdout


def test_json_is_plain_and_complete(cli: Cli) -> None:
    result = cli(*BASE, "-n", "1e5", "--seed", "3", "--json")
    data = json.loads(result.stdout)
    assert data["samples"] == 100_000
    assert {"statistic", "df", "pvalue", "log10_pvalue", "alpha", "tv_distance", "cohen_w"} <= set(
        data
    )
    assert (
        data["provenance"]["command"].startswith("gumbelcheck")
        or data["provenance"]["command"] == "python"
    )


def test_csv_has_provenance_and_reads_with_pandas(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    assert cli(*BASE, "-n", "1e5", "--seed", "3", "--csv", str(path)).exit_code == 0
    text = path.read_text()
    header = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# "))
    assert header["seed"] == "3"
    assert header["bit_generator"] == "PCG64"
    assert header["verdict"] == "PASS"
    assert "numpy=" in header["versions"]
    frame = pd.read_csv(path, comment="#")
    assert frame["observed"].sum() == 100_000
    assert list(frame["category"]) == [0, 1, 2]
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_seed_gives_a_byte_identical_csv(
    cli: Cli, stable: Callable[[Path], str], tmp_path: Path
) -> None:
    texts = []
    for name, workers in (("a.csv", "1"), ("b.csv", "2")):
        path = tmp_path / name
        cli(*BASE, "-n", "3e5", "--seed", "11", "--workers", workers, "--csv", str(path))
        recorded = min(int(workers), default_workers())  # recorded, yet changes no result byte
        assert f"\n# workers: {recorded}\n" in path.read_text()
        texts.append(stable(path))
    assert texts[0] == texts[1]


def test_version_and_help(cli: Cli) -> None:
    assert cli("--version").stdout.strip() == f"gumbelcheck {__version__}"
    for command in ([], ["maxtrick"], ["suite"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0
        assert "Examples" in result.stdout
    assert "race" in cli("maxtrick", "--help").stdout
    assert cli().exit_code == 0


def test_suite_writes_reports_and_a_manifest(cli: Cli, tmp_path: Path) -> None:
    result = cli("suite", "-q", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["verdict"] == "PASS"
    assert len(manifest["checks"]) >= 4
    for check in manifest["checks"]:
        digest = hashlib.sha256((tmp_path / check["file"]).read_bytes()).hexdigest()
        assert digest == check["sha256"]
        assert check["verdict"] == "PASS"


def test_many_categories_show_the_furthest_rows_first(cli: Cli) -> None:
    weights = ",".join(str(i) for i in range(1, 201))
    result = cli("maxtrick", "--pi", weights, "--normalize", "-n", "1e5", "--seed", "1", "-q")
    assert result.exit_code == 0
    assert "30 of 200 categories" in result.stdout


@pytest.mark.parametrize("check", ["maxtrick", "sweep"])
def test_ctrl_c_stops_promptly_with_exit_130_and_no_report(check: str, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    proc = _start_long_run(check, report)
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.communicate()  # reap it and close its pipes, also when it timed out
    assert time.monotonic() - interrupted < 2.0
    assert proc.returncode == 130
    assert err == "gumbelcheck: error: interrupted; no report was written\n"
    assert out == ""
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_left(proc.pid)


def _session(sid: int) -> dict[int, int]:
    """The processes of session ``sid``: pid -> parent pid (from /proc/PID/stat)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[3]) == sid:  # fields after the command: state ppid pgrp session ...
            found[int(stat.parent.name)] = int(fields[1])
    return found


def _start_long_run(
    check: str, report: Path, *extra: str, workers: int = 2, settle: float = 0.3
) -> subprocess.Popen[str]:
    """``gumbelcheck CHECK -n 1e13 --workers 2 EXTRA`` in a session of its own, ``settle``
    seconds after ``workers`` of its worker processes (the grandchildren: workers are forked
    by the forkserver; with ``--scheduler local:2``, the children a LocalCluster spawns)
    appeared."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "gumbelcheck", check, "--pi", "0.1,0.2,0.7"]
    command += ["-n", "1e13", "--seed", "1", "--workers", "2", "--csv", str(report), *extra]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
    )
    workers_wanted = workers
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session = _session(proc.pid)
        workers = [p for p, parent in session.items() if parent not in (proc.pid, 1)]
        if "--scheduler" in extra:  # and multiprocessing's resource tracker
            workers = [p for p, parent in session.items() if parent == proc.pid][1:]
        if len(workers) >= workers_wanted:
            break
        time.sleep(0.01)
    else:
        proc.kill()
        pytest.fail("the worker processes never started")
    time.sleep(settle)
    return proc


def _assert_nothing_left(sid: int) -> None:
    """Every process of the run's session ends within a few seconds."""
    deadline = time.monotonic() + 10
    while _session(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session(sid) == {}, "processes outlived the run"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP])
def test_killing_a_run_leaves_no_process_behind(signum: int, tmp_path: Path) -> None:
    proc = _start_long_run("maxtrick", tmp_path / "report.csv")
    os.kill(proc.pid, signum)
    _, stderr = proc.communicate(timeout=10)
    if signum == signal.SIGTERM:  # handled like Ctrl-C: one line, exit 128 + 15
        assert proc.returncode == 143
        last = stderr.splitlines()[-1]  # (after the run's estimate, if it came in time)
        assert last == "gumbelcheck: error: terminated (SIGTERM); no report was written"
    else:
        assert proc.returncode == -signum
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_left(proc.pid)


@pytest.mark.parametrize("starting", [False, True], ids=["sampling", "starting"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_a_run_on_a_local_dask_cluster_leaves_no_process_behind(
    signum: int, starting: bool, tmp_path: Path
) -> None:
    # While local:2 starts (in a thread of its own: the caller samples meanwhile), or once
    # its workers sample.
    pytest.importorskip("distributed")  # in the test extra: CI runs this
    wait = {"workers": 1, "settle": 0.0} if starting else {}
    proc = _start_long_run(
        "maxtrick", tmp_path / "report.csv", "--scheduler", "local:2", **wait
    )
    stopped = time.monotonic()
    os.kill(proc.pid, signum)
    _, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - stopped < 10
    if signum == signal.SIGKILL:
        assert proc.returncode == -signum
    else:  # the futures cancelled, the cluster closed; one line
        assert proc.returncode == 128 + signum
        last = stderr.splitlines()[-1]
        assert last.startswith(("gumbelcheck: error: interrupted", "gumbelcheck: error: term")), (
            stderr
        )
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_left(proc.pid)


def test_progress_lines_say_how_long_and_show_life_without_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gumbelcheck.cli import progress

    clock = iter([0.0, 0.5, 1.0, 3.0, 12.0, 13.0, 30.0, 31.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    lines = progress._Lines(periodic=True)  # created at t = 0
    total = 10**10
    lines.update("sampling", total, 10**6)  # t = 0.5: block 0
    lines.update("sampling", total, 10**6)  # t = 1
    lines.update("sampling", total, 2 * 10**8)  # t = 3: 2.5 s after block 0: the estimate
    lines.update("sampling", total, 4 * 10**8)  # t = 12: 6 % done, 12 s since the start
    lines.update("sampling", total, 10**6)  # t = 13: too soon for another line
    lines.update("sampling", total, 10**8)  # t = 30: but under 5 % more: no line
    assert capsys.readouterr().err.splitlines() == [
        # 2.01e8 draws in 2.5 s after block 0: 9.8e9 left take 122 s more
        "gumbelcheck: sampling: 10,000,000,000 draws will take about 2 min in all "
        "(80,400,000 draws/s); Ctrl-C stops the run",
        "gumbelcheck: sampling: 6% (602,000,000 of 10,000,000,000 draws), 12 s elapsed, "
        "about 3 min left",
    ]


def test_quiet_and_short_runs_print_no_progress(cli: Cli) -> None:
    result = cli("maxtrick", "--pi", "0.5,0.5", "-n", "1000", "--seed", "1")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_the_group_help_lists_generated_commands_without_importing_their_checks() -> None:
    # A generated command's options come from its check's prepare function; listing it in
    # `gumbelcheck --help` needs only its name and help (numpy alone costs 0.05 s of start-up).
    script = (
        "import sys\n"
        "sys.argv = ['gumbelcheck', '--help']\n"
        "from gumbelcheck.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m == 'numpy' or m.startswith('gumbelcheck.checks.')]\n"
        "print(sorted(loaded), file=sys.stderr)\n"
    )
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stderr.strip() == "['gumbelcheck.checks.registry']"
    listed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ")}
    assert {"maxlaw", "topk", "maxtrick", "gradients"} <= listed
    assert "Gumbel-top-k: ordered samples without replacement" in done.stdout
