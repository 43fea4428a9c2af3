"""The HTML report (--html on every check, on suite and frameworks), the notebook view, and
terminal tables that fit 80 columns."""

from __future__ import annotations

import dataclasses
import html
import re
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gumbelcheck.checks.maxtrick import maxtrick
from gumbelcheck.cli import app
from gumbelcheck.output.html import document, fragment
from gumbelcheck.output.numbers import fmt_p
from gumbelcheck.suite.run import run_suite
from gumbelcheck.suite.spec import DEFAULT_SUITE, parse_suite

Cli = Callable[..., Result]

#: One quick run of every command that has a result (``--html`` and ``-q`` are added).
COMMANDS = {
    "maxtrick": "maxtrick --pi 0.1,0.2,0.7 -n 20000 --seed 1",
    "maxtrick-wrong": "maxtrick --pi 0.1,0.2,0.7 -n 20000 --seed 1 --sampler gumbel-scale-2",
    "calibration": "maxtrick --pi 0.1,0.2,0.7 -n 2000 --replicates 40 --seed 1",
    "counts": "counts --pi 0.1,0.2,0.7 --counts @COUNTS",
    "dist": "dist -n 20000 --seed 1",
    "sweep": "sweep --pi 0.1,0.2,0.7 --tau 1e-2:1e2:5 -n 2000 --seed 1",
    "maxlaw": "maxlaw --pi 0.1,0.2,0.7 --samples 20000 --seed 1",
    "topk": "topk --pi 0.1,0.2,0.3,0.4 --m 2 --samples 20000 --seed 1",
    "topk-marginals": "topk --pi 0.1,0.2,0.3,0.4 --m 2 --law marginals --samples 20000 --seed 1",
    "gradients": "gradients --pi 0.1,0.2,0.7 --objective quadratic --tau 0.1:10:3 -n 5000 "
    "--seed 1",
    "gradients-anneal": "gradients --pi 0.1,0.2,0.7 -n 5000 --seed 1 --anneal 1:0.5:0.01:300",
    "frameworks": "frameworks --only numpy.choice[float64]",
    "suite": "suite --config @SUITE",
}

SUITE = """
[[check]]
name = "exact"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 20_000
seed = 1

[[check]]
name = "wrong"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 20_000
seed = 1
sampler = "gumbel-scale-2"
"""


def _args(name: str, tmp_path: Path) -> list[str]:
    counts = tmp_path / "counts.txt"
    counts.write_text("1012\n1987\n7001\n")
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    replace = {"@COUNTS": str(counts), "@SUITE": str(suite)}
    return [replace.get(a, a) for a in COMMANDS[name].split()]


