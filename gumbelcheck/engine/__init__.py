"""The seeded block engine behind every Monte Carlo check.

N draws are cut into fixed-size blocks. Block ``b`` draws from its own generator,
``PCG64(SeedSequence(seed, spawn_key=(b,)))``, so the outcome depends on the seed and the
block size only, never on how many workers run the blocks, on which backend, or in which
order they finish. Per-block results are folded in block order, so even floating-point sums
are bit-identical for any number of workers. Memory is that of a few blocks, whatever N is.

:mod:`~gumbelcheck.engine.blocks` holds the plan, the seeds and :func:`run_blocks`;
:mod:`~gumbelcheck.engine.local` the backends of one machine (threads, and worker processes
from a forkserver for long runs: numpy releases the GIL only inside its loops, and a block
makes dozens of calls on small arrays); :mod:`~gumbelcheck.engine.dask` runs them on a Dask
cluster (imported only when a run names a scheduler).
"""

from gumbelcheck.engine.blocks import (
    BIT_GENERATOR,
    BLOCK_NUMBERS,
    CHILD_STREAM,
    Backend,
    Kernel,
    Plan,
    block_generator,
    child_seed,
    default_block_size,
    default_workers,
    resolve_seed,
    run_block,
    run_blocks,
    scratch,
)
from gumbelcheck.engine.local import get_backend, start_forkserver

__all__ = [
    "BIT_GENERATOR",
    "BLOCK_NUMBERS",
    "CHILD_STREAM",
    "Backend",
    "Kernel",
    "Plan",
    "block_generator",
    "child_seed",
    "default_block_size",
    "default_workers",
    "get_backend",
    "resolve_seed",
    "run_block",
    "run_blocks",
    "scratch",
    "start_forkserver",
]
