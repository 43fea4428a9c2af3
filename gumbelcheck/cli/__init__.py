"""The command-line interface: parse, call the library, render, map outcomes to exit codes.

One module per command; :mod:`~gumbelcheck.cli.app` holds the group, the one-line errors and
the reporting; :mod:`~gumbelcheck.cli.options` the shared options; registered checks without
a module of their own get a command from :mod:`~gumbelcheck.cli.generic`.
"""

from gumbelcheck.cli import (
    controls,
    counts,
    dist,
    frameworks,
    gradients,
    maxtrick,
    plan,
    replay,
    suite,
    sweep,
)
from gumbelcheck.cli.app import app, main

__all__ = [
    "app",
    "controls",
    "counts",
    "dist",
    "frameworks",
    "gradients",
    "main",
    "maxtrick",
    "plan",
    "replay",
    "suite",
    "sweep",
]
