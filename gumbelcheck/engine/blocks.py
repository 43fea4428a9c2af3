"""Blocks, their seeds, and :func:`run_blocks`, which runs a kernel on every block through a
backend and folds the results in block order."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

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
#: has index ``start`` (so kernels that keep only the first draws know where they are). For
#: worker processes it must pickle: a module-level function or a callable object (a frozen
#: dataclass holding the distribution and the sampler), not a closure.
Kernel = Callable[[np.random.Generator, int, int], T]


class Backend(Protocol):
    """Where blocks run: yields the results of ``blocks`` in block order.

    ``per_block`` is the seconds block 0 took in the caller (a backend may use it to decide
    how to run the rest, or to size its tasks). Results never depend on the backend.
    """

    def results(
        self, kernel: Kernel[T], plan: Plan, seed: int, blocks: range, per_block: float
    ) -> Iterator[T]: ...


def run_block(kernel: Kernel[T], plan: Plan, seed: int, block: int) -> T:
    """The result of one block: ``kernel(block_generator(seed, block), size, start)``."""
    return kernel(block_generator(seed, block), plan.size(block), block * plan.block_size)


def run_range(
    kernel: Kernel[T], plan: Plan, seed: int, start: int, stop: int
) -> tuple[float, list[T]]:
    """Blocks ``start`` to ``stop`` - 1 (a worker's task): the seconds taken and the results."""
    started = time.perf_counter()
    parts = [run_block(kernel, plan, seed, block) for block in range(start, stop)]
    return time.perf_counter() - started, parts


def task_blocks(per_block: float, seconds: float, most: int) -> int:
    """Blocks per task: about ``seconds`` of work at ``per_block`` seconds a block, at most
    ``most`` blocks, at least one."""
    return max(1, min(most, int(seconds / max(per_block, 1e-9))))


def run_blocks(
    plan: Plan,
    seed: int,
    kernel: Kernel[T],
    fold: Callable[[T, T], T],
    *,
    workers: int = 1,
    backend: str | Backend = "local",
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
        thread-safe (numpy releases the GIL in its heavy loops), and should pickle (see
        :data:`Kernel`) for worker processes; one that does not runs on threads.
    fold : callable
        ``fold(acc, part)`` combines partial results; applied in block order.
    workers : int
        Workers (processes or threads) to run blocks on; the result does not depend on it.
    backend : str or Backend
        ``"local"`` (default: threads, or worker processes once the run is long enough, see
        :class:`~gumbelcheck.engine.local.LocalBackend`), ``"threads"``, ``"processes"``, or
        a :class:`Backend` object (a Dask cluster:
        :class:`~gumbelcheck.engine.dask.DaskBackend`). Block 0 always runs in the caller;
        its time is passed on.
    progress : callable, optional
        Called with the number of samples finished after each block, in block order.

    Returns
    -------
    The folded result.
    """
    from gumbelcheck.engine.local import EARLY_START_BLOCKS, get_backend, start_forkserver

    runner = get_backend(backend, max(1, workers))
    if workers > 1 and plan.blocks >= EARLY_START_BLOCKS and backend in ("local", "processes"):
        start_forkserver()  # its imports overlap with block 0; a no-op once it runs
    started = time.perf_counter()
    acc = run_block(kernel, plan, seed, 0)
    per_block = time.perf_counter() - started
    if progress is not None:
        progress(plan.size(0))
    rest = range(1, plan.blocks)
    for block, part in zip(rest, runner.results(kernel, plan, seed, rest, per_block), strict=True):
        acc = fold(acc, part)
        if progress is not None:
            progress(plan.size(block))
    return acc


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
