"""The seeded block engine behind every Monte Carlo check.

N draws are cut into fixed-size blocks. Block ``b`` draws from its own generator,
``PCG64(SeedSequence(seed, spawn_key=(b,)))``, so the outcome depends on the seed and the
block size only, never on how many workers run the blocks or in which order they finish.
Per-block results are folded in block order, so even floating-point sums are bit-identical
for any number of workers. Memory is that of a few blocks, whatever N is.

Workers are forked processes (threads for short runs, see :func:`run_blocks`): numpy
releases the GIL only inside its loops, and a block makes dozens of calls on small arrays.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

#: Numbers (uniforms) per block the default block size aims at: 2**19 float64 = 4 MiB.
BLOCK_NUMBERS = 2**19

#: The bit generator every block uses; recorded in provenance.
BIT_GENERATOR = "PCG64"

T = TypeVar("T")


def default_block_size(k: int, numbers: int = BLOCK_NUMBERS) -> int:
    """Samples per block for ``k`` numbers per sample: about ``numbers`` numbers per block."""
    return max(1, numbers // max(1, k))


def resolve_seed(seed: int | None) -> int:
    """Return ``seed``, or fresh 128-bit entropy when it is None (record it to replay a run)."""
    if seed is None:
        return secrets.randbits(128)
    if seed < 0:
        raise ValueError(f"seed {seed} is negative; use a non-negative integer")
    return int(seed)


def block_generator(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block``: ``PCG64(SeedSequence(seed, spawn_key=(block,)))``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Plan:
    """How N samples are cut into blocks.

    Attributes
    ----------
    samples : int
        Total number of samples N.
    block_size : int
        Samples per block; the last block may be shorter.
    """

    samples: int
    block_size: int

    @property
    def blocks(self) -> int:
        """Number of blocks."""
        return -(-self.samples // self.block_size)

    def size(self, block: int) -> int:
        """Samples in block ``block``."""
        return min(self.block_size, self.samples - block * self.block_size)


#: A kernel: ``kernel(rng, n, start)`` draws the ``n`` samples of the block whose first sample
#: has index ``start`` (so kernels that keep only the first draws know where they are).
Kernel = Callable[[np.random.Generator, int, int], T]

#: Seconds of work the process pool aims at per task: enough blocks that pickling, the pipes
#: and the parent's bookkeeping cost a few percent of it.
TASK_SECONDS = 0.05

#: At most this many blocks per task, which bounds the partial results in flight.
MAX_TASK_BLOCKS = 64

#: A process pool costs 20-50 ms to start, so below this much estimated work (the first
#: block's time times the blocks left, on one core) the blocks run on threads instead.
PROCESS_MIN_SECONDS = 0.5


def run_blocks(
    plan: Plan,
    seed: int,
    kernel: Kernel[T],
    fold: Callable[[T, T], T],
    *,
    workers: int = 1,
    processes: bool = True,
    progress: Callable[[int], None] | None = None,
) -> T:
    """Run ``kernel(rng, n, start)`` on every block and fold the results in block order.

    Parameters
    ----------
    plan : Plan
        The blocks to run.
    seed : int
        Root seed; block ``b`` uses :func:`block_generator` ``(seed, b)``.
    kernel : callable
        ``kernel(rng, n, start)`` draws the ``n`` samples of a block from ``rng``, ``start``
        being the index of its first sample, and returns a partial result. It must be
        thread-safe (numpy releases the GIL in its heavy loops).
    fold : callable
        ``fold(acc, part)`` combines partial results; applied in block order.
    workers : int
        Worker processes (or threads) to run blocks on; the result does not depend on it.
    processes : bool
        Run the blocks in forked worker processes (the default) rather than threads. numpy
        releases the GIL only inside its loops, so the many small calls of a block (the
        pruned race's candidates, the sweep's per-tau statistics) serialize threads; worker
        processes do not share a GIL. The kernel is inherited by the fork, never pickled; the
        partial results are pickled back, several blocks per task (about
        :data:`TASK_SECONDS` of work). Block 0 runs in the caller; when the rest would take
        less than :data:`PROCESS_MIN_SECONDS` at its pace, or outside Linux, threads run them.
    progress : callable, optional
        Called with the number of samples finished after each block, in block order.

    Returns
    -------
    The folded result.
    """
    results = _ordered_results(plan, seed, kernel, max(1, workers), processes)
    acc = next(results)
    if progress is not None:
        progress(plan.size(0))
    for block, part in enumerate(results, start=1):
        acc = fold(acc, part)
        if progress is not None:
            progress(plan.size(block))
    return acc


def _run(kernel: Kernel[T], plan: Plan, seed: int, blocks: range) -> list[T]:
    return [kernel(block_generator(seed, b), plan.size(b), b * plan.block_size) for b in blocks]


def _ordered_results(
    plan: Plan, seed: int, kernel: Kernel[T], workers: int, processes: bool
) -> Iterator[T]:
    # Block 0 runs here; its time tells whether the rest is worth a process pool.
    started = time.perf_counter()
    first = _run(kernel, plan, seed, range(1))
    per_block = time.perf_counter() - started
    yield from first
    rest = range(1, plan.blocks)
    if workers == 1 or len(rest) <= 1:
        for block in rest:
            yield from _run(kernel, plan, seed, range(block, block + 1))
    elif processes and per_block * len(rest) >= PROCESS_MIN_SECONDS and _can_fork():
        yield from _in_processes(plan, seed, kernel, workers, rest, per_block)
    else:
        yield from _in_threads(plan, seed, kernel, workers, rest)


def _can_fork() -> bool:
    """Whether worker processes are available: Linux, and not inside a daemonic process.

    (A multiprocessing.Pool worker is daemonic and may not have children of its own.)
    """
    return sys.platform == "linux" and not multiprocessing.current_process().daemon


def _task_blocks(per_block: float) -> int:
    """Blocks per process task: about TASK_SECONDS of work, at most MAX_TASK_BLOCKS."""
    return max(1, min(MAX_TASK_BLOCKS, int(TASK_SECONDS / max(per_block, 1e-9))))


def _in_threads(
    plan: Plan, seed: int, kernel: Kernel[T], workers: int, blocks: range
) -> Iterator[T]:
    """The results of ``blocks``, in block order, from a pool of threads."""
    # A bounded window of blocks in flight keeps memory flat for any number of blocks.
    window = 2 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gumbelcheck") as pool:
        pending: deque[Future[list[T]]] = deque()
        next_block = blocks.start
        try:
            while next_block < blocks.stop or pending:
                while next_block < blocks.stop and len(pending) < window:
                    one = range(next_block, next_block + 1)
                    pending.append(pool.submit(_run, kernel, plan, seed, one))
                    next_block += 1
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _in_processes(
    plan: Plan, seed: int, kernel: Kernel[T], workers: int, blocks: range, per_block: float
) -> Iterator[T]:
    """The results of ``blocks``, in block order, from a pool of forked worker processes."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(kernel, plan, seed),
    )
    window = 2 * workers
    pending: deque[Future[tuple[float, list[T]]]] = deque()
    next_block, task_blocks = blocks.start, _task_blocks(per_block)
    finished = False
    try:
        while next_block < blocks.stop or pending:
            while next_block < blocks.stop and len(pending) < window:
                stop = min(blocks.stop, next_block + task_blocks)
                pending.append(pool.submit(_run_in_worker, next_block, stop))
                next_block = stop
            seconds, parts = pending.popleft().result()
            # Size the next tasks by the time this one took (results do not depend on it).
            task_blocks = _task_blocks(seconds / len(parts))
            yield from parts
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=True)
        if not finished:
            # Interrupted or failed: stop the workers now rather than after their tasks.
            # (ProcessPoolExecutor.terminate_workers arrives in Python 3.14.)
            for worker in list((getattr(pool, "_processes", None) or {}).values()):
                worker.terminate()


