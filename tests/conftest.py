"""Shared helpers: drive the CLI in-process, as a user would from a shell."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gumbelcheck.cli import app


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``gumbelcheck ARGS`` and return the result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def stable() -> Callable[[Path], str]:
    """A report's text without the provenance lines that may differ between runs of the same
    result (the time, the command line, the machine, where the blocks ran)."""
    from gumbelcheck.suite.run import VOLATILE

    def read(path: Path) -> str:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(line for line in lines if line.split(":")[0][2:] not in VOLATILE)

    return read
