"""Progress bars (stderr, transient, only in a terminal) and the Rich console."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Width of reports written to files and pipes when COLUMNS does not set one.
REPORT_WIDTH = 120


def console(stderr: bool = False) -> Any:
    """A Rich console: a terminal's own width; in files and pipes COLUMNS when set, else
    :data:`REPORT_WIDTH`. Rich honours NO_COLOR itself."""
    from rich.console import Console

    columns = os.environ.get("COLUMNS", "").strip()
    given = columns.isdigit() and int(columns) > 0  # COLUMNS=0 would print nothing at all
    out = Console(stderr=stderr, highlight=False, width=int(columns) if given else None)
    if not out.is_terminal and not given:
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


#: A run expected to take longer than this gets a line with the estimate before it goes on.
ESTIMATE_SECONDS = 60.0

#: Without a terminal, a progress line at most this often, and only after this long ...
LINE_SECONDS = 10.0

#: ... and only when at least this share of the run has passed since the last line.
LINE_SHARE = 0.05


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.5 h``, ``3.1 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


#: The estimate is made this long after a check's first block, from the pace since then
#: (block 0 runs alone, while worker processes start: its pace says little).
ESTIMATE_AFTER = 2.0


class _Lines:
    """Progress as plain stderr lines: once, the estimate of a run that will take longer than
    :data:`ESTIMATE_SECONDS`; and, when stderr is not a terminal (a CI log), a line every few
    percent."""

    def __init__(self, periodic: bool) -> None:
        self.periodic = periodic
        self.last_event = self.last_line = time.monotonic()
        self.started: dict[str, float] = {}
        self.first: dict[str, tuple[float, int]] = {}
        self.done: dict[str, int] = {}
        self.estimated: set[str] = set()
        self.last_share: dict[str, float] = {}

    def update(self, description: str, total: int, advance: int) -> None:
        now = time.monotonic()
        # A check (a suite runs several) started when the one before it ended.
        started = self.started.setdefault(description, self.last_event)
        self.last_event = now
        done = self.done[description] = self.done.get(description, 0) + advance
        first_time, first_done = self.first.setdefault(description, (now, done))
        if done >= total:
            return
        if description not in self.estimated and now - first_time >= ESTIMATE_AFTER:
            self.estimated.add(description)
            rate = (done - first_done) / (now - first_time)
            left = (total - done) / max(rate, 1e-9)
            if now - started + left > ESTIMATE_SECONDS:
                _say(
                    f"{description}: {total:,} draws will take about "
                    f"{duration(now - started + left)} in all ({rate:,.0f} draws/s); "
                    "Ctrl-C stops the run"
                )
        share = done / total
        if (
            self.periodic
            and now - self.last_line >= LINE_SECONDS
            and share - self.last_share.get(description, 0.0) >= LINE_SHARE
        ):
            elapsed = now - started
            left = elapsed * (total - done) / max(done, 1)
            _say(
                f"{description}: {share:.0%} ({done:,} of {total:,} draws), "
                f"{duration(elapsed)} elapsed, about {duration(left)} left"
            )
            self.last_line, self.last_share[description] = now, share


def _say(line: str) -> None:
    print(f"gumbelcheck: {line}", file=sys.stderr, flush=True)


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and "CI" not in os.environ


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """The bar in a terminal, the estimate line of a long run, and lines without a terminal;
    nothing with ``quiet``."""
    if quiet:
        yield lambda description, total, advance: None
        return
    bar = _show_progress(quiet)
    lines = _Lines(periodic=not bar)
    with _bar(bar) as update:

        def both(description: str, total: int, advance: int) -> None:
            lines.update(description, total, advance)
            update(description, total, advance)

        yield both


@contextmanager
def progress(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """``progress(done)`` after each block of one check."""
    with _progress(quiet) as update:
        yield lambda done: update("sampling", total, done)


@contextmanager
def suite_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """``progress(check_name, total, done)`` for a suite: one bar (or line) per check."""
    with _progress(quiet) as update:
        yield update
