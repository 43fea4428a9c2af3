"""The backends of one machine: threads, worker processes, and the automatic choice.

Worker processes come from a *forkserver*, never from a fork of the caller: a caller that runs
threads of its own (JAX, torch, a progress bar) would otherwise hand each worker copies of
locks held by threads that do not exist there, and the worker could deadlock. The forkserver
is a clean single-threaded process that has imported numpy and the check modules once; workers
fork from it in milliseconds. The kernel reaches each worker once, pickled. Workers ignore
Ctrl-C (the caller handles it) and end as soon as the caller ends, however it ends (a
watchdog thread on a pidfd of the caller); the forkserver and multiprocessing's resource
tracker exit once the caller and the workers are gone, so a killed run leaves no process
behind.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from gumbelcheck.core.heap import keep_freed_memory
from gumbelcheck.engine.blocks import Backend, Kernel, Plan, run_block, run_range, task_blocks

T = TypeVar("T")

#: Seconds of work a process task aims at: enough blocks that pickling, the pipes and the
#: parent's bookkeeping cost a few percent of it.
TASK_SECONDS = 0.05

#: At most this many blocks per task, which bounds the partial results in flight.
MAX_TASK_BLOCKS = 64

#: A process pool costs tens of ms to start, so below this much estimated work (block 0's
#: time times the blocks left, on one core) the local backend runs the rest on threads.
PROCESS_MIN_SECONDS = 0.5

#: Runs of at least this many blocks start the forkserver before block 0, so that its start-up
#: (an interpreter and the imports of PRELOAD, about 0.3 s) overlaps with block 0.
EARLY_START_BLOCKS = 16

#: Modules the forkserver imports once, so that workers start with them loaded (the kernels'
#: modules; not scipy, which kernels do not use, nor the dist check's mpmath reference).
PRELOAD = (
    "numpy",
    "gumbelcheck.engine",
    "gumbelcheck.samplers",
    "gumbelcheck.checks.maxtrick",
    "gumbelcheck.checks.sweep",
)


@dataclass(frozen=True)
class ThreadBackend:
    """Blocks on a pool of threads, a bounded window of them in flight."""

    workers: int

    def results(
        self, kernel: Kernel[T], plan: Plan, seed: int, blocks: range, per_block: float
    ) -> Iterator[T]:
        """The results of ``blocks``, in block order."""
        if self.workers == 1 or len(blocks) <= 1:
            for block in blocks:
                yield run_block(kernel, plan, seed, block)
            return
        window = 2 * self.workers  # keeps memory flat for any number of blocks
        with ThreadPoolExecutor(self.workers, thread_name_prefix="gumbelcheck") as pool:
            pending: deque[Future[T]] = deque()
            next_block = blocks.start
            try:
                while next_block < blocks.stop or pending:
                    while next_block < blocks.stop and len(pending) < window:
                        pending.append(pool.submit(run_block, kernel, plan, seed, next_block))
                        next_block += 1
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()


@dataclass(frozen=True)
class ProcessBackend:
    """Blocks on worker processes from the forkserver, several blocks per task.

    Falls back to threads where worker processes are not available (outside Linux, inside a
    daemonic process) or the kernel does not pickle or cannot be unpickled in a worker.
    """

    workers: int

    def results(
        self, kernel: Kernel[T], plan: Plan, seed: int, blocks: range, per_block: float
    ) -> Iterator[T]:
        """The results of ``blocks``, in block order."""
        payload = _pickled(kernel) if self.workers > 1 and len(blocks) > 1 else None
        if payload is None or not processes_available():
            yield from ThreadBackend(self.workers).results(kernel, plan, seed, blocks, per_block)
            return
        parts = self._run(kernel, payload, plan, seed, blocks, per_block)
        for block, part in enumerate(parts, blocks.start):
            if part is _UNAVAILABLE:  # the kernel does not unpickle in a worker
                yield from ThreadBackend(self.workers).results(
                    kernel, plan, seed, range(block, blocks.stop), per_block
                )
                return
            yield part

    def _run(
        self,
        kernel: Kernel[Any],
        payload: bytes,
        plan: Plan,
        seed: int,
        blocks: range,
        per_block: float,
    ) -> Iterator[Any]:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_context(),
            initializer=_start_worker,
            initargs=(payload, plan, seed, os.getpid()),
        )
        window = 2 * self.workers
        pending: deque[Future[tuple[float, list[Any]]]] = deque()
        next_block, task_blocks = blocks.start, _task_blocks(per_block)
        finished = False
        try:
            # Workers take a few tenths of a second to start (the forkserver's imports): the
            # caller runs the next blocks itself until one is ready.
            ready = pool.submit(_ready)
            while not ready.done() and next_block < blocks.stop:
                yield run_block(kernel, plan, seed, next_block)
                next_block += 1
            try:
                usable = ready.result()
            except BrokenProcessPool:  # e.g. a caller's script without a __main__ guard
                usable = None
            if usable is None:
                yield _UNAVAILABLE
                return
            while next_block < blocks.stop or pending:
                while next_block < blocks.stop and len(pending) < window:
                    stop = min(blocks.stop, next_block + task_blocks)
                    pending.append(pool.submit(_run_in_worker, next_block, stop))
                    next_block = stop
                seconds, parts = pending.popleft().result()
                if parts is None:
                    yield _UNAVAILABLE
                    return
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


@dataclass(frozen=True)
class LocalBackend:
    """The default: worker processes when the rest of the run would take at least
    :data:`PROCESS_MIN_SECONDS` at block 0's pace, threads otherwise."""

    workers: int

    def results(
        self, kernel: Kernel[T], plan: Plan, seed: int, blocks: range, per_block: float
    ) -> Iterator[T]:
        """The results of ``blocks``, in block order."""
        long_enough = per_block * len(blocks) >= PROCESS_MIN_SECONDS
        backend: Backend = (ProcessBackend if long_enough else ThreadBackend)(self.workers)
        yield from backend.results(kernel, plan, seed, blocks, per_block)