_worker: tuple[Kernel[object], Plan, int] | None = None


def _start_worker(kernel: Kernel[object], plan: Plan, seed: int) -> None:
    """Initializer of a forked worker: keep the kernel; Ctrl-C is the parent's to handle."""
    global _worker
    _worker = (kernel, plan, seed)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(start: int, stop: int) -> tuple[float, list[object]]:
    """Run blocks ``start`` to ``stop`` - 1 in a worker; return the seconds taken and results."""
    assert _worker is not None, "not in a worker started by _start_worker"
    kernel, plan, seed = _worker
    started = time.perf_counter()
    parts = _run(kernel, plan, seed, range(start, stop))
    return time.perf_counter() - started, parts


_scratch = threading.local()


def scratch(name: str, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """A float64 work array of ``shape``, reused by every block that runs on this thread.

    Kernels fill their big per-block arrays in place instead of allocating fresh ones, which
    saves the page faults of new memory on every block. The contents are whatever the
    thread's previous block left; a kernel must not return the array (or a view of it). One
    array is kept per name and thread, so memory stays that of a few blocks per worker.
    """
    buffers: dict[str, NDArray[np.float64]] = _scratch.__dict__.setdefault("buffers", {})
    array = buffers.get(name)
    if array is None or array.shape != shape:
        array = buffers[name] = np.empty(shape)
    return array


#: First spawn_key word of the child seeds of :func:`child_seed` (beyond any block index).
CHILD_STREAM = 2**63 + 1


def child_seed(seed: int, *key: int) -> int:
    """A 128-bit root seed derived from ``seed`` and ``key`` (replicates, controls).

    ``SeedSequence(seed, spawn_key=(CHILD_STREAM, *key)).generate_state(4)`` read as one
    integer: independent streams for every key, reproducible from ``seed`` alone, and apart
    from the block streams ``spawn_key=(b,)`` of the same seed.
    """
    words = np.random.SeedSequence(seed, spawn_key=(CHILD_STREAM, *key)).generate_state(4)
    return int.from_bytes(words.astype("<u4").tobytes(), "little")
