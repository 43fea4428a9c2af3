"""Hostile input: every command refuses bad input with one line and exit 2, before any
sampling, and never ends in a traceback (issue "Nothing crashes").

Sampling is replaced by a stub that interrupts the run: input that reaches it was accepted
(exit 130 here), input refused before it exits 2. An internal error (exit 3) or a traceback
fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gumbelcheck import engine
from gumbelcheck.cli import app

#: Exit codes a hostile input may end in: refused (2), or accepted and sampling (130 here).
REFUSED, SAMPLING = 2, 130


@pytest.fixture(autouse=True)
def no_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any sampling interrupts the run at once (as Ctrl-C would): exit 130."""

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.blocks, "run_blocks", interrupted)
    monkeypatch.setattr(engine, "run_blocks", interrupted)
    for module in ("maxtrick", "sweep", "dist"):
        checks = __import__(f"gumbelcheck.checks.{module}", fromlist=["engine"])
        monkeypatch.setattr(checks.engine, "run_blocks", interrupted)


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}")
    return result.exit_code, result.stderr


def assert_clean(code: int, stderr: str, args: tuple[str, ...], allowed: set[int]) -> None:
    assert code in allowed, f"{args} exited {code}: {stderr}"
    assert "Traceback" not in stderr, args
    if code == REFUSED:
        assert stderr.count("\n") == 1, f"{args}: {stderr!r}"
        assert stderr.startswith("gumbelcheck: error: "), stderr


# The classes of the issue, one example each (exit 2, one line, before any sampling) -------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("maxtrick", "--pi", "0.5,0.5", "--samples", "1e30"), "--samples 1e30 is too large"),
        (("maxtrick", "--pi", "0.5,0.5", "-n", "1e12", "--block-size", "1e12"), "GiB"),
        (("controls", "--samples", "1e30"), "is too large"),
        (("maxtrick", "--pi", "0.5,0.5", "--replicates", "1e12"), "--replicates"),
        (("dist", "--mu", "1e300", "--beta", "1"), "--mu 1e+300 is beyond"),
        (("dist", "--beta", "1e300"), "--beta 1e+300 is outside"),
        (("dist", "--mu", "1e6", "--beta", "1e-6"), "cannot resolve z"),
        (("plan", "--pi", "0.5,0.5", "--tv", "1e-300"), "would take inf draws"),
        (("plan", "--pi", "0.5,0.5", "--tv", "0.1", "--power", "0.001"), "is not above"),
        (("maxtrick", "--pi", "0.5,0.5", "--seed", "-1"), "negative"),
        (("maxtrick", "--pi", "0.5,0.5", "--seed", "1.5"), "not an integer"),
        (("sweep", "--pi", "0.5,0.5", "--plot", "x.jpg"), "png, svg, pdf"),
        (("gradients", "--pi", "0.5,0.5", "--plot", "x.jpg"), "png, svg, pdf"),
        (("gradients", "--pi", "0.5,0.5", "--draws", "1e12"), "GiB"),
    ],
)
def test_each_class_of_bad_input_is_refused_before_sampling(
    args: tuple[str, ...], message: str
) -> None:
    code, stderr = run(*args)
    assert_clean(code, stderr, args, {REFUSED})
    assert message in stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nseed = true\n', "seed"),
        ('[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nseed = 1.5\n', "seed"),
        ('[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nseed = -1\n', "seed"),
        ('[[check]]\nname = "a"\ncheck = [1, 2]\n', "no check [1, 2]"),
        ('[[check]]\nname = "../x"\ncheck = "maxtrick"\npi = [0.5, 0.5]\n', "safe file name"),
        ('[[check]]\nname = "/tmp/x"\ncheck = "maxtrick"\npi = [0.5, 0.5]\n', "safe file name"),
        ('[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nalpha = 0.9\n', "alpha"),
        ('[[check]]\nname = "a"\ncheck = "maxtrick"\npi = [0.5, 0.5]\nsamples = 1e40\n', "large"),
        ("[[check]]\nname = 'a'\ncheck = 'dist'\nbeta = 1e300\n", "--beta" if False else "beta"),
    ],
)
def test_bad_suites_are_refused_before_any_check_runs(
    tmp_path: Path, toml: str, message: str
) -> None:
    config = tmp_path / "suite.toml"
    config.write_text(toml)
    args = ("suite", "--config", str(config), "--out", str(tmp_path / "out"))
    code, stderr = run(*args)
    assert_clean(code, stderr, args, {REFUSED})
    assert message in stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_suite_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "suite.toml"
    config.write_bytes(b"\xff\xfe[[check]]")
    code, stderr = run("suite", "--config", str(config))
    assert_clean(code, stderr, ("suite",), {REFUSED})
    assert "not UTF-8" in stderr


@pytest.mark.parametrize("kind", ["fifo", "symlink", "read-only", "directory"])
def test_report_paths_that_are_not_plain_writable_files_are_refused(
    tmp_path: Path, kind: str
) -> None:
    import os

    target = tmp_path / "report.csv"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(tmp_path / "elsewhere.csv")
    elif kind == "read-only":
        target.write_text("keep me\n")
        target.chmod(0o444)
    else:
        target.mkdir()
    args = ("maxtrick", "--pi", "0.5,0.5", "--csv", str(target))
    code, stderr = run(*args)
    assert_clean(code, stderr, args, {REFUSED})
    if kind == "read-only":
        assert target.read_text() == "keep me\n"


