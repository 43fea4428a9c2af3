"""Rich renderings of results for the terminal (the CLI's only view code)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from gumbelcheck.checks.dist import DistResult
    from gumbelcheck.checks.maxtrick import MaxTrickResult
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


def _count(value: float) -> str:
    """An expected count: grouped digits when large, four significant digits when small."""
    return f"{value:,.0f}" if value >= 1e4 else f"{value:.4g}"


def verdict_text(passed: bool) -> Text:
    """PASS in green or FAIL in red."""
    return Text("PASS", style="bold green") if passed else Text("FAIL", style="bold red")


def maxtrick(result: MaxTrickResult) -> RenderableType:
    """Verdict, test and the per-category table of a Gumbel-Max check."""
    g = result.gof
    frame = result.to_frame()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("cat", "pi", "expected", "observed", "fraction", "99% Wilson CI", "resid", "test"):
        table.add_column(name, justify="left" if name == "test" else "right", no_wrap=True)
    for row in frame.itertuples(index=False):
        test = row.bin_test
        if not math.isnan(row.bin_pvalue):
            test = f"{test} p={fmt_p(row.bin_pvalue, math.log10(max(row.bin_pvalue, 1e-320)))}"
        zero_hit = row.pi == 0 and row.observed > 0
        table.add_row(
            str(row.category),
            f"{row.pi:.6g}",
            _count(row.expected),
            Text(f"{row.observed:,}", style="bold red" if zero_hit else ""),
            f"{row.fraction:.6g}",
            f"{row.fraction_low99:.5g} - {row.fraction_high99:.5g}",
            fmt_float(row.residual, 3),
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


def _span(variable: str, lo: float, hi: float) -> str:
    """A grid's range, ``z -2..5``, or ``p near 0.3679`` when it is too narrow for that."""
    if math.isnan(lo):
        return variable
    if f"{lo:.3g}" == f"{hi:.3g}":
        return f"{variable} near {(lo + hi) / 2:.4g}"
    return f"{variable} {lo:.3g}..{hi:.3g}"


def dist(result: DistResult) -> RenderableType:
    """Accuracy table, SciPy deviations, moments and sampling tests of a Gumbel check."""
    from gumbelcheck.checks.dist import scipy_deviation_text

    s = result.sampling
    head = Text.assemble(
        ("gumbelcheck dist", "bold"),
        f"  mu = {result.mu:g}  beta = {result.beta:g}  N = {s.samples:,}  "
        f"seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
        "\n",
        ("accuracy: ", "bold"),
        f"{result.functions} vs a 256-bit mpmath reference, tolerance "
        f"{result.ulp_factor:g} (1 + condition number) ULP; SciPy = scipy.stats.gumbel_r",
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0))
    columns = ("function", "region", "range", "n", "max rel", "max ULP", "tol ULP")
    for name in (*columns, "err/tol", "ok", "SciPy ULP", "SciPy"):
        table.add_column(name, justify="left" if name in columns[:3] else "right", no_wrap=True)
    for row in result.accuracy:
        scipy = "-"
        if row.kind == "reference":
            scipy = "DEVIATES" if row.scipy_deviates else "ok"
        table.add_row(
            row.function,
            row.region,
            _span(row.variable, row.lo, row.hi),
            str(row.n_points),
            fmt_float(row.max_rel_err, 2),
            fmt_float(row.max_ulp_err, 2),
            fmt_float(row.tolerance_ulp, 2),
            fmt_float(row.error_ratio, 2),
            verdict_text(row.passed),
            fmt_float(row.scipy_max_ulp_err, 2),
            Text(scipy, style="bold yellow" if row.scipy_deviates else ""),
        )
    note = Text(
        "n: points compared (true value a normal float); where it underflows the function "
        "must return < 2.2e-308. ULP of the true value; tol ULP where the ULP error is largest.",
        style="dim",
    )
    deviations = Text.assemble(("SciPy deviations: ", "bold"))
    if result.scipy_deviations:
        for row in result.scipy_deviations:
            deviations.append(f"\n  {scipy_deviation_text(row)}")
    else:
        deviations.append("none (SciPy met every tolerance)")
    level = f"{100 * (1 - s.alpha):g}%"
    moments = Text.assemble(
        ("sampling: ", "bold"),
        f"{s.samples:,} draws by {s.sampler}; KS and CvM on the first {s.gof_draws:,} "
        "(block order), moments on all\n",
        f"  mu = {result.mu:g} is the mode, not the mean: mu + gamma beta = "
        f"{s.mean.expected:.6g}, sample {s.mean.estimate:.6g} "
        f"({level} CI {s.mean.ci_low:.6g}..{s.mean.ci_high:.6g})\n",
        f"  beta = {result.beta:g} is not the sd: sd = pi beta / sqrt(6) = "
        f"{s.sd_expected:.6g}, sample {s.sd:.6g}\n",
        f"  variance pi^2 beta^2 / 6 = {s.variance.expected:.6g}, sample "
        f"{s.variance.estimate:.6g} ({level} CI {s.variance.ci_low:.6g}.."
        f"{s.variance.ci_high:.6g})",
    )
    tests = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("test", "statistic", "p", "log10 p"):
        tests.add_column(name, justify="left" if name == "test" else "right", no_wrap=True)
    for test in s.tests:
        tests.add_row(
            test.name,
            fmt_float(test.statistic, 5),
            fmt_p(test.pvalue, test.log10_pvalue),
            f"{test.log10_pvalue:.4g}",
        )
    test_line = Text.assemble(
        ("test: ", "bold"),
        f"smallest of {len(s.tests)} p-values ({s.test}), Bonferroni: "
        f"p = {fmt_p(s.pvalue, s.log10_pvalue)}  log10 p = {s.log10_pvalue:.4g}  "
        f"alpha = {s.alpha:g}",
    )
    worst = result.worst
    effect = Text.assemble(
        ("effect size: ", "bold"),
        f"KS D = {s.ks_distance:.3g}  mean shift = {s.mean_shift_sd:.3g} sd  "
        f"variance ratio = {s.variance_ratio:.5g}  worst accuracy = {worst.error_ratio:.3g} x "
        f"tolerance ({worst.function} {worst.region})",
    )
    verdict = Text.assemble(("verdict: ", "bold"), verdict_text(result.passed))
    if result.reason:
        verdict.append(f"  ({result.reason})")
    return Group(head, table, note, deviations, moments, tests, test_line, effect, verdict)
