"""The block engine: results depend on the seed and block size only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gumbelcheck import engine
from gumbelcheck.engine import local  # noqa: F401 - engine.local in monkeypatches


def _sum_of_uniforms(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    return np.array([rng.random(n).sum()])


def _backend(processes: bool) -> str:
    return "processes" if processes else "threads"


def test_plan_cuts_the_last_block_short() -> None:
    plan = engine.Plan(samples=10, block_size=4)
    assert plan.blocks == 3
    assert [plan.size(b) for b in range(3)] == [4, 4, 2]


@pytest.fixture
def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process pool even for the tests' tiny kernels (normally threads run short plans)."""
    monkeypatch.setattr(engine.local, "PROCESS_MIN_SECONDS", 0.0)


@pytest.mark.usefixtures("always_fork")
@pytest.mark.parametrize("processes", [False, True])
@pytest.mark.parametrize("workers", [2, 3, 7])
def test_float_sums_are_bit_identical_for_any_worker_count(workers: int, processes: bool) -> None:
    plan = engine.Plan(samples=100_003, block_size=1000)
    one = engine.run_blocks(plan, 5, _sum_of_uniforms, np.add, workers=1)
    many = engine.run_blocks(
        plan, 5, _sum_of_uniforms, np.add, workers=workers, backend=_backend(processes)
    )
    assert one.tobytes() == many.tobytes()


def _first_sample(rng: np.random.Generator, n: int, start: int) -> list[tuple[int, int]]:
    return [(start, n)]


@pytest.mark.usefixtures("always_fork")
@pytest.mark.parametrize(("workers", "processes"), [(1, False), (2, False), (2, True)])
def test_kernels_learn_where_their_block_starts(workers: int, processes: bool) -> None:
    plan = engine.Plan(samples=10, block_size=4)
    seen = engine.run_blocks(
        plan, 1, _first_sample, list.__add__, workers=workers, backend=_backend(processes)
    )
    assert seen == [(0, 4), (4, 4), (8, 2)]


@dataclass(frozen=True)
class _Offset:
    """A picklable kernel object, as the checks' kernels are."""

    offset: float

    def __call__(self, rng: np.random.Generator, n: int, start: int) -> list[float]:
        return [start + self.offset]


@pytest.mark.usefixtures("always_fork")
def test_worker_processes_get_a_pickled_kernel_and_size_tasks_by_time() -> None:
    # Hundreds of fast blocks are batched into tasks of many blocks; the results still come
    # in block order.
    plan = engine.Plan(samples=3000, block_size=1)
    seen = engine.run_blocks(plan, 1, _Offset(0.5), list.__add__, workers=2, backend="processes")
    assert seen == [b + 0.5 for b in range(3000)]


@pytest.mark.usefixtures("always_fork")
def test_a_kernel_that_does_not_pickle_runs_on_threads() -> None:
    offset = 0.5

    def closure(rng: np.random.Generator, n: int, start: int) -> list[float]:
        return [start + offset + rng.random()]

    plan = engine.Plan(samples=300, block_size=1)
    one = engine.run_blocks(plan, 1, closure, list.__add__, workers=1)
    assert engine.run_blocks(plan, 1, closure, list.__add__, workers=2, backend="processes") == one


def _fails_on_block_three(rng: np.random.Generator, n: int, start: int) -> int:
    if start == 3:
        raise ValueError("block 3 failed")
    return n


@pytest.mark.usefixtures("always_fork")
@pytest.mark.parametrize("processes", [False, True])
def test_a_failing_block_raises_in_the_caller(processes: bool) -> None:
    plan = engine.Plan(samples=50, block_size=1)
    with pytest.raises(ValueError, match="block 3 failed"):
        engine.run_blocks(
            plan, 1, _fails_on_block_three, int.__add__, workers=2, backend=_backend(processes)
        )


def test_block_streams_are_spawned_from_seed_and_block_index() -> None:
    expected = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(9, spawn_key=(3,)))
    ).random(4)
    np.testing.assert_array_equal(engine.block_generator(9, 3).random(4), expected)
    assert not np.array_equal(
        engine.block_generator(9, 3).random(4), engine.block_generator(9, 4).random(4)
    )


