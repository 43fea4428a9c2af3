"""``gumbelcheck counts`` and ``--pi @FILE``: counts and distributions from files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from gumbelcheck import check_counts
from gumbelcheck.cli import app
from gumbelcheck.core.errors import InputError
from gumbelcheck.engine import block_generator

Cli = Callable[..., Result]
PI = np.array([0.1, 0.2, 0.7])


@pytest.fixture
def exact(tmp_path: Path) -> dict[str, Path]:
    """Exact multinomial counts (and indices) of Categorical(PI) in every accepted form."""
    counts = block_generator(11, 0).multinomial(1_000_000, PI)
    indices = block_generator(12, 0).choice(3, size=50_000, p=PI)
    files = {
        "npy": tmp_path / "counts.npy",
        "lines": tmp_path / "counts.txt",
        "commas": tmp_path / "counts.csv.txt",
        "csv": tmp_path / "counts.csv",
        "indices-npy": tmp_path / "indices.npy",
        "indices-text": tmp_path / "indices.txt",
    }
    np.save(files["npy"], counts)
    files["lines"].write_text("# counts of my GPU job\n" + "\n".join(map(str, counts)) + "\n")
    files["commas"].write_text(",".join(map(str, counts)))
    files["csv"].write_text(
        "category,count\n" + "".join(f"{i},{c}\n" for i, c in enumerate(counts))
    )
    np.save(files["indices-npy"], indices)
    files["indices-text"].write_text("\n".join(map(str, indices)) + "\n")
    return files


@pytest.mark.parametrize("form", ["npy", "lines", "commas", "csv", "indices-npy", "indices-text"])
def test_exact_counts_pass_from_every_file_form(
    cli: Cli, exact: dict[str, Path], form: str
) -> None:
    option = "--indices" if form.startswith("indices") else "--counts"
    result = cli("counts", "--pi", "0.1,0.2,0.7", option, str(exact[form]))
    assert result.exit_code == 0, result.output
    assert "verdict: PASS" in result.stdout


def test_counts_from_standard_input() -> None:
    counts = block_generator(11, 0).multinomial(1_000_000, PI)
    runner = CliRunner()
    ok = runner.invoke(
        app, ["counts", "--pi", "0.1,0.2,0.7", "--counts", "-"], input=",".join(map(str, counts))
    )
    assert ok.exit_code == 0, ok.output
    biased = runner.invoke(
        app, ["counts", "--pi", "0.1,0.2,0.7", "--counts", "-"], input="101000\n199000\n700000\n"
    )
    assert biased.exit_code == 1
    assert "pearson-chi2 p = " in biased.stdout


def test_biased_counts_fail_with_their_effect_size() -> None:
    # 1 % of the mass moved from category 2 to category 0: TV 0.01.
    counts = block_generator(11, 0).multinomial(1_000_000, [0.11, 0.2, 0.69])
    result = check_counts(PI, counts=counts)
    assert not result.passed
    assert result.gof.log10_pvalue < -100
    assert result.gof.tv_distance == pytest.approx(0.01, abs=1e-3)
    assert check_counts([0.11, 0.2, 0.69], counts=counts).passed


def test_a_count_on_a_zero_probability_category_is_a_hard_failure() -> None:
    result = check_counts([0.5, 0.0, 0.5], counts=[5000, 1, 5000])
    assert result.summary().hard_failure
    assert not result.passed


def test_the_counts_report_has_the_shared_summary_csv_json_and_junit(
    cli: Cli, exact: dict[str, Path], tmp_path: Path
) -> None:
    import json
    import xml.etree.ElementTree as ET

    csv, junit = tmp_path / "r.csv", tmp_path / "junit.xml"
    args = ["counts", "--pi", "0.1,0.2,0.7", "--counts", str(exact["npy"])]
    result = cli(*args, "--csv", str(csv), "--junit", str(junit), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["check"] == "counts"
    assert data["mde"].startswith("TV >= ")
    assert "# check: counts" in csv.read_text()
    assert "# sampler_origin: sha256:" in csv.read_text()
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "gumbelcheck.counts"
    assert case.find("failure") is None


@pytest.mark.parametrize(
    ("content", "option", "message"),
    [
        ("100\n200\n", "--counts", "has 2 numbers but the distribution has 3 categories"),
        ("100\n-1\n700\n", "--counts", "entry 1 is negative (-1)"),
        ("100\n2.5\n700\n", "--counts", "entry 1 (2.5) is not a whole number"),
        ("100\nlots\n700\n", "--counts", "entry 1 ('lots') is not a number"),
        ("", "--counts", "holds no numbers"),
        ("# only a comment\n", "--counts", "holds no numbers"),
        ("0\n1\n3\n", "--indices", "entry 2 is 3, outside the categories 0..2"),
        ("0\n-1\n", "--indices", "entry 1 is -1, outside the categories 0..2"),
        ("category,n\n0,1\n", "--counts", "is a CSV without a 'count'"),
        ("0\n0\n0\n", "--counts", "counts no draws at all"),
    ],
)
def test_bad_files_are_refused_with_one_line(
    cli: Cli, tmp_path: Path, content: str, option: str, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    result = cli("counts", "--pi", "0.1,0.2,0.7", option, str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_unreadable_and_binary_files_are_refused(cli: Cli, tmp_path: Path) -> None:
    missing = cli("counts", "--pi", "0.5,0.5", "--counts", str(tmp_path / "nope.npy"))
    assert missing.exit_code == 2
    assert "cannot read --counts" in missing.stderr
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert cli("counts", "--pi", "0.5,0.5", "--counts", str(binary)).exit_code == 2
    matrix = tmp_path / "m.npy"
    np.save(matrix, np.ones((2, 2)))
    shaped = cli("counts", "--pi", "0.5,0.5", "--counts", str(matrix))
    assert shaped.exit_code == 2
    assert "shape (2, 2)" in shaped.stderr
    both = cli("counts", "--pi", "0.5,0.5", "--counts", str(matrix), "--indices", str(matrix))
    assert both.exit_code == 2


def test_a_distribution_from_a_file(cli: Cli, tmp_path: Path) -> None:
    # A 262,144-token vocabulary does not fit on a command line.
    logits = np.full(2**18, -20.5)
    logits[0] = 0.0
    np.save(tmp_path / "vocab.npy", logits)
    (tmp_path / "pi.txt").write_text("0.1\n0.2\n0.7\n")
    result = cli("maxtrick", "--pi", f"@{tmp_path / 'pi.txt'}", "-n", "1e5", "--seed", "1")
    assert result.exit_code == 0, result.output
    sampler = f"{Path(__file__).resolve().parent / 'data' / 'user_samplers.py'}:choice"
    vocab = f"--logits=@{tmp_path / 'vocab.npy'}"
    big = cli("maxtrick", vocab, "-n", "2e5", "--seed", "1", "--sampler", sampler, "-q")
    assert big.exit_code == 0, big.output
    assert "N = 200,000" in big.stdout
    (tmp_path / "neg.txt").write_text("0.5,-0.5,1")
    with pytest.raises(InputError, match="`pi` entry 1 is negative"):
        check_counts(f"@{tmp_path / 'neg.txt'}", counts=[1, 1, 1])
