"""Progress bars (stderr, transient, only in a terminal) and the Rich console."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Width of reports written to files and pipes.
REPORT_WIDTH = 120


def console(stderr: bool = False) -> Any:
    """A Rich console; files and pipes get a fixed width, not the default 80."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=REPORT_WIDTH)
    return out


#: Runs shorter than this show no progress bar.
PROGRESS_DELAY = 1.0


@contextmanager
def _bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A transient Rich progress bar on stderr that appears once a run passes a second."""
    if not enabled:
        yield lambda description, total, advance: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    started = time.monotonic()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(description: str, total: int, advance: int) -> None:
        if description not in tasks:
            tasks[description] = bar.add_task(description, total=total, rate="")
        task = tasks[description]
        bar.advance(task, advance)
        elapsed = time.monotonic() - started
        if elapsed >= PROGRESS_DELAY and not bar.live.is_started:
            bar.start()
        done = bar.tasks[task].completed
        bar.update(task, rate=f"{done / max(elapsed, 1e-9):,.0f} samples/s")

    try:
        yield update
    finally:
        bar.stop()


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and "CI" not in os.environ


@contextmanager
def progress(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    with _bar(_show_progress(quiet)) as update:
        yield lambda done: update("sampling", total, done)


@contextmanager
def suite_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """``progress(check_name, total, done)`` for a suite: one bar per check."""
    with _bar(_show_progress(quiet)) as update:
        yield update