class _Page(HTMLParser):
    """What a page holds: its tags, their URLs, ids and internal links."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "xlink:href", "action", "data") and value:
                (self.links if value.startswith("#") else self.urls).append(value)


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _self_contained(text: str) -> _Page:
    page = _page(text)
    assert page.urls == [], "no external resource"
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert "url(http" not in text
    assert "@import" not in text
    assert set(page.links) <= {f"#{i}" for i in page.ids}, "every link points into the page"
    return page


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_writes_one_self_contained_html_report(
    cli: Cli, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "report.html"
    result = cli(*_args(name, tmp_path), "--html", str(path), "-q")
    assert result.exit_code in (0, 1), result.stderr
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = _self_contained(text)
    verdict = "PASS" if result.exit_code == 0 else "FAIL"
    assert f"<title>gumbelcheck {'suite' if name == 'suite' else ''}" in text
    assert f'class="verdict {verdict}">{verdict}</span></h' in text
    assert "svg" in page.tags, "the check's figure, inline"
    for heading in ("null hypothesis", "deciding test", "p-value", "power", "Provenance"):
        assert heading in text
    assert not list(tmp_path.glob(".report.html.*")), "written atomically, no temporary left"


def test_a_report_path_that_cannot_be_written_fails_before_any_sampling(cli: Cli) -> None:
    result = cli("maxtrick", "--pi", "0.5,0.5", "-n", "1e12", "--html", "/no/such/dir/r.html")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_the_default_suite_report_shows_every_check_with_its_figure_within_budget(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "suite.html"
    assert cli("suite", "--html", str(path), "-q").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 2_000_000, "size budget of the default suite's report"
    page = _self_contained(text)
    names = [check.name for check in parse_suite(DEFAULT_SUITE).checks]
    summary = text.index("<h2>Summary</h2>")
    for name in names:
        assert f'<a href="#check-{name}">{name}</a>' in text[summary:]
        assert f"check-{name}" in page.ids
        section = text[text.index(f'<section id="check-{name}">') :]
        section = section[: section.index("</section>")]
        assert "<figure><svg" in section, f"{name} shows its figure"
        assert "this run would have caught" in section or "no minimum detectable" in section
    assert text.index("<h2>Summary</h2>") < text.index('<section id="check-')


def test_a_failing_check_says_why_first_and_the_power_in_words() -> None:
    result = maxtrick("0.1,0.2,0.7", samples=20_000, seed=1, sampler="gumbel-scale-2")
    text = document(result)
    s = result.summary()
    first = text.index('<p class="reason">')
    assert text[first:].startswith(f'<p class="reason">Failed: {html.escape(s.reason)}')
    assert first < text.index("null hypothesis") < text.index("<figure>")
    assert f"this run would have caught {html.escape(s.mde)}" in text


def test_every_text_is_escaped() -> None:
    result = maxtrick("0.1,0.2,0.7", samples=2_000, seed=1)
    hostile = "<script>alert('x')</script>"
    result = dataclasses.replace(
        result,
        null_hypothesis=hostile,
        noise=hostile,
        provenance=dataclasses.replace(result.provenance, command=f"gumbelcheck {hostile}"),
    )
    text = document(result)
    assert "<script" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    _self_contained(text)


def test_without_matplotlib_the_report_says_so_and_keeps_the_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = maxtrick("0.1,0.2,0.7", samples=2_000, seed=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises
    text = document(result)
    assert "<svg" not in text
    assert "matplotlib is not installed (pip install &#x27;gumbelcheck[plot]&#x27;)" in text
    assert "<h3>Table (3 rows)</h3>" in text


def test_notebooks_show_the_same_report() -> None:
    suite = run_suite(parse_suite(SUITE))
    for result in (suite, suite.entries[0].result):
        shown = result._repr_html_()  # type: ignore[attr-defined]
        assert shown == fragment(result)
        assert shown.startswith('<div class="gumbelcheck"><style>')
        assert shown.removeprefix('<div class="gumbelcheck">').split("</style>", 1)[1] in (
            document(result)
        )


# Terminal tables at 80 columns ---------------------------------------------------------


def _at(columns: str, *args: str, **env: str) -> Result:
    runner = CliRunner()
    return runner.invoke(app, list(args), env={"COLUMNS": columns, **env}, catch_exceptions=False)


@pytest.mark.parametrize("name", [n for n in COMMANDS if n != "suite"])
def test_every_command_fits_80_columns_without_cutting_a_cell(tmp_path: Path, name: str) -> None:
    result = _at("80", *_args(name, tmp_path), "-q")
    assert result.exit_code in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "…" not in result.stdout
    assert re.search(r"verdict: (PASS|FAIL)", result.stdout)


def test_replay_fits_80_columns() -> None:
    results = Path(__file__).resolve().parent.parent / "results"
    result = _at("80", "replay", str(results), "-q")
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout


def test_plan_fits_80_columns() -> None:
    result = _at("80", "plan", "--pi", "0.1,0.2,0.7", "--tv", "1e-3")
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "--samples 4,356,673" in result.stdout


def test_the_suite_at_80_columns_shows_full_verdicts_and_p_values() -> None:
    result = _at("80", "suite", "-q")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    suite = run_suite(parse_suite(DEFAULT_SUITE))
    for entry in suite.entries:
        row = entry.row()
        line = next(line for line in lines if line.strip().startswith(entry.name + " "))
        cells = line.split()
        assert cells[1] == "PASS"
        assert fmt_p(row["pvalue"], row["log10_pvalue"]) in cells
        assert fmt_p(row["holm_pvalue"], row["holm_log10_pvalue"]) in cells
    assert "left out at this width: rule" in result.stdout


def test_columns_is_honoured_in_a_pipe_and_the_wide_default_stays() -> None:
    args = ("maxtrick", "--pi", "0.1,0.2,0.7", "-n", "20000", "--seed", "1", "-q")
    narrow = _at("60", *args)
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    assert "left out at this width" in narrow.stdout
    for columns in (None, "0", "x"):  # unset or unusable: the wide default
        wide = CliRunner().invoke(app, list(args), env={"COLUMNS": columns})
        assert "99% Wilson CI" in wide.stdout
        assert "left out" not in wide.stdout


def test_no_color_is_honoured() -> None:
    args = ("maxtrick", "--pi", "0.1,0.2,0.7", "-n", "20000", "--seed", "1", "-q")
    colour = re.compile(r"\x1b\[[0-9;]*3[0-9]")  # a foreground colour
    forced = _at("80", *args, FORCE_COLOR="1")
    assert colour.search(forced.stdout), "colour when a terminal asks for it"
    plain = _at("80", *args, FORCE_COLOR="1", NO_COLOR="1")
    assert not colour.search(plain.stdout)
    assert "verdict: PASS" in re.sub(r"\x1b\[[0-9;]*m", "", plain.stdout)