#: The backends a name selects.
BACKENDS: dict[str, type[ThreadBackend | ProcessBackend | LocalBackend]] = {
    "local": LocalBackend,
    "threads": ThreadBackend,
    "processes": ProcessBackend,
}


def get_backend(backend: str | Backend, workers: int) -> Backend:
    """The backend ``backend`` names (``local``, ``threads``, ``processes``) for ``workers``,
    or ``backend`` itself when it is a backend object."""
    if not isinstance(backend, str):
        return backend
    try:
        return BACKENDS[backend](workers)
    except KeyError:
        from gumbelcheck.core.errors import InputError

        raise InputError(
            f"`backend` {backend!r} is not known; choose one of {', '.join(BACKENDS)}"
        ) from None


def processes_available() -> bool:
    """Whether worker processes are available: Linux, not inside a daemonic process, and a
    main module that workers can import.

    (A multiprocessing.Pool worker is daemonic and may not have children of its own. A
    script read from standard input, ``python - < script.py``, names ``<stdin>`` as its file:
    every worker would fail to import it, print a traceback and leave the run to threads.)
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    importable = main_file is None or os.path.exists(main_file)
    return sys.platform == "linux" and not multiprocessing.current_process().daemon and importable


def start_forkserver() -> None:
    """Start the forkserver now (it imports :data:`PRELOAD` while the caller works on)."""
    if processes_available():
        from multiprocessing import forkserver

        _context()
        forkserver.ensure_running()


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _pickled(kernel: Kernel[Any]) -> bytes | None:
    """The kernel pickled for the workers, or None when it does not pickle (a closure)."""
    try:
        return pickle.dumps(kernel, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None


def _task_blocks(per_block: float) -> int:
    """Blocks per process task: about TASK_SECONDS of work, at most MAX_TASK_BLOCKS."""
    return task_blocks(per_block, TASK_SECONDS, MAX_TASK_BLOCKS)


#: Yielded by ProcessBackend._run when the workers could not unpickle the kernel.
_UNAVAILABLE: Any = object()

_worker: tuple[Kernel[Any] | None, Plan, int] | None = None

def _start_worker(payload: bytes, plan: Plan, seed: int, caller: int) -> None:
    """Initializer of a worker: die with the caller, leave Ctrl-C to it, keep freed memory for
    the next block (see :mod:`~gumbelcheck.core.heap`), and keep the kernel
    (None when it does not unpickle here, e.g. a function of the caller's script)."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with(caller)
    keep_freed_memory()
    try:
        kernel = pickle.loads(payload)
    except Exception:
        kernel = None
    _worker = (kernel, plan, seed)


def _exit_with(caller: int) -> None:
    """End this worker as soon as the process ``caller`` ends, however it ends.

    A worker's parent is the forkserver, not the caller, and the workers themselves keep the
    forkserver and their task queue open: nothing else would end them when the caller is
    killed. A daemon thread waits on a pidfd of the caller (Linux >= 5.3), or polls it.
    """
    try:
        handle = os.pidfd_open(caller)
    except (AttributeError, OSError):
        handle = None
    if handle is None and not _alive(caller):
        os._exit(1)

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(caller):
                time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="gumbelcheck-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def _ready() -> bool | None:
    """True once a worker runs with a kernel; None when it could not unpickle it."""
    assert _worker is not None, "not in a worker started by _start_worker"
    return None if _worker[0] is None else True


def _run_in_worker(start: int, stop: int) -> tuple[float, list[Any] | None]:
    """Run blocks ``start`` to ``stop`` - 1 in a worker; return the seconds taken and results
    (None when this worker has no kernel)."""
    assert _worker is not None, "not in a worker started by _start_worker"
    kernel, plan, seed = _worker
    if kernel is None:
        return 0.0, None
    return run_range(kernel, plan, seed, start, stop)
