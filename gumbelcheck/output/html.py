"""One self-contained HTML report of a check or a suite, and the notebook view of a result.

The page reads the results and their :class:`~gumbelcheck.core.result.Summary` like every
other writer and computes nothing new: per check the verdict and its reason first, the
hypothesis, the deciding test, the minimum detectable effect in words, the check's figure
(:mod:`gumbelcheck.output.figures`, inline SVG), its figures and table, and the provenance
with the command that reproduces it. A suite's page starts with the summary table, linked to
each check's section. Inline CSS, no script, no external URL: it opens offline. Without
matplotlib the page says so and keeps the tables.
"""

from __future__ import annotations

import html
import inspect
import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gumbelcheck.output.files import atomic_write_text
from gumbelcheck.output.numbers import fmt_float, fmt_p

if TYPE_CHECKING:
    import pandas as pd

    from gumbelcheck.core.provenance import Provenance
    from gumbelcheck.core.result import Summary
    from gumbelcheck.suite.run import SuiteEntry, SuiteResult

#: Rows of a check's table on the page; the CSV and JSON reports have all of them.
MAX_TABLE_ROWS = 60

#: The page's style: every selector under ``.gumbelcheck``, so that a notebook's own style
#: and this one leave each other alone.
CSS = """
.gumbelcheck { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1f24; line-height: 1.45; max-width: 1100px; margin: 0 auto; padding: 0 1rem; }
.gumbelcheck h1 { font-size: 1.6rem; margin: 1rem 0 0.4rem; }
.gumbelcheck h2 { font-size: 1.25rem; margin: 0 0 0.4rem; }
.gumbelcheck h3 { font-size: 1rem; margin: 1rem 0 0.3rem; }
.gumbelcheck section { border-top: 2px solid #d0d7de; padding: 1rem 0; }
.gumbelcheck .verdict { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 4px;
  font-weight: 700; color: #fff; font-size: 0.95em; }
.gumbelcheck .PASS { background: #1a7f37; }
.gumbelcheck .FAIL { background: #cf222e; }
.gumbelcheck .reason { font-size: 1.05rem; margin: 0.3rem 0 0.6rem; }
.gumbelcheck .note { color: #57606a; font-size: 0.9rem; }
.gumbelcheck dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  margin: 0.4rem 0; }
.gumbelcheck dt { font-weight: 600; }
.gumbelcheck dd { margin: 0; }
.gumbelcheck table { border-collapse: collapse; font-size: 0.85rem; margin: 0.3rem 0;
  font-variant-numeric: tabular-nums; }
.gumbelcheck th, .gumbelcheck td { border-bottom: 1px solid #d0d7de; padding: 0.15rem 0.5rem;
  text-align: right; white-space: nowrap; }
.gumbelcheck th { background: #f6f8fa; }
.gumbelcheck td.text, .gumbelcheck th.text { text-align: left; }
.gumbelcheck td.wrap { white-space: normal; min-width: 8rem; }
.gumbelcheck .scroll { overflow-x: auto; }
.gumbelcheck figure { margin: 0.5rem 0; }
.gumbelcheck figure svg { max-width: 100%; height: auto; }
.gumbelcheck figcaption { color: #57606a; font-size: 0.9rem; }
.gumbelcheck pre { background: #f6f8fa; padding: 0.5rem; overflow-x: auto; font-size: 0.85rem;
  white-space: pre-wrap; word-break: break-all; }
.gumbelcheck a { color: #0969da; }
"""


def write_html(result: Any, path: str | os.PathLike[str]) -> None:
    """Write the self-contained HTML report of ``result`` (a check's or a suite's) to
    ``path``, atomically."""
    atomic_write_text(path, document(result))


def document(result: Any) -> str:
    """The whole page: the report of a check or of a suite."""
    title = f"gumbelcheck {result.check}: {result.verdict}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{_report(result)}\n</body>\n</html>\n"
    )


def fragment(result: Any) -> str:
    """The report as one ``<div>`` with its own style: what a notebook shows
    (``_repr_html_``)."""
    return _report(result, style=True)


def _report(result: Any, style: bool = False) -> str:
    body = _suite(result) if result.check == "suite" else _single(result)
    css = f"<style>{CSS}</style>" if style else ""
    return f'<div class="gumbelcheck">{css}\n{body}\n</div>'


def _e(value: object) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def _badge(verdict: str) -> str:
    return f'<span class="verdict {"PASS" if verdict == "PASS" else "FAIL"}">{_e(verdict)}</span>'


def _single(result: Any) -> str:
    """The page of one check run on its own."""
    intro = _missing_matplotlib_note()
    return intro + _section(
        result, anchor=result.check, heading=f"gumbelcheck {result.check}", entry=None
    )


