"""The Dask backend: blocks on a dask.distributed cluster, with the bytes of a local run.

A run is cut into tasks of consecutive blocks, each submitted under a key that names the run
and its block range (``gumbelcheck-<run>-blocks-<start>-<stop>``): never Dask's default
``pure=True`` key, which would merge Monte Carlo tasks that look alike. A worker returns the
per-block results of its task, not their fold, and the caller folds them in block order as the
tasks finish, holding the ones that finish early until their turn; at most a few tasks per
worker thread are in flight or held, so memory stays that of a few tasks whatever N is. Block
``b`` draws from :func:`~gumbelcheck.engine.blocks.block_generator` ``(seed, b)`` wherever it
runs, so the result is bit-identical to a local run for any number of workers.

The kernel travels once, as a task of its own that the block tasks depend on (Dask recomputes
it, like any lost task, if the worker holding it dies), copied to every worker before the
first block task is placed: the scheduler puts a task where its dependencies are, and a kernel
held by one worker would draw every task to it until work stealing spread them (measured on 2
workers: the second worker idled most of a second at the start of every run). A worker
killed mid-run costs only time: the scheduler runs its tasks again elsewhere. A scheduler that
cannot be reached within :data:`CONNECT_SECONDS`, or that goes away mid-run, raises
:class:`ClusterError` (exit 2 on the command line), never a hang. An interrupted run cancels
its futures.

Schedulers are named by their address (``tcp://host:8786``) or ``local:N``, a
``LocalCluster`` of N single-threaded worker processes started for the run, in a thread of
its own while the caller runs the first blocks (the workers import Dask for about a second).
One client per scheduler serves every run of a process (a suite's checks share it);
:func:`close_all` closes them and the clusters they started.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import math
import os
import re
import signal
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any, TypeVar

from gumbelcheck.core import heap
from gumbelcheck.core.errors import InputError
from gumbelcheck.engine.blocks import Kernel, Plan, run_block, run_range, task_blocks

T = TypeVar("T")

#: The environment variable that names a scheduler when --scheduler does not.
ENV = "GUMBELCHECK_SCHEDULER"

#: Seconds to reach a scheduler, or to reach it again after losing it, before giving up.
CONNECT_SECONDS = 10.0

#: Seconds of work a task aims at. Each task costs about 10 ms of CPU time in the scheduler,
#: the client and the worker together (measured on 2 cores: 5 ms in the caller, which hosts
#: the scheduler of ``local:N``, 4 ms in the worker), 5 % of a 0.2 s task and half a percent
#: of a 2 s one; a lost worker's tasks are still quickly run again, and the tasks shrink
#: towards the end of a run so that the workers finish together.
TASK_SECONDS = 2.0

#: Seconds of work of the shortest task towards the end of a run: shorter ones would cost
#: more than the imbalance they save.
TAIL_SECONDS = 0.05

#: Blocks per task until the first task's results show how large a block's result is.
FIRST_TASK_BLOCKS = 64

#: At most this many blocks per task, and at most MAX_TASK_BYTES of their results (as
#: dask.sizeof counts them), which bounds the partial results in flight or held.
MAX_TASK_BLOCKS = 1024
MAX_TASK_BYTES = 16 * 2**20

#: Tasks in flight or held for their turn, per worker thread.
TASKS_PER_THREAD = 3

#: The Dask configuration of a ``local:N`` cluster (for a cluster of one's own, see the
#: README). Its workers' glibc heap keeps a block's freed arrays for the next block, as the
#: local engine's workers do (:mod:`~gumbelcheck.core.heap`: the same two thresholds, set
#: through the environment the nannies give the workers); Dask's own MALLOC_TRIM_THRESHOLD_
#: of 64 KiB also turns off malloc's adaptive mmap threshold, so that every block's arrays
#: were mapped and faulted in afresh (about a tenth more CPU time). The
#: scheduler sends tasks on to the workers before their threads are free (no round trip
#: between two tasks), no profiler thread samples the workers' stacks 100 times a second, and
#: the event loops' periodic chores (the admin tick, every 20 ms by default, the memory and
#: system monitors) run once a second or less: on a machine with as many workers as cores,
#: each wake-up takes the GIL and the core from a block. Measured on 2 cores, N = 3e8, k = 10,
#: three alternating pairs: 14.7 to 15.2 CPU seconds against 15.5 to 16.1 without (wall times
#: overlapped); turning work stealing off instead doubled the time. The active memory manager
#: is off: its ReduceReplicas policy drops the kernel's copies from workers that have no task
#: of the run at that moment, and the results a run holds are too small to need managing.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": heap.TRIM_THRESHOLD,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": heap.MMAP_THRESHOLD,
    "distributed.scheduler.worker-saturation": math.inf,
    "distributed.scheduler.active-memory-manager.start": False,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}

_LOCAL = re.compile(r"local:([0-9]+)")
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


class ClusterError(ConnectionError):
    """The Dask scheduler could not be reached, or went away mid-run (one line, exit 2)."""


def chosen_scheduler(scheduler: str | None, default: str | None = None) -> str | None:
    """The scheduler a run uses: ``scheduler`` when given, else the environment's
    :data:`ENV`, else ``default`` (a suite's ``scheduler`` key); None runs locally."""
    for value in (scheduler, os.environ.get(ENV), default):
        if value is not None and value.strip():
            return value.strip()
    return None


def parse_scheduler(scheduler: str) -> str:
    """``scheduler`` when it is ``local:N`` (N >= 1) or an address like ``tcp://host:8786``
    (a scheme Dask knows, a host and a port in range); InputError otherwise, and when dask and
    distributed are not installed."""
    local = _LOCAL.fullmatch(scheduler)
    bad = InputError(
        f"`scheduler` {scheduler!r} is not a Dask scheduler; give its address like "
        "tcp://10.0.0.5:8786, or local:N for a cluster of N workers on this machine"
    )
    if (local is None or int(local.group(1)) < 1) and not _ADDRESS.fullmatch(scheduler):
        raise bad
    missing = InputError(
        f"`scheduler` {scheduler!r} needs dask and distributed; install them with "
        "pip install 'gumbelcheck[dask]'"
    )
    if local is not None:
        # Found, not imported: local:N imports them while its cluster starts in the background.
        if not all(importlib.util.find_spec(name) for name in ("dask", "distributed")):
            raise missing
    else:
        try:
            from distributed.comm import parse_address, registry
            from distributed.comm.addressing import parse_host_port
        except ImportError:
            raise missing from None
        try:
            scheme, location = parse_address(scheduler, strict=True)
            if scheme not in registry.backends:
                raise ValueError(scheme)
            if scheme != "inproc" and not 0 < parse_host_port(location, 8786)[1] < 2**16:
                raise ValueError(location)
        except ValueError:
            raise bad from None
    return scheduler


def local_workers(scheduler: str) -> int:
    """The worker processes of ``local:N``: N, but never more than the cores this process may
    use (as for --workers: more only add start-up and memory; results do not depend on it)."""
    from gumbelcheck.engine.blocks import default_workers

    local = _LOCAL.fullmatch(scheduler)
    assert local is not None, f"not a local:N scheduler: {scheduler!r}"
    return min(int(local.group(1)), default_workers())


def backend(scheduler: str) -> DaskBackend:
    """The backend of ``scheduler``: InputError when it is not a scheduler. An address is
    reached now, before any sampling (ClusterError when it cannot be); ``local:N`` starts its
    cluster when the first run needs it, in the background, and the caller runs blocks until
    it is up (so that input found bad later starts no cluster)."""
    chosen = DaskBackend(parse_scheduler(scheduler))
    if not _LOCAL.fullmatch(chosen.scheduler):
        chosen.client()
    return chosen


@dataclass(frozen=True)
class DaskBackend:
    """Blocks on the Dask cluster of ``scheduler`` (an address, or ``local:N``)."""

    scheduler: str

    def client(self) -> Any:
        """This scheduler's client, connecting (or starting the local cluster) on first use,
        or waiting for the start begun by :func:`start`."""
        starting = _starting.get(self.scheduler)
        if starting is not None:
            starting.result()  # ClusterError when the cluster could not start
        return connect(self.scheduler)

    def workers(self) -> int:
        """Workers the cluster has now."""
        return len(self.client().scheduler_info(n_workers=-1)["workers"])

    def results(
        self, kernel: Kernel[T], plan: Plan, seed: int, blocks: range, per_block: float
    ) -> Iterator[T]:
        """The results of ``blocks``, in block order."""
        # While local:N starts (its workers import Dask, a few tenths of a second), the caller
        # runs the next blocks itself; results do not depend on where a block runs.
        if len(blocks) > 0 and _LOCAL.fullmatch(self.scheduler):
            start(self.scheduler)
        starting = _starting.get(self.scheduler)
        while starting is not None and not starting.done() and len(blocks) > 0:
            yield run_block(kernel, plan, seed, blocks.start)
            blocks = blocks[1:]
        if len(blocks) == 0:
            return
        from distributed import as_completed

        client = self.client()
        with self._lost():
            threads = max(1, sum(client.nthreads().values()))
            run = f"gumbelcheck-{uuid.uuid4().hex}"
            shared = client.submit(_kernel, kernel, key=f"{run}-kernel")
            client.replicate([shared])
        window = TASKS_PER_THREAD * threads
        outstanding: dict[str, tuple[int, Any]] = {}  # key -> first block, future: running
        finished: dict[int, list[T]] = {}  # first block -> results held for their turn
        pending = as_completed(loop=client.loop)
        next_block, turn = blocks.start, blocks.start
        most, pace = min(FIRST_TASK_BLOCKS, MAX_TASK_BLOCKS), per_block
        try:
            while turn < blocks.stop:
                while next_block < blocks.stop and len(outstanding) + len(finished) < window:
                    # Tasks of TASK_SECONDS, shorter towards the end (a quarter of what is left
                    # per worker thread, down to TAIL_SECONDS) so that the workers finish
                    # together. Results do not depend on it.
                    share = -(-(blocks.stop - next_block) // (2 * threads))
                    share = max(share, task_blocks(pace, TAIL_SECONDS, most))
                    size = min(task_blocks(pace, TASK_SECONDS, most), share)
                    stop = min(blocks.stop, next_block + size)
                    with self._lost():
                        future = client.submit(
                            run_range, shared, plan, seed, next_block, stop,
                            key=f"{run}-blocks-{next_block}-{stop}",
                        )  # fmt: skip
                    outstanding[future.key] = (next_block, future)
                    pending.add(future)
                    next_block = stop
                while turn in finished:
                    parts = finished.pop(turn)
                    turn += len(parts)
                    yield from parts
                if turn >= blocks.stop or not outstanding:
                    continue
                future = next(pending)
                seconds, parts = self._result(future)
                finished[outstanding.pop(future.key)[0]] = parts
                # The next tasks are sized by the time this one took and the bytes of its
                # results.
                most, pace = _most_blocks(parts), seconds / len(parts)
        finally:
            if client.status == "running":
                client.cancel([f for _, f in outstanding.values()] + [shared], force=True)

    @contextlib.contextmanager
    def _lost(self) -> Iterator[None]:
        """Turn the client's errors of a scheduler gone away into one ClusterError."""
        try:
            yield
        except (OSError, CancelledError, TimeoutError):
            raise self._gone() from None

    def _gone(self) -> ClusterError:
        return ClusterError(
            f"lost the Dask scheduler {self.scheduler} mid-run (no answer within "
            f"{CONNECT_SECONDS:g} s); rerun when it is back"
        )

    def _result(self, future: Any) -> tuple[float, list[Any]]:
        """A task's result; ClusterError when the scheduler went away or the task kept
        killing workers (a kernel's own error is raised as it is)."""
        from distributed import KilledWorker

        try:
            result: tuple[float, list[Any]] = future.result()
        except CancelledError:
            raise self._gone() from None
        except KilledWorker:
            raise ClusterError(
                f"the Dask workers of {self.scheduler} died on every try of one task; check "
                "their memory and logs"
            ) from None
        return result


def _kernel(kernel: Kernel[T]) -> Kernel[T]:
    """The task that holds the kernel on the workers (its tasks depend on it)."""
    return kernel


def _most_blocks(parts: list[Any]) -> int:
    """The most blocks per task whose results, at the size of ``parts``, fit in
    MAX_TASK_BYTES; at most MAX_TASK_BLOCKS, at least one."""
    from dask.sizeof import sizeof

    per_block = max(1, sizeof(parts)) / max(1, len(parts))
    return max(1, min(MAX_TASK_BLOCKS, int(MAX_TASK_BYTES / per_block)))


_clients: dict[str, tuple[Any, Any]] = {}  # scheduler -> (client, the cluster started or None)
_starting: dict[str, Future[Any]] = {}  # scheduler -> its client, connecting in the background
_lock = threading.Lock()


def start(scheduler: str) -> None:
    """Begin connecting to ``scheduler`` (starting ``local:N``'s cluster) in a thread of its
    own, unless it is connected or connecting already; :meth:`DaskBackend.client` waits for
    it. Signals still reach the main thread, and :func:`close_all` waits for the start to end
    before closing what it started."""
    with _lock:
        known = _clients.get(scheduler)
        if scheduler in _starting or (known is not None and known[0] is not None):
            return
        starting: Future[Any] = Future()
        _starting[scheduler] = starting

    def connecting() -> None:
        try:
            starting.set_result(connect(scheduler))
        except BaseException as error:  # handed to the thread that waits for it
            starting.set_exception(error)

    threading.Thread(target=connecting, name="gumbelcheck-dask-start").start()


def connect(scheduler: str) -> Any:
    """The client of ``scheduler`` (see :func:`parse_scheduler`), shared by every run of this
    process; ClusterError when the scheduler cannot be reached within CONNECT_SECONDS."""
    with _lock:
        known = _clients.get(scheduler)
        if known is not None and known[0] is not None and known[0].status == "running":
            return known[0]
        if known is not None:
            _close(*_clients.pop(scheduler))
        import dask
        from distributed import Client, LocalCluster

        local = _LOCAL.fullmatch(parse_scheduler(scheduler))
        cluster = None
        try:
            if local is not None:
                # A half-started cluster could not be closed.
                with _signals_deferred(), dask.config.set(LOCAL_CLUSTER_CONFIG):
                    cluster = LocalCluster(
                        n_workers=local_workers(scheduler),
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=":0",  # a free port: never "8787 in use"
                    )
                    _clients[scheduler] = (None, cluster)
            address = cluster.scheduler_address if cluster is not None else scheduler
            client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, RuntimeError) as error:
            if cluster is not None:
                _close(None, _clients.pop(scheduler)[1])
            detail = " ".join(str(error).split())[:200]
            if local is not None and cluster is None:
                raise ClusterError(
                    f"could not start the Dask cluster {scheduler} ({detail}); use fewer "
                    "workers, or run without --scheduler"
                ) from None
            raise ClusterError(
                f"cannot reach the Dask scheduler {scheduler} within {CONNECT_SECONDS:g} s "
                f"({detail}); start it (dask scheduler) or fix --scheduler"
            ) from None
        _clients[scheduler] = (client, cluster)
        return client


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM (main thread only) until the block is done, then deliver them
    to the handlers they would have reached."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    kinds = (signal.SIGINT, signal.SIGTERM)
    previous = {kind: signal.signal(kind, lambda n, _: arrived.append(n)) for kind in kinds}
    try:
        yield
    finally:
        for kind, handler in previous.items():
            signal.signal(kind, handler)
        for kind in arrived[:1]:
            signal.raise_signal(kind)


def close_all() -> None:
    """Close every client this process opened and every local cluster it started (after the
    starts still under way have ended)."""
    for starting in list(_starting.values()):
        with contextlib.suppress(BaseException):
            starting.result()
    with _lock:
        _starting.clear()
        while _clients:
            _close(*_clients.popitem()[1])


def _close(client: Any, cluster: Any) -> None:
    if client is not None:
        with contextlib.suppress(Exception):  # a scheduler already gone: nothing to close
            client.close(timeout=CONNECT_SECONDS)
    if cluster is not None:
        cluster.close(timeout=CONNECT_SECONDS)


atexit.register(close_all)
