"""The README's commands are the ones CI and users run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    return re.findall(r"^    (python3 -m venv .*)$", README, flags=re.MULTILINE)


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    install_and_run, install_and_test = _commands()
    assert "gumbelcheck suite" in install_and_run
    assert "pytest" in install_and_test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _commands()[1]
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in lines


def test_lint_is_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python (it is in the test extra)")
    done = subprocess.run([str(ruff), "check", str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
