"""The seeded block engine behind every Monte Carlo check.

N draws are cut into fixed-size blocks. Block ``b`` draws from its own generator,
``PCG64(SeedSequence(seed, spawn_key=(b,)))``, so the outcome depends on the seed and the
block size only, never on how many workers run the blocks or in which order they finish.
Per-block results are folded in block order, so even floating-point sums are bit-identical
for any number of workers. Memory is that of a few blocks, whatever N is.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


def run_blocks(
    plan: Plan,
    seed: int,
    kernel: Callable[[np.random.Generator, int], T],
    fold: Callable[[T, T], T],
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> T:
    """Run ``kernel(rng, n)`` on every block and fold the results in block order.

    Parameters
    ----------
    plan : Plan
        The blocks to run.
    seed : int
        Root seed; block ``b`` uses :func:`block_generator` ``(seed, b)``.
    kernel : callable
        ``kernel(rng, n)`` draws ``n`` samples from ``rng`` and returns a partial result.
        It must be thread-safe (numpy releases the GIL in its heavy loops).
    fold : callable
        ``fold(acc, part)`` combines partial results; applied in block order.
    workers : int
        Threads to run blocks on; the result does not depend on it.
    progress : callable, optional
        Called with the number of samples finished after each block, in block order.

    Returns
    -------
    The folded result.
    """
    results = _ordered_results(plan, seed, kernel, max(1, workers))
    acc = next(results)
    if progress is not None:
        progress(plan.size(0))
    for block, part in enumerate(results, start=1):
        acc = fold(acc, part)
        if progress is not None:
            progress(plan.size(block))
    return acc


def _ordered_results(
    plan: Plan, seed: int, kernel: Callable[[np.random.Generator, int], T], workers: int
) -> Iterator[T]:
    def task(block: int) -> T:
        return kernel(block_generator(seed, block), plan.size(block))

    if workers == 1 or plan.blocks == 1:
        for block in range(plan.blocks):
            yield task(block)
        return
    # A bounded window of blocks in flight keeps memory flat for any number of blocks.
    window = 2 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gumbelcheck") as pool:
        pending: deque[Future[T]] = deque()
        next_block = 0
        try:
            while next_block < plan.blocks or pending:
                while next_block < plan.blocks and len(pending) < window:
                    pending.append(pool.submit(task, next_block))
                    next_block += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


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
