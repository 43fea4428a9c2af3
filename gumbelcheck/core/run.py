"""One run configuration for every check, validated once, and a check ready to run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from gumbelcheck import engine
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import parse_alpha, parse_count

T = TypeVar("T")
R = TypeVar("R")

#: Progress callback: called with the number of samples finished after each block.
Progress = Callable[[int], None]


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """How a check runs: samples, seed, level, blocks and workers, resolved and validated.

    Attributes
    ----------
    samples : int
        Draws N.
    seed : int
        Root seed (fresh 128-bit entropy when none was given; recorded in the provenance).
    alpha : float
        Significance level, in (0, 1).
    block_size : int or None
        Samples per block; None for the check's default. Part of the reproducibility
        contract: the same seed and block size give the same result.
    workers : int
        Workers the blocks run on; the result does not depend on it.
    backend : str or Backend
        Where the blocks run (see :func:`gumbelcheck.engine.get_backend`): ``local``
        (default), ``threads`` or ``processes``, or a Dask cluster
        (:class:`~gumbelcheck.engine.dask.DaskBackend`); the result does not depend on it
        either.
    """

    samples: int
    seed: int
    alpha: float
    block_size: int | None
    workers: int
    backend: str | engine.Backend = "local"

    @classmethod
    def create(
        cls,
        *,
        samples: int | str,
        seed: int | None = None,
        alpha: float | str = 0.01,
        block_size: int | str | None = None,
        workers: int | str | None = None,
        backend: str = "local",
        scheduler: str | None = None,
        min_samples: int = 1,
    ) -> RunConfig:
        """Validate and resolve the run parameters; InputError names the bad one.

        ``scheduler`` (else the ``GUMBELCHECK_SCHEDULER`` environment variable) names a Dask
        scheduler, ``tcp://host:port`` or ``local:N``, to run the blocks on instead of
        ``backend``: an address is reached now, before any sampling (ClusterError when it
        cannot be); ``local:N`` starts its cluster in the background when the run begins,
        while the caller runs the first blocks.
        """
        from gumbelcheck.engine import dask

        chosen = dask.chosen_scheduler(scheduler)
        return cls(
            samples=parse_count(samples, "`samples`", minimum=min_samples),
            seed=engine.resolve_seed(parse_seed(seed)),
            alpha=parse_alpha(alpha),
            block_size=None if block_size is None else parse_count(block_size, "`block_size`"),
            workers=_workers(workers),
            backend=_backend(backend) if chosen is None else dask.backend(chosen),
        )

    def plan(self, default_block_size: int) -> engine.Plan:
        """The block plan: this run's block size, or the check's default."""
        return engine.Plan(samples=self.samples, block_size=self.block_size or default_block_size)

    def check_memory(self, bytes_per_sample: int, default_block_size: int) -> None:
        """InputError, before any sampling, when a block of this run would not fit in memory.

        ``bytes_per_sample`` is what the check's kernel holds per sample of a block (all its
        arrays); every worker holds a block, and together they may take half of the memory
        the machine has available.
        """
        size = min(self.block_size or default_block_size, self.samples)
        need = size * bytes_per_sample * self.workers
        budget = available_memory() // 2
        if need > budget:
            raise InputError(
                f"`block_size` {size:,} needs {need / 2**30:.3g} GiB for {self.workers} "
                f"worker(s) but {budget / 2**30:.3g} GiB is half of the memory available; use "
                f"a block size of at most {max(1, budget // (bytes_per_sample * self.workers)):,}"
            )

    def execution(self) -> provenance.Execution:
        """Where the run's blocks ran, for its provenance (never part of a result)."""
        from gumbelcheck.engine.dask import DaskBackend

        if isinstance(self.backend, DaskBackend):
            workers = self.backend.workers()
            return provenance.Execution(
                backend="dask", scheduler=self.backend.scheduler, workers=workers
            )
        name = self.backend if isinstance(self.backend, str) else type(self.backend).__name__
        return provenance.Execution(backend=name, scheduler="", workers=self.workers)

    def with_seed(self, seed: int, samples: int | None = None) -> RunConfig:
        """The same configuration with another seed (and sample count)."""
        return replace(self, seed=seed, samples=self.samples if samples is None else samples)


def available_memory() -> int:
    """Bytes of memory available to new allocations (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    import os

    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def parse_seed(seed: int | str | None) -> int | None:
    """A root seed: a whole number >= 0 (not a bool or a float), or None for fresh entropy."""
    if seed is None:
        return None
    if isinstance(seed, str):
        try:
            value = int(seed.replace("_", ""))
        except ValueError:
            raise InputError(
                f"`seed` {seed!r} is not an integer; use a whole number like 42"
            ) from None
    elif isinstance(seed, int) and not isinstance(seed, bool):
        value = seed
    else:
        raise InputError(f"`seed` {seed!r} is not an integer; use a whole number like 42")
    if value < 0:
        raise InputError(f"`seed` {seed} is negative; use a non-negative integer like 42")
    return value


def _backend(backend: str) -> str:
    engine.get_backend(backend, 1)  # InputError naming `backend` when it is not known
    return backend


def _workers(workers: int | str | None) -> int:
    """Workers: all cores by default, and never more (more only add start-up and memory;
    results do not depend on it)."""
    cores = engine.default_workers()
    return cores if workers is None else min(cores, parse_count(workers, "`workers`"))


@dataclass(frozen=True, kw_only=True, eq=False)
class Prepared(Generic[R]):
    """A check whose input is validated, ready to run.

    Attributes
    ----------
    samples : int
        Draws the run will make in all (for a progress bar).
    run : callable
        ``run(progress)`` runs the check and returns its result.
    """

    samples: int
    run: Callable[[Progress | None], R] = field(repr=False)