def test_an_internal_error_is_exit_3_with_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gumbelcheck.checks import plan

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(plan, "plan", broken)
    code, stderr = run("plan", "--pi", "0.5,0.5", "--tv", "0.1")
    assert code == 3
    assert stderr.count("\n") == 1
    assert "internal error (ZeroDivisionError: float division by zero)" in stderr
    assert "--debug" in stderr
    code, stderr = run("--debug", "plan", "--pi", "0.5,0.5", "--tv", "0.1")
    assert code == 3
    assert "Traceback" in stderr


@pytest.mark.parametrize(
    "args",
    [
        ("maxtrick", "--pi", "0.1,0.2,0.7"),
        ("maxtrick", "--pi", "0.1,0.2,0.7", "--replicates", "3"),
        ("dist", "--mu", "1", "--beta", "2"),
        ("sweep", "--pi", "0.1,0.2,0.7"),
        ("controls",),
        ("maxlaw", "--pi", "0.1,0.2,0.7"),
        ("topk", "--pi", "0.1,0.2,0.7", "--m", "2"),
        ("gradients", "--pi", "0.1,0.2,0.7", "--anneal", "1:0.5:1e-4:100"),
        ("gradients", "--pi", "0.1,0.2,0.7", "--objective", "linear", "--control", "score-sign"),
    ],
)
def test_valid_input_reaches_the_sampling_stub(args: tuple[str, ...]) -> None:
    # What makes the generated tests below meaningful: accepted input ends at the stub.
    code, stderr = run(*args)
    assert_clean(code, stderr, args, {SAMPLING})


# Generated hostile input -------------------------------------------------------------------

NASTY = st.sampled_from(
    [
        "", " ", "0", "-0", "1", "-1", "2", "1.5", "0.5", "1e-320", "1e-300", "1e300", "1e308",
        "1e400", "-1e400", "nan", "NaN", "inf", "-inf", "1e30", "1e19", "9007199254740993",
        "1M", "10G", "1_000", "0x10", "true", "[1]", "a,b", ",", "1,,2", "0.5,0.5", "1,2,7",
        "-inf,0", "0,0", "1e-9,1", "@", "@/nonexistent", "@/dev/null", "/dev/null", "../x",
        "x.py:f", ":f", "nope", "race", "gaussian", "1e3:1e-3:5", "1:2:0", "1:2:1e9",
        "\u00e9", "\x00", "[bold]x[/bold]", "torch.multinomial[int8]",
        "jax.categorical[float32,low]", "numpy.choice[", "torch.nope",
    ]
)
VALUES = st.one_of(NASTY, st.text(max_size=12))

COMMANDS: dict[str, tuple[str, ...]] = {
    "maxtrick": ("--pi", "--logits", "--samples", "--seed", "--alpha", "--block-size",
                 "--workers", "--sampler", "--replicates"),
    "counts": ("--pi", "--logits", "--counts", "--indices", "--alpha", "--seed"),
    "dist": ("--mu", "--beta", "--samples", "--seed", "--alpha", "--block-size"),
    "sweep": ("--pi", "--logits", "--tau", "--samples", "--seed", "--alpha", "--sampler"),
    "plan": ("--pi", "--logits", "--tv", "--w", "--alpha", "--power"),
    "controls": ("--samples", "--seed", "--alpha", "--workers"),
    "maxlaw": ("--pi", "--logits", "--samples", "--seed", "--alpha", "--noise", "--workers"),
    "topk": ("--pi", "--logits", "--m", "--samples", "--seed", "--noise", "--sampler"),
    "gradients": ("--pi", "--logits", "--objective", "--target", "--tau", "--anneal", "--draws",
                  "--control", "--samples"),
}  # fmt: skip


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, ...]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    options = draw(st.lists(st.sampled_from(COMMANDS[command]), unique=True, max_size=4))
    args: list[str] = [command]
    for option in options:
        args.append(f"{option}={draw(VALUES)}")
    return tuple(args)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines())
def test_generated_hostile_command_lines_never_crash(args: tuple[str, ...]) -> None:
    # 0 or 1: a run that did not need sampling (plan); 2: refused; 130: reached sampling.
    code, stderr = run(*args)
    assert_clean(code, stderr, args, {0, 1, REFUSED, SAMPLING})


TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=4),
)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    check=st.sampled_from(["maxtrick", "dist", "sweep", "counts", "calibration", "controls"]),
    values=st.dictionaries(
        st.sampled_from(["pi", "samples", "seed", "beta", "mu", "tau", "replicates", "counts"]),
        TOML_VALUES,
        max_size=4,
    ),
)
def test_generated_hostile_suites_never_crash(check: str, values: dict[str, Any]) -> None:
    import tempfile

    lines = ["[[check]]", 'name = "x"', f'check = "{check}"']
    lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "suite.toml"
        config.write_text("\n".join(lines) + "\n")
        code, stderr = run("suite", "--config", str(config), "-q")
    assert_clean(code, stderr, ("suite", *lines), {REFUSED, SAMPLING})