def _suite(result: SuiteResult) -> str:
    """The page of a suite: the verdict, the summary table, then one section per check."""
    s = result.summary()
    failed = [e for e in result.entries if not e.passed]
    head = (
        f"<h1>gumbelcheck suite {_badge(result.verdict)}</h1>\n"
        f'<p class="reason">{len(result.entries) - len(failed)}/{len(result.entries)} checks '
        f"passed at family-wise alpha = {result.spec.alpha:g} (Holm's method across the "
        f"checks){_e('; ' + s.reason) if s.reason else ''}.</p>\n"
    )
    rows = []
    for entry in result.entries:
        row = entry.row()
        rows.append(
            [
                f'<a href="#{_e(_anchor(entry.name))}">{_e(entry.name)}</a>',
                _e(entry.spec.check),
                _badge(row["verdict"]),
                _e("-" if row["samples"] is None else f"{row['samples']:,}"),
                _e(row["test"]),
                _e(fmt_float(row["statistic"], 5)),
                _e("-" if row["df"] is None else row["df"]),
                _e(fmt_p(row["pvalue"], row["log10_pvalue"])),
                _e(fmt_p(row["holm_pvalue"], row["holm_log10_pvalue"])),
                _e(row["effect"]),
                _e(row["mde"] or "-"),
                _e(entry.failure),
            ]
        )
    columns = ["check", "kind", "verdict", "N", "test", "statistic", "df", "p", "Holm p",
               "effect", "caught with power 0.9", "reason"]  # fmt: skip
    if not failed:  # no reasons to give
        columns.pop()
        rows = [row[:-1] for row in rows]
    table = _table(
        columns,
        rows,
        text_columns={"check", "kind", "test", "effect", "caught with power 0.9", "reason"},
        wrap={"test", "caught with power 0.9", "reason"},
    )
    sections = "\n".join(
        _section(e.result, anchor=_anchor(e.name), heading=e.name, entry=e) for e in result.entries
    )
    first = result.entries[0].result.provenance
    provenance = (
        "<section><h2>Provenance of the suite</h2>\n"
        + _command(first.command, "the suite")
        + _versions(first)
        + "<details><summary>the suite's TOML</summary>\n"
        + f"<pre>{_e(result.spec.text)}</pre></details>\n</section>"
    )
    return "\n".join(
        [head, _missing_matplotlib_note(), "<h2>Summary</h2>", table, sections, provenance]
    )


def _anchor(name: str) -> str:
    return f"check-{name}"


def _section(result: Any, *, anchor: str, heading: str, entry: SuiteEntry | None) -> str:
    """A check's section: verdict and reason, hypothesis, deciding test, power, figure,
    figures, table, provenance."""
    s: Summary = result.summary()
    verdict = s.verdict if entry is None else ("PASS" if entry.passed else "FAIL")
    parts = [
        f'<section id="{_e(anchor)}">',
        f"<h2>{_e(heading)} {_badge(verdict)}</h2>",
        f'<p class="reason">{_e(_reason(s, verdict, entry))}</p>',
        "<dl>",
        _dd("null hypothesis", s.null_hypothesis),
        _dd("deciding test", f"{s.test} (rule: {s.rule})"),
        _dd(
            "statistic",
            f"{fmt_float(s.statistic, 6)}" + ("" if s.df is None else f" with df = {s.df}"),
        ),
        _dd("p-value", _p_words(s)),
    ]
    if entry is not None:
        holm = fmt_p(10.0**entry.holm_log10_pvalue, entry.holm_log10_pvalue)
        parts.append(_dd("Holm-adjusted p", f"{holm} (across the suite's checks)"))
    parts += [
        _dd("alpha", f"{s.alpha:g}"),
        _dd("samples", "-" if s.samples is None else f"{s.samples:,}"),
        _dd("effect size", s.effect or "-"),
        _dd("power", _mde_words(s)),
        "</dl>",
        _figure(result, anchor),
    ]
    if s.figures:
        parts += ["<h3>Figures of the check</h3>", _mapping_table(s.figures)]
    parts += [_frame_table(result.to_frame()), "<h3>Provenance</h3>", _provenance(result, entry)]
    parts.append("</section>")
    return "\n".join(parts)


def _reason(s: Summary, verdict: str, entry: SuiteEntry | None) -> str:
    """Why the verdict is what it is, in one sentence."""
    if verdict == "FAIL":
        reason = s.reason if entry is None else entry.failure
        return f"Failed: {reason or 'see the deciding test below'}"
    if entry is not None and not s.passed:
        return "Passed in the suite: its own verdict failed, Holm's correction lifts it"
    if math.isnan(s.log10_pvalue):
        return "Passed: every criterion of the check held"
    return f"Passed: p = {fmt_p(s.pvalue, s.log10_pvalue)} >= alpha = {s.alpha:g}"


def _p_words(s: Summary) -> str:
    if math.isnan(s.log10_pvalue):
        return "- (decided without a p-value)"
    return f"{fmt_p(s.pvalue, s.log10_pvalue)} (log10 p = {s.log10_pvalue:.4g})"


