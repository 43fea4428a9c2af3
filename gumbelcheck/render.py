"""Rich renderings of results for the terminal (the CLI's only view code)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from gumbelcheck.calibration import CalibrationResult
    from gumbelcheck.checks.maxtrick import MaxTrickResult
    from gumbelcheck.controls import ControlsResult
    from gumbelcheck.suite import SuiteResult


def fmt_p(pvalue: float, log10_pvalue: float) -> str:
    """A p-value for people: ``0.853``, ``3.2e-12``, or ``10^-17686.2`` once it underflows."""
    if math.isnan(pvalue):
        return "-"
    if pvalue >= 1e-4:
        return f"{pvalue:.3g}"
    if pvalue > 1e-300:
        return f"{pvalue:.2e}"
    return f"10^{log10_pvalue:.1f}" if math.isfinite(log10_pvalue) else "0"


def fmt_float(value: float, digits: int = 4) -> str:
    """A float in general format, ``-`` for NaN."""
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}g}"


#: Categories shown in the terminal table; the CSV and JSON reports have all of them.
MAX_ROWS = 30


def _rows_to_show(result: MaxTrickResult) -> set[int]:
    """All categories when few; else draws on zero-probability ones, then the largest |residual|."""
    k = len(result.pi)
    if k <= MAX_ROWS:
        return set(range(k))
    g = result.gof
    zero_hits = (np.asarray(result.pi) == 0) & (np.asarray(result.counts) > 0)
    distance = np.where(zero_hits, np.inf, np.nan_to_num(np.abs(g.residual), nan=-1.0))
    return {int(i) for i in np.argsort(-distance, kind="stable")[:MAX_ROWS]}


def _count(value: float) -> str:
    """An expected count: grouped digits when large, four significant digits when small."""
    return f"{value:,.0f}" if value >= 1e4 else f"{value:.4g}"


def verdict_text(passed: bool) -> Text:
    """PASS in green or FAIL in red."""
    return Text("PASS", style="bold green") if passed else Text("FAIL", style="bold red")


def maxtrick(result: MaxTrickResult) -> RenderableType:
    """Verdict, test and the per-category table of a Gumbel-Max check."""
    g = result.gof
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("cat", "pi", "expected", "observed", "fraction", "99% Wilson CI", "resid", "test"):
        table.add_column(name, justify="left" if name == "test" else "right", no_wrap=True)
    rows = zip(
        result.pi, g.expected, result.counts, g.fraction, g.fraction_low, g.fraction_high,
        g.residual, g.bin_test, g.bin_pvalue, strict=True,
    )  # fmt: skip
    shown = _rows_to_show(result)
    if len(shown) < len(result.pi):
        table.caption = (
            f"{len(shown)} of {len(result.pi)} categories: those furthest from expected "
            "(--csv or --json for all)"
        )
    for i, (pi, expected, observed, fraction, low, high, residual, test, pvalue) in enumerate(rows):
        if i not in shown:
            continue
        if not math.isnan(pvalue):
            test = f"{test} p={fmt_p(pvalue, math.log10(max(pvalue, 1e-320)))}"
        table.add_row(
            str(i),
            f"{pi:.8g}",
            _count(expected),
            Text(f"{observed:,}", style="bold red" if pi == 0 and observed > 0 else ""),
            f"{fraction:.6g}",
            f"{low:.5g} - {high:.5g}",
            fmt_float(residual, 3),
            test,
        )
    head = Text.assemble(
        ("gumbelcheck maxtrick", "bold"),
        f"  N = {result.samples:,}  noise = {result.noise}  seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    df = "-" if g.df is None else str(g.df)
    test_line = Text.assemble(
        ("test: ", "bold"),
        f"{g.test} (rule: {g.rule})  statistic = {fmt_float(g.statistic, 6)}  df = {df}  "
        f"p = {fmt_p(g.pvalue, g.log10_pvalue)}  log10 p = {g.log10_pvalue:.4g}  "
        f"alpha = {g.alpha:g}",
    )
    effect = Text.assemble(
        ("effect size: ", "bold"),
        f"total variation = {g.tv_distance:.3g}  Cohen's w = {g.cohen_w:.3g}",
    )
    verdict = Text.assemble(("verdict: ", "bold"), verdict_text(result.passed))
    if g.reason:
        verdict.append(f"  ({g.reason})")
    return Group(head, table, test_line, effect, verdict)


def suite(result: SuiteResult) -> RenderableType:
    """One line per check and the overall verdict."""
    table = Table(title="gumbelcheck suite", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("check", "verdict", "N", "rule", "statistic", "df", "p", "effect", "seconds"):
        justify = "left" if name in ("check", "rule") else "right"
        table.add_column(name, justify=justify, no_wrap=True)
    for entry in result.entries:
        row = entry.row()
        table.add_row(
            entry.name,
            verdict_text(entry.result.passed),
            "-" if row.get("samples") is None else f"{row['samples']:,}",
            row.get("rule", "-"),
            fmt_float(row["statistic"], 5),
            "-" if row["df"] is None else str(row["df"]),
            fmt_p(row["pvalue"], row["log10_pvalue"]),
            row.get("effect", "-"),
            f"{entry.seconds:.2f}",
        )
    failed = [e.name for e in result.entries if not e.result.passed]
    verdict = Text.assemble(("suite verdict: ", "bold"), verdict_text(result.passed))
    verdict.append(f"  {len(result.entries) - len(failed)}/{len(result.entries)} checks passed")
    if failed:
        verdict.append(f"; failed: {', '.join(failed)}")
    return Group(table, verdict)


def controls(result: ControlsResult) -> RenderableType:
    """One line per control: true probabilities, power, p-value, verdict, expectation."""
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption="!! = verdict not as expected",
    )
    columns = ("control", "pi", "N", "true probabilities", "w", "power", "p", "verdict",
               "expected", "cons. p")  # fmt: skip
    for name in columns:
        justify = "left" if name in ("control", "pi", "true probabilities") else "right"
        table.add_column(name, justify=justify, no_wrap=True)
    for o in result.outcomes:
        g = o.result.gof
        table.add_row(
            o.control.name,
            " ".join(f"{x:.4g}" for x in o.control.pi),
            f"{o.result.samples:.0e}".replace("e+0", "e"),
            " ".join(f"{x:.4g}" for x in o.true_probabilities),
            fmt_float(o.cohen_w_true, 3),
            f"{o.predicted_power:.4f}",
            fmt_p(g.pvalue, g.log10_pvalue),
            verdict_text(o.result.passed),
            Text(
                o.control.expected_verdict + ("" if o.matched else " !!"),
                style="green" if o.matched else "bold red",
            ),
            fmt_p(o.consistency.pvalue, o.consistency.log10_pvalue),
        )
    s = result.summary()
    head = Text.assemble(
        ("gumbelcheck controls", "bold"),
        f"  alpha = {result.alpha:g}  seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    verdict = Text.assemble(("verdict: ", "bold"), verdict_text(result.passed))
    verdict.append(
        f"  {s['matched']}/{s['controls']} controls as expected; {s['wrong_rejected']}/"
        f"{s['wrong']} wrong samplers rejected (lowest predicted power "
        f"{s['min_predicted_power_wrong']:.4f})"
    )
    if s["reason"]:
        verdict.append(f"; {s['reason']}")
    return Group(head, table, verdict)


def calibration(result: CalibrationResult) -> RenderableType:
    """The replicates' p-value deciles, rejection rate and the second-level tests."""
    s = result.summary()
    head = Text.assemble(
        ("gumbelcheck maxtrick --replicates", "bold"),
        f"  R = {result.replicates:,}  N = {result.samples:,}  noise = {result.noise}  "
        f"seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    deciles = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, title="p-value deciles", title_justify="left"
    )
    deciles.add_column("", no_wrap=True)
    for q in ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"):
        deciles.add_column(q, justify="right", no_wrap=True)
    deciles.add_row(result.noise, *(f"{x:.3g}" for x in result.deciles))
    reference = np.quantile(result.reference_pvalues, [0.1 * i for i in range(1, 10)])
    deciles.add_row("exact multinomial", *(f"{x:.3g}" for x in reference))
    rate = Text.assemble(
        ("rejection rate: ", "bold"),
        f"{result.rejections}/{result.replicates} = {s['rejection_rate']:.3g}  "
        f"{1 - result.alpha:.0%} Clopper-Pearson [{result.rate_low:.3g}, {result.rate_high:.3g}]"
        f"  binomial test vs alpha = {result.alpha:g}: p = {result.size_pvalue:.3g}  "
        f"(exact multinomial: {result.reference_rejections}/{result.replicates})",
    )
    tests = Text.assemble(
        ("second level: ", "bold"),
        f"KS two-sample vs exact multinomial D = {result.ks_statistic:.4g} "
        f"p = {fmt_p(result.ks_pvalue, math.log10(max(result.ks_pvalue, 1e-320)))}  "
        f"Fisher exact (rejections) p = "
        f"{fmt_p(result.fisher_pvalue, math.log10(max(result.fisher_pvalue, 1e-320)))}  "
        f"each at alpha/2 = {result.alpha / 2:g}\n",
        ("for comparison: ", "bold"),
        f"KS vs Uniform(0, 1) D = {result.uniform_ks_statistic:.4g} p = "
        f"{fmt_p(result.uniform_ks_pvalue, math.log10(max(result.uniform_ks_pvalue, 1e-320)))}"
        " (valid only for continuous statistics, large N)",
    )
    verdict = Text.assemble(("verdict: ", "bold"), verdict_text(result.passed))
    if s["reason"]:
        verdict.append(f"  ({s['reason']})")
    return Group(head, deciles, rate, tests, verdict)
