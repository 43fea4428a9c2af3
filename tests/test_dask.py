"""The Dask backend: the bytes of a local run, on an in-process cluster and on a real one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gumbelcheck import engine
from gumbelcheck.checks import maxtrick, sweep
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.result import CheckResult
from gumbelcheck.engine import dask as dask_backend
from gumbelcheck.output.csv import csv_text
from gumbelcheck.suite.run import VOLATILE, run_suite
from gumbelcheck.suite.spec import parse_suite

distributed = pytest.importorskip("distributed")  # in the test extra: CI runs every test here

PI = "0.1,0.2,0.7"


def _report(result: CheckResult) -> str:
    """A check's CSV report as a suite writes it (without the volatile provenance)."""
    header = {k: v for k, v in result.csv_header().items() if k not in VOLATILE}
    return csv_text(result.to_frame(), header)


def _sum_of_uniforms(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    return np.array([rng.random(n).sum()])


def _starts(rng: np.random.Generator, n: int, start: int) -> list[int]:
    return [start]


def _worker_of_block(rng: np.random.Generator, n: int, start: int) -> str:
    time.sleep(0.05)  # the whole first window is placed while the first task runs
    return str(distributed.get_worker().address)


def _fails_at_block_7(rng: np.random.Generator, n: int, start: int) -> int:
    if start == 7 * n:
        raise ZeroDivisionError("block 7")
    return n


@pytest.fixture(scope="module")
def in_process() -> Iterator[str]:
    """A two-worker LocalCluster in this process; its scheduler's address."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        try:
            yield cluster.scheduler_address
        finally:
            dask_backend.close_all()


@pytest.fixture
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One block per task: many tasks, finishing out of order."""
    monkeypatch.setattr(dask_backend, "MAX_TASK_BLOCKS", 1)


@pytest.mark.usefixtures("small_tasks")
def test_float_sums_and_block_order_are_those_of_a_local_run(in_process: str) -> None:
    plan = engine.Plan(samples=100_003, block_size=1000)
    backend = dask_backend.backend(in_process)
    local = engine.run_blocks(plan, 5, _sum_of_uniforms, np.add, workers=1)
    remote = engine.run_blocks(plan, 5, _sum_of_uniforms, np.add, backend=backend)
    assert local.tobytes() == remote.tobytes()
    starts = engine.run_blocks(plan, 5, _starts, list.__add__, backend=backend)
    assert starts == [b * 1000 for b in range(plan.blocks)]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the tasks submitted to Dask from now on, in order."""
    submitted: list[str] = []
    submit = distributed.Client.submit

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        submitted.append(kwargs["key"])
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", recording)
    return submitted


@pytest.mark.usefixtures("small_tasks")
def test_tasks_are_named_by_block_range_and_bounded_in_flight(
    in_process: str, keys: list[str]
) -> None:
    backend = dask_backend.backend(in_process)
    plan = engine.Plan(samples=50, block_size=1)
    parts = backend.results(_starts, plan, 3, range(1, 50), 0.0)
    assert next(parts) == [1]
    window = dask_backend.TASKS_PER_THREAD * 2
    assert len(keys) <= 1 + window + 1  # the kernel, a full window, one refill
    rest = list(parts)
    assert rest == [[b] for b in range(2, 50)]
    run = keys[0].removesuffix("-kernel")
    assert keys[1:] == [f"{run}-blocks-{b}-{b + 1}" for b in range(1, 50)]
    keys.clear()
    list(backend.results(_starts, plan, 3, range(1, 50), 0.0))
    assert not keys[0].startswith(run), "a second run is never merged with the first"


@pytest.mark.usefixtures("small_tasks")
def test_every_run_spreads_its_first_tasks_over_every_worker(in_process: str) -> None:
    # The scheduler puts a task where its dependencies are: a kernel held by one worker drew
    # the whole first window of tasks to that worker, and the other idled until work stealing.
    backend = dask_backend.backend(in_process)
    plan = engine.Plan(samples=13, block_size=1)
    window = dask_backend.TASKS_PER_THREAD * 2
    for _ in range(2):  # each run has a kernel of its own
        workers = list(backend.results(_worker_of_block, plan, 3, range(1, 13), 0.0))
        assert len(set(workers[:window])) == 2, workers


def test_tasks_shrink_towards_the_end_and_are_capped_by_the_bytes_of_their_results(
    in_process: str, keys: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    most = dask_backend.MAX_TASK_BLOCKS
    cap = dask_backend.MAX_TASK_BYTES
    # 2 MiB a block (and the list's own few bytes, as dask.sizeof counts them).
    fit = dask_backend._most_blocks([np.zeros(2**18)] * 3)
    assert fit * 2**21 <= cap < (fit + 2) * 2**21
    assert dask_backend._most_blocks([np.zeros(2**22)]) == 1  # 32 MiB: one block a task
    assert dask_backend._most_blocks([np.zeros(1)] * 5) == most
    backend = dask_backend.backend(in_process)
    monkeypatch.setattr(dask_backend, "TAIL_SECONDS", 0.0)  # these blocks take microseconds
    plan = engine.Plan(samples=10_001, block_size=1)
    assert len(list(backend.results(_starts, plan, 3, range(1, 10_001), 0.0))) == 10_000
    ranges = [tuple(map(int, key.rsplit("-", 2)[1:])) for key in keys[1:]]
    assert ranges[0] == (1, 1 + dask_backend.FIRST_TASK_BLOCKS)
    assert max(stop - start for start, stop in ranges) == most
    # Never more than a quarter of the blocks left per worker (2 workers), down to one block.
    assert all(stop - start <= -(-(10_001 - start) // 4) for start, stop in ranges)
    assert ranges[-1] == (10_000, 10_001)


def test_the_readme_configuration_file_is_the_configuration_of_local_n() -> None:
    import yaml

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    text = readme.split("gumbelcheck.yaml`:\n\n```yaml\n", 1)[1].split("```", 1)[0]

    def flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            name = f"{prefix}{key}"
            out |= flat(value, name + ".") if isinstance(value, dict) else {name: value}
        return out

    assert flat(yaml.safe_load(text)) == dask_backend.LOCAL_CLUSTER_CONFIG


def test_a_failing_block_raises_in_the_caller(in_process: str) -> None:
    plan = engine.Plan(samples=100, block_size=10)
    backend = dask_backend.backend(in_process)
    with pytest.raises(ZeroDivisionError, match="block 7"):
        engine.run_blocks(plan, 1, _fails_at_block_7, int.__add__, backend=backend)


def test_checks_on_a_cluster_report_the_bytes_of_a_local_run(in_process: str) -> None:
    options: dict[str, Any] = {"samples": 400_000, "seed": 3, "block_size": 10_000}
    local = maxtrick.maxtrick(PI, workers=1, **options)
    remote = maxtrick.maxtrick(PI, scheduler=in_process, **options)
    assert _report(remote) == _report(local)
    recorded = remote.provenance
    assert (recorded.backend, recorded.scheduler, recorded.workers) == ("dask", in_process, 2)
    assert local.provenance.backend == "local"
    options = {"tau": "0.5,2", "samples": 30_000, "seed": 4}
    assert _report(sweep.sweep(PI, scheduler=in_process, **options)) == _report(
        sweep.sweep(PI, **options)
    )
    from gumbelcheck import gradients, maxlaw, topk

    for check, kwargs in [
        (gradients, {"tau": "0.5,2", "samples": 20_000, "seed": 5}),
        (maxlaw, {"samples": 50_000, "seed": 6}),
        (topk, {"m": 2, "samples": 50_000, "seed": 7, "law": "marginals"}),
    ]:
        assert _report(check(PI, scheduler=in_process, **kwargs)) == _report(check(PI, **kwargs))


def test_the_scheduler_comes_from_the_option_then_the_environment_then_the_suite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    choose = dask_backend.chosen_scheduler
    monkeypatch.delenv(dask_backend.ENV, raising=False)
    assert choose(None) is None
    assert choose(None, "local:2") == "local:2"
    monkeypatch.setenv(dask_backend.ENV, "tcp://10.0.0.5:8786")
    assert choose(None, "local:2") == "tcp://10.0.0.5:8786"
    assert choose("local:3", "local:2") == "local:3"
    monkeypatch.setenv(dask_backend.ENV, " ")
    assert choose(None) is None


def test_a_suite_names_its_scheduler_and_runs_there(
    in_process: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(dask_backend.ENV, raising=False)
    checks = f'[[check]]\nname = "m"\ncheck = "maxtrick"\npi = "{PI}"\nsamples = 100000\nseed = 1\n'
    spec = parse_suite(f'scheduler = "{in_process}"\n{checks}')
    assert spec.scheduler == in_process
    remote = run_suite(spec)
    assert remote.entries[0].result.provenance.backend == "dask"
    local = run_suite(parse_suite(checks))
    assert remote.entries[0].csv_text() == local.entries[0].csv_text()
    with pytest.raises(InputError, match="scheduler 2 is not a string"):
        parse_suite(f"scheduler = 2\n{checks}")


@pytest.mark.parametrize(
    "scheduler", ["bogus", "local:0", "local:x", "8786", "a://0", "tcp://:::", "tcp://h:99999"]
)
def test_a_bad_scheduler_is_one_line_with_exit_code_2(cli: Any, scheduler: str) -> None:
    result = cli("maxtrick", "--pi", PI, "-n", "1000", "-q", "--scheduler", scheduler)
    assert result.exit_code == 2
    assert result.stderr == (
        f"gumbelcheck: error: --scheduler {scheduler!r} is not a Dask scheduler; give its "
        "address like tcp://10.0.0.5:8786, or local:N for a cluster of N workers on this "
        "machine\n"
    )


def test_a_local_cluster_has_no_more_workers_than_cores() -> None:
    assert dask_backend.local_workers("local:1") == 1
    assert dask_backend.local_workers("local:100000") == engine.default_workers()


def test_a_local_2_cluster_gives_the_bytes_of_a_local_run(
    cli: Any, stable: Callable[[Path], str], tmp_path: Path
) -> None:
    command = ["maxtrick", "--pi", PI, "-n", "1e6", "--seed", "5", "--block-size", "20000", "-q"]
    for where, extra in (("local", []), ("dask", ["--scheduler", "local:2"])):
        result = cli(*command, "--csv", str(tmp_path / f"{where}.csv"), *extra)
        assert result.exit_code == 0, result.output
    assert "\n# scheduler: local:2\n" in (tmp_path / "dask.csv").read_text()
    assert stable(tmp_path / "dask.csv") == stable(tmp_path / "local.csv")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_an_unreachable_scheduler_is_one_line_with_exit_code_2_soon(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = cli("maxtrick", "--pi", PI, "-n", "1000", "-q", "--scheduler", address)
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"gumbelcheck: error: cannot reach the Dask scheduler {address}")
    assert result.stdout == ""


def test_a_local_cluster_that_cannot_start_is_one_line_with_exit_code_2(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # local:N starts in the background while the caller samples: the failure comes mid-run.
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("no free port")

    monkeypatch.setattr(distributed, "LocalCluster", refuse)
    result = cli("maxtrick", "--pi", PI, "-n", "1e6", "-q", "--scheduler", "local:2")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "gumbelcheck: error: could not start the Dask cluster local:2 (no free port); use "
        "fewer workers, or run without --scheduler"
    ]
    assert dask_backend._starting == {}, "closing forgets the failed start"


def test_input_found_bad_after_the_scheduler_starts_no_local_cluster(
    cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(dask_backend, "start", started.append)
    report = tmp_path / "missing" / "report.csv"
    result = cli("maxtrick", "--pi", PI, "-q", "--scheduler", "local:2", "--csv", str(report))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"gumbelcheck: error: cannot write '{report}'")
    assert started == []


# A real cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1.


def _dask(*args: str) -> subprocess.Popen[bytes]:
    """``dask ARGS`` in a session of its own (so that it and its children can be killed)."""
    command = [str(Path(sys.executable).parent / "dask"), *args]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], list[Any]]]:
    """A scheduler on a free port and two single-threaded workers (no nanny: a killed worker
    stays dead); its address, the scheduler process and the workers. Everything started is
    killed afterwards."""
    file = tmp_path / "scheduler.json"
    where = ["--host", "127.0.0.1", "--no-dashboard"]
    started = [_dask("scheduler", "--port", "0", *where, "--scheduler-file", str(file))]
    try:
        _wait_for(file.exists, "the scheduler")
        for _ in range(2):
            worker = ["worker", "--nthreads", "1", "--no-nanny", *where]
            started.append(_dask(*worker, "--scheduler-file", str(file)))
        address = json.loads(file.read_text())["address"]
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, started[0], started[1:]
    finally:
        dask_backend.close_all()
        for proc in started:
            _stop(proc)


def test_a_real_cluster_gives_the_bytes_of_a_local_run_and_survives_a_killed_worker(
    cli: Any,
    stable: Callable[[Path], str],
    cluster: tuple[str, subprocess.Popen[bytes], list[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, scheduler, workers = cluster
    monkeypatch.delenv(dask_backend.ENV, raising=False)
    commands = {
        "maxtrick": ["maxtrick", "--pi", PI, "-n", "2e6", "--seed", "7"],
        "sweep": ["sweep", "--pi", PI, "--tau", "0.5,1,2", "-n", "1e5", "--seed", "7"],
    }
    for name, command in commands.items():
        for where, extra in (("local", []), ("dask", ["--scheduler", address])):
            out = tmp_path / f"{name}-{where}.csv"
            result = cli(*command, "-q", "--csv", str(out), *extra)
            assert result.exit_code == 0, result.output
        assert "\n# backend: dask\n" in (tmp_path / f"{name}-dask.csv").read_text()
        assert stable(tmp_path / f"{name}-dask.csv") == stable(tmp_path / f"{name}-local.csv")
    suite = tmp_path / "suite.toml"
    suite.write_text(
        f'scheduler = "{address}"\n'
        f'[[check]]\nname = "max"\ncheck = "maxtrick"\npi = "{PI}"\nsamples = 1000000\nseed = 1\n'
        f'[[check]]\nname = "law"\ncheck = "maxlaw"\npi = "{PI}"\nsamples = 100000\nseed = 2\n'
    )
    # The local suite is the same suite without its scheduler.
    local_suite = tmp_path / "local.toml"
    local_suite.write_text(suite.read_text().split("\n", 1)[1])
    result = cli("suite", "-q", "--config", str(local_suite), "--out", str(tmp_path / "local"))
    assert result.exit_code == 0, result.output
    result = cli("suite", "-q", "--config", str(suite), "--out", str(tmp_path / "dask"))
    assert result.exit_code == 0, result.output
    for name in ("max.csv", "law.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert (manifest["backend"], manifest["scheduler"], manifest["workers"]) == ("dask", address, 2)
    result = cli("replay", str(tmp_path / "local"), "-q", "--scheduler", address)
    assert result.exit_code == 0, result.output

    # A worker killed once the first results are in: its tasks run again on the other.
    options: dict[str, Any] = {"samples": 20_000_000, "seed": 9, "block_size": 20_000}
    expected = _report(maxtrick.maxtrick(PI, workers=1, **options))
    killed: list[int] = []

    def kill_a_worker(samples: int) -> None:
        killed.append(samples)
        if len(killed) == 2:  # block 0 ran here, block 1 is the cluster's first result
            os.kill(workers[1].pid, signal.SIGKILL)

    ready = maxtrick.prepare(PI, scheduler=address, **options)
    result = ready.run(kill_a_worker)
    assert len(killed) == 1000
    assert workers[1].wait(timeout=10) == -signal.SIGKILL
    assert _report(result) == expected
    assert result.provenance.workers == 1

    # The scheduler gone mid-run: one error, soon, never a hang.
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 2.0)
    gone: list[float] = []

    def kill_the_scheduler(samples: int) -> None:
        gone.append(time.monotonic())
        if len(gone) == 2:
            os.killpg(scheduler.pid, signal.SIGKILL)

    ready = maxtrick.prepare(PI, scheduler=address, **options)
    with pytest.raises(dask_backend.ClusterError, match=f"lost the Dask scheduler {address}"):
        ready.run(kill_the_scheduler)
    assert time.monotonic() - gone[1] < 20