def _mde_words(s: Summary) -> str:
    """The minimum detectable effect as a sentence."""
    if not s.mde:
        return "this check computes no minimum detectable effect"
    return f"this run would have caught {s.mde} with probability >= 0.9 at alpha = {s.alpha:g}"


def _dd(term: str, value: str) -> str:
    return f"<dt>{_e(term)}</dt><dd>{_e(value)}</dd>"


def _missing_matplotlib_note() -> str:
    from gumbelcheck.output.figures import NO_MATPLOTLIB, have_matplotlib

    if have_matplotlib():
        return ""
    return f'<p class="note">{_e(NO_MATPLOTLIB)}; the tables are all here.</p>'


def _figure(result: Any, anchor: str) -> str:
    """The check's figure as inline SVG with its caption (its function's docstring)."""
    from gumbelcheck.checks import registry
    from gumbelcheck.output import figures

    target = registry.get(result.check).figure
    if target is None:
        return ""
    if not figures.have_matplotlib():
        return f'<p class="note">Figure left out: {_e(figures.NO_MATPLOTLIB)}.</p>'
    figure = figures.figure_of(result)
    if figure is None:  # pragma: no cover - a registered figure always draws one
        return ""
    caption = " ".join((inspect.getdoc(registry.load(target)) or "").split())
    svg = figures.svg_text(figure, prefix=f"{anchor}-")
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _mapping_table(values: Mapping[str, Any], what: str = "figure") -> str:
    rows = [[_e(key), _e(_cell(value))] for key, value in values.items()]
    return _table([what, "value"], rows, text_columns={what, "value"}, wrap={"value"})


def _frame_table(frame: pd.DataFrame) -> str:
    """The check's table (its ``to_frame``), at most :data:`MAX_TABLE_ROWS` rows."""
    shown = frame.head(MAX_TABLE_ROWS)
    from pandas.api.types import is_numeric_dtype

    text = {str(c) for c in frame.columns if not is_numeric_dtype(frame[c])}
    rows = [[_e(_cell(v)) for v in record] for record in shown.itertuples(index=False)]
    note = ""
    if len(frame) > len(shown):
        note = (
            f'<p class="note">The first {len(shown)} of {len(frame):,} rows; the CSV and '
            "JSON reports have all of them.</p>"
        )
    heading = f"<h3>Table ({len(frame):,} rows)</h3>"
    return heading + _table([str(c) for c in frame.columns], rows, text_columns=text) + note


def _cell(value: Any) -> str:
    """One table cell: six significant digits for floats, ``-`` for NaN and None."""
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if number.is_integer() and abs(number) < 1e15 and not isinstance(value, float):
            return str(int(number))
        return fmt_float(number, 6)
    return str(value)


def _table(
    columns: list[str],
    rows: Iterable[list[str]],
    *,
    text_columns: set[str],
    wrap: frozenset[str] | set[str] = frozenset(),
) -> str:
    """A table of cells already escaped: ``text_columns`` left-aligned, ``wrap`` columns
    wrapped (the others keep each cell on one line)."""
    kinds = [
        f' class="text{" wrap" if c in wrap else ""}"' if c in text_columns else "" for c in columns
    ]
    head = "".join(f"<th{k}>{_e(c)}</th>" for c, k in zip(columns, kinds, strict=True))
    body = "\n".join(
        "<tr>"
        + "".join(f"<td{k}>{cell}</td>" for cell, k in zip(row, kinds, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table>\n<tr>{head}</tr>\n{body}\n</table></div>'


def _provenance(result: Any, entry: SuiteEntry | None) -> str:
    p: Provenance = result.provenance
    if entry is None:
        command = _command(p.command, "this report")
    else:
        command = _command(p.command, "the suite, this check among them") + (
            '<p class="note">This check in the suite\'s TOML:</p>'
            f"<pre>{_e(_toml_table(entry))}</pre>"
        )
    seeds = {
        "seed": p.seed,
        "bit generator": p.bit_generator,
        "block size": p.block_size,
        "sampler": p.noise,
        "sampler origin": p.sampler_origin,
    }
    return command + _mapping_table(seeds, "run") + ("" if entry is not None else _versions(p))


def _command(command: str, what: str) -> str:
    if command == "python":
        return (
            f'<p class="note">Made from Python, not the command line: the same call with the '
            f"seed below reproduces {_e(what)}.</p>"
        )
    return f'<p class="note">Reproduce {_e(what)} with:</p><pre>{_e(command)}</pre>'


def _versions(p: Provenance) -> str:
    values = {
        "gumbelcheck": p.tool_version,
        **p.versions,
        "platform": p.platform,
        "created (UTC)": p.created_utc,
    }
    return _mapping_table(values, "software")


def _toml_table(entry: SuiteEntry) -> str:
    """The check's ``[[check]]`` table as TOML."""
    lines = ["[[check]]", f"name = {_toml(entry.name)}", f"check = {_toml(entry.spec.check)}"]
    lines += [f"{key} = {_toml(value)}" for key, value in entry.spec.params.items()]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    """A TOML value (strings, booleans, numbers and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)