def test_progress_reports_every_sample_in_block_order() -> None:
    plan = engine.Plan(samples=10, block_size=3)
    seen: list[int] = []
    engine.run_blocks(plan, 1, _sum_of_uniforms, np.add, workers=2, progress=seen.append)
    assert seen == [3, 3, 3, 1]


def test_default_block_size_keeps_blocks_near_2_to_the_19_numbers() -> None:
    assert engine.default_block_size(1) == 2**19
    assert engine.default_block_size(10) * 10 <= 2**19
    assert engine.default_block_size(10**7) == 1


def test_missing_seed_becomes_recorded_entropy() -> None:
    first, second = engine.resolve_seed(None), engine.resolve_seed(None)
    assert first != second
    assert engine.resolve_seed(7) == 7


def test_short_plans_run_on_threads_and_long_ones_on_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forked: list[int] = []

    class Recording(engine.local.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            forked.append(1)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.local, "ProcessPoolExecutor", Recording)
    plan = engine.Plan(samples=100, block_size=10)
    engine.run_blocks(plan, 1, _sum_of_uniforms, np.add, workers=2)
    assert forked == []  # microseconds of work: not worth a pool
    monkeypatch.setattr(engine.local, "PROCESS_MIN_SECONDS", 0.0)
    engine.run_blocks(plan, 1, _sum_of_uniforms, np.add, workers=2)
    assert forked == [1]


def _run_in_daemon(seed: int) -> list[float]:
    plan = engine.Plan(samples=100, block_size=10)
    return engine.run_blocks(plan, seed, _sum_of_uniforms, np.add, workers=2).tolist()


@pytest.mark.usefixtures("always_fork")
def test_inside_a_daemonic_pool_worker_the_blocks_run_on_threads() -> None:
    import multiprocessing

    # A multiprocessing.Pool worker may not fork children; the engine falls back to threads.
    with multiprocessing.get_context("fork").Pool(1) as pool:
        inside = pool.apply(_run_in_daemon, (3,))
    assert inside == _run_in_daemon(3)


def _pid(rng: np.random.Generator, n: int, start: int) -> set[int]:
    time.sleep(0.002)  # the caller runs blocks itself only until a worker is ready
    return {os.getpid()}


@pytest.mark.usefixtures("always_fork")
def test_worker_processes_really_run_the_blocks() -> None:
    plan = engine.Plan(samples=2000, block_size=1)
    pids = engine.run_blocks(plan, 1, _pid, set.union, workers=2, backend="processes")
    assert pids - {os.getpid()}, "every block ran in the caller"


#: A caller whose thread holds a lock that the kernel takes in every block a worker runs. A
#: forked worker would inherit the lock in its held state and wait forever; a worker from the
#: forkserver imports a fresh copy of the module.
_LOCKED_CALLER = """
import os, sys, threading, time
from dataclasses import dataclass
from gumbelcheck import engine
from gumbelcheck.engine import local

local.PROCESS_MIN_SECONDS = 0.0
LOCK = threading.Lock()

@dataclass(frozen=True)
class Locked:
    caller: int

    def __call__(self, rng, n, start):
        time.sleep(0.002)
        if os.getpid() == self.caller:  # the blocks the caller runs while workers start
            return 0
        with LOCK:
            return n

if __name__ == "__main__":
    held, release = threading.Event(), threading.Event()
    def hold():
        with LOCK:
            held.set()
            release.wait(120)
    threading.Thread(target=hold, daemon=True).start()
    held.wait(10)
    plan = engine.Plan(samples=2000, block_size=1)
    kernel = Locked(os.getpid())
    total = engine.run_blocks(plan, 1, kernel, int.__add__, workers=2, backend="processes")
    print(total, LOCK.locked())
    release.set()
"""


def test_a_lock_held_by_a_caller_thread_does_not_deadlock_the_workers(tmp_path: Path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(_LOCKED_CALLER)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    worker_blocks, locked = done.stdout.split()
    assert int(worker_blocks) > 0  # the workers ran blocks, with the caller's lock held
    assert locked == "True"
