"""Shared helpers: drive the CLI in-process, as a user would from a shell."""

from __future__ import annotations

from collections.abc import Callable

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
