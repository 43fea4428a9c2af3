"""Rich renderings of results for the terminal (the CLI's only view code); each check's
registry entry names its view here."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from gumbelcheck.output.numbers import fmt_float, fmt_p

if TYPE_CHECKING:
    from gumbelcheck.checks.calibration import CalibrationResult
    from gumbelcheck.checks.controls import ControlsResult
    from gumbelcheck.checks.dist import DistResult
    from gumbelcheck.checks.frameworks import FrameworksResult
    from gumbelcheck.checks.gradients import GradientsResult
    from gumbelcheck.checks.maxlaw import MaxLawResult
    from gumbelcheck.checks.maxtrick import MaxTrickResult
    from gumbelcheck.checks.sweep import SweepResult
    from gumbelcheck.checks.topk import TopKResult
    from gumbelcheck.suite.replay import ReplayResult
    from gumbelcheck.suite.run import SuiteResult


#: Width beyond which a check's or sampler's name folds onto the next line.
NAME_WIDTH = 40

#: A width no table reaches: :class:`Fitted` measures tables at it.
UNLIMITED = 1_000_000


class Fitted:
    """A table that fits the console's width: when it is too wide it leaves out its
    secondary columns, in the order given, and says which in its caption, so that the key
    columns (verdicts, p-values, key figures) are never cut to an ellipsis.

    Parameters
    ----------
    table : Table
        The whole table; its key columns should not wrap.
    secondary : sequence of str
        Headers of the columns that may be left out, the first to go first.
    """

    def __init__(self, table: Table, secondary: Sequence[str]) -> None:
        self.table = table
        self.secondary = tuple(secondary)

    def _without(self, dropped: Sequence[str]) -> Table:
        table = copy.copy(self.table)
        kept = [c for c in self.table.columns if str(c.header) not in dropped]
        table.columns = [dataclasses.replace(c, _index=i) for i, c in enumerate(kept)]
        if dropped:
            note = (
                f"left out at this width: {', '.join(dropped)} (a wider terminal or COLUMNS "
                "shows them; --json has every figure)"
            )
            table.caption = f"{table.caption}; {note}" if table.caption else note
            table.caption_justify = "left"
        return table

    def fit(self, console: Console, width: int) -> Table:
        """The table with as few secondary columns left out as fit ``width``."""
        dropped: list[str] = []
        table = self._without(dropped)
        options = console.options.update_width(UNLIMITED)  # measure the natural width
        for header in self.secondary:
            if Measurement.get(console, options, table).maximum <= width:
                break
            dropped.append(header)
            table = self._without(dropped)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        yield self.fit(console, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.fit(console, options.max_width))


class AtWidth:
    """A renderable built for the width it is drawn at (``build(width)``)."""

    def __init__(self, build: Callable[[int], RenderableType]) -> None:
        self.build = build

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        yield self.build(options.max_width)


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


def verdict_line(passed: bool, reason: str = "") -> Text:
    """``verdict: PASS``, or ``verdict: FAIL  (reason)``."""
    line = Text.assemble(("verdict: ", "bold"), verdict_text(passed))
    if reason:
        line.append(f"  ({reason})")
    return line


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
    subject = (
        f"sampler = {result.noise}  seed = {result.provenance.seed}"
        if result.check == "maxtrick"
        else result.noise
    )
    head = Text.assemble(
        (f"gumbelcheck {result.check}", "bold"),
        f"  N = {result.samples:,}  {subject}\n",
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
    if not math.isnan(g.mde_w):
        effect.append_text(
            Text.assemble(
                ("\npower: ", "bold"),
                f"at this N and alpha a deviation of w >= {g.mde_w:.3g} (so any TV >= "
                f"{g.mde_tv:.3g}) is caught with probability >= 0.9",
            )
        )
    verdict = verdict_line(result.passed, g.reason)
    fitted = Fitted(table, ("99% Wilson CI", "fraction", "pi", "expected"))
    return Group(head, fitted, test_line, effect, verdict)


def suite(result: SuiteResult) -> RenderableType:
    """One line per check and the overall verdict."""
    table = Table(title="gumbelcheck suite", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("check", "verdict", "N", "rule", "statistic", "df", "p", "Holm p", "effect"):
        justify = "left" if name in ("check", "rule") else "right"
        if name == "check":  # a long name folds rather than squeezing a verdict or a p
            table.add_column(name, max_width=NAME_WIDTH, overflow="fold")
        else:
            table.add_column(name, justify=justify, no_wrap=True)
    for entry in result.entries:
        row = entry.row()
        table.add_row(
            Text(entry.name),
            verdict_text(entry.passed),
            "-" if row.get("samples") is None else f"{row['samples']:,}",
            row.get("rule", "-"),
            fmt_float(row["statistic"], 5),
            "-" if row["df"] is None else str(row["df"]),
            fmt_p(row["pvalue"], row["log10_pvalue"]),
            fmt_p(row["holm_pvalue"], row["holm_log10_pvalue"]),
            row.get("effect", "-"),
        )
    failed = [e for e in result.entries if not e.passed]
    verdict = Text.assemble(("suite verdict: ", "bold"), verdict_text(result.passed))
    verdict.append(
        f"  {len(result.entries) - len(failed)}/{len(result.entries)} checks passed "
        f"(family-wise alpha = {result.spec.alpha:g}, Holm) in "
        f"{sum(e.seconds for e in result.entries):.1f} s"
    )
    fitted = Fitted(table, ("rule", "statistic", "df", "N", "effect"))
    lines: list[RenderableType] = [fitted, verdict]
    for entry in failed:
        lines.append(Text(f"  {entry.name}: {entry.failure}", style="red"))
    return Group(*lines)


def replay(result: ReplayResult) -> RenderableType:
    """One line per replayed report and the overall verdict."""
    # Text, never markup: nothing a manifest says is rendered as Rich markup.
    table = Table(title=Text(f"gumbelcheck replay {result.directory}"), title_justify="left")
    table.box = box.SIMPLE_HEAD
    for name in ("file", "status", "detail"):
        table.add_column(name)
    for item in result.files:
        style = "green" if item.passed else "red"
        table.add_row(Text(item.file), Text(item.status, style=style), Text(item.detail))
    verdict = Text.assemble(("replay verdict: ", "bold"), verdict_text(result.passed))
    if not result.versions_match:
        verdict.append("  (versions differ from the manifest: verdicts compared instead of bytes)")
    return Group(table, verdict)


#: Size of the terminal plot of the sweep, in character cells.
SWEEP_PLOT_SIZE = (100, 20)


def _pm(value: float, se: float) -> str:
    """``value±se`` compactly: three significant digits, the standard error to one."""
    if not (math.isfinite(value) and math.isfinite(se)):
        return fmt_float(value)
    mantissa, exponent = f"{se:.0e}".split("e")
    return f"{value:.3g}±{mantissa}e{int(exponent)}"


def sweep(result: SweepResult) -> RenderableType:
    """Per-tau table, terminal plot of both gaps, tests and verdict of a temperature sweep."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    columns = ["tau", "one_hot_gap", "uniform_gap", "entropy", "mean_bias", "1-hot"]
    if result.float32:
        columns.append("1-hot32")
    columns += ["argmax p", "KS p", "law err"]
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    for p in result.points:
        cells = [
            f"{p.tau:.3g}",
            _pm(p.one_hot_gap, p.one_hot_gap_se),
            _pm(p.uniform_gap, p.uniform_gap_se),
            fmt_float(p.entropy, 5),
            _pm(p.mean_bias, p.mean_bias_se),
            f"{p.one_hot_fraction:.4g}",
        ]
        if result.float32:
            cells.append(f"{p.one_hot_fraction_f32:.4g}")
        cells += [
            Text(fmt_p(p.argmax.pvalue, p.argmax.log10_pvalue), "red" if p.argmax_rejected else ""),
            Text(
                fmt_p(p.logistic_ks_pvalue, p.logistic_ks_log10_pvalue),
                "red" if p.logistic_rejected else "",
            ),
            Text(fmt_float(p.logistic_max_error, 2), "red" if p.logistic_rejected else ""),
        ]
        table.add_row(*cells)
    i, j = result.pair
    summary = result.summary().flat()
    head = Text.assemble(
        ("gumbelcheck sweep", "bold"),
        f"  N = {result.samples:,} per tau  k = {len(result.pi)}  tau values = "
        f"{len(result.points)}  relaxation = {result.relaxation}  seed = "
        f"{result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
        f" (i, j = {i}, {j}: the two most probable categories)",
    )
    tests = Text.assemble(
        ("tests: ", "bold"),
        "at each tau, argmax(y) against Categorical(pi) (maxtrick rule) and a KS test of the "
        f"logistic law; {summary['rule']} at family-wise alpha = {result.alpha:g}; smallest "
        f"adjusted p = {fmt_p(summary['pvalue'], summary['log10_pvalue'])} ({summary['test']}); "
        f"largest relative error of the law = {fmt_float(summary['max_logistic_rel_error'], 2)}",
    )
    ends = Text.assemble(
        ("ends (reported, not judged): ", "bold"),
        f"one_hot_gap = {fmt_float(summary['one_hot_gap_at_tau_min'], 3)} at tau = "
        f"{summary['tau_min']:.3g}; uniform_gap = "
        f"{fmt_float(summary['uniform_gap_at_tau_max'], 3)} at tau = {summary['tau_max']:.3g}",
    )
    verdict = verdict_line(result.passed, "; ".join(result.failures))
    fitted = Fitted(table, ("entropy", "mean_bias", "1-hot32", "1-hot", "law err"))
    if len(result.points) < 2:  # one temperature: nothing to draw
        return Group(head, fitted, tests, ends, verdict)
    plot = AtWidth(lambda width: sweep_plot(result, min(width, SWEEP_PLOT_SIZE[0])))
    return Group(head, fitted, plot, tests, ends, verdict)


def sweep_plot(result: SweepResult, width: int = SWEEP_PLOT_SIZE[0]) -> RenderableType:
    """one_hot_gap and uniform_gap against tau (log axis), drawn in text with plotext,
    ``width`` characters wide."""
    import plotext

    taus = list(result.tau)
    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, SWEEP_PLOT_SIZE[1])
    figure.theme("simple")  # no background colours; plain glyphs where colour is off
    for name, marker in (("one_hot_gap", "o"), ("uniform_gap", "x")):
        values = [getattr(p, name) for p in result.points]
        finite = [(t, v) for t, v in zip(taus, values, strict=True) if math.isfinite(v)]
        if finite:
            x, y = (list(column) for column in zip(*finite, strict=True))
            signal = figure.signal(x, y, marker=marker).label(name).lines()
            figure.draw(signal)
    if len(taus) > 1:
        figure.ruler("x").scale("log")
    figure.title("one_hot_gap and uniform_gap against tau (log axis)")
    return Text.from_ansi(str(figure.build()))


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
    verdict = verdict_line(result.passed, result.reason)
    fitted = Fitted(table, ("SciPy ULP", "range", "max rel", "n", "tol ULP", "max ULP", "SciPy"))
    return Group(head, fitted, note, deviations, moments, tests, test_line, effect, verdict)


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
    s = result.summary().flat()
    head = Text.assemble(
        ("gumbelcheck controls", "bold"),
        f"  alpha = {result.alpha:g}  seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    verdict = verdict_line(result.passed)
    verdict.append(
        f"  {s['matched']}/{s['controls']} controls as expected; {s['wrong_rejected']}/"
        f"{s['wrong']} wrong samplers rejected (lowest predicted power "
        f"{s['min_predicted_power_wrong']:.4f})"
    )
    if s["reason"]:
        verdict.append(f"; {s['reason']}")
    fitted = Fitted(table, ("true probabilities", "pi", "cons. p", "w", "power"))
    return Group(head, fitted, verdict)


def calibration(result: CalibrationResult) -> RenderableType:
    """The replicates' p-value deciles, rejection rate and the second-level tests."""
    s = result.summary().flat()
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
    deciles.add_row(Text(result.noise), *(f"{x:.3g}" for x in result.deciles))
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
    verdict = verdict_line(result.passed, s["reason"])
    fitted = Fitted(deciles, ("0.2", "0.8", "0.4", "0.6", "0.3", "0.7"))
    return Group(head, fitted, rate, tests, verdict)


def frameworks(result: FrameworksResult) -> RenderableType:
    """One line per sampler and probe, then the failures with their reasons and causes."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name in ("sampler", "version", "probe", "N", "p", "verdict", "cause"):
        justify = "right" if name in ("N", "p") else "left"
        if name == "sampler":  # a long name folds rather than squeezing a verdict or a p
            table.add_column(name, max_width=NAME_WIDTH, overflow="fold")
        else:
            table.add_column(name, justify=justify, no_wrap=True)
    for p in result.probes:
        # A name too long for its column folds before its options, not in a word.
        name = p.sampler if len(p.sampler) <= NAME_WIDTH else p.sampler.replace("[", "\n[", 1)
        table.add_row(
            Text(name),
            p.version,
            p.probe,
            f"{p.samples:,}" if p.samples else "-",
            fmt_p(p.pvalue, p.log10_pvalue),
            verdict_text(p.passed),
            p.cause or "",
        )
    head = Text.assemble(
        ("gumbelcheck frameworks", "bold"),
        f"  alpha = {result.alpha:g} (each probe at {result.probes[0].alpha:.3g}: Bonferroni "
        f"over the whole battery)  seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    notes = Text()
    for p in result.probes:
        if not p.passed:
            notes.append(f"{p.sampler} {p.probe}: ", style="bold")
            notes.append(f"{p.reason}")
            if p.cause == "rounded logits":
                notes.append("; the counts fit the law of the logits rounded to " + p.dtype)
            elif p.cause == "sampler" and not math.isnan(p.rounded_log10_pvalue):
                notes.append(f"; not the rounded logits' law either (log10 p = "
                             f"{p.rounded_log10_pvalue:.3g})")  # fmt: skip
            notes.append("\n")
    if result.missing:
        notes.append(
            "not installed: " + ", ".join(result.missing) + " (pip install "
            + " ".join(f"'gumbelcheck[{m}]'" for m in result.missing if m != "numpy") + ")\n"
        )
    s = result.summary()
    verdict = verdict_line(result.passed)
    verdict.append(f"  {s.effect}")
    return Group(head, Fitted(table, ("version", "cause", "N")), notes, verdict)


def maxlaw(result: MaxLawResult) -> RenderableType:
    """The max's law tests, the independence table's test, and the verdict."""
    tests = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("experiment", "test", "statistic", "df", "p"):
        justify = "left" if name in ("experiment", "test") else "right"
        tests.add_column(name, justify=justify, no_wrap=True)
    for t in result.law.tests:
        tests.add_row("max ~ Gumbel(ln sum w, 1)", t.name, fmt_float(t.statistic, 5), "-",
                      fmt_p(t.pvalue, t.log10_pvalue))  # fmt: skip
    g = result.joint
    tests.add_row("argmax x bin of max", g.test, fmt_float(g.statistic, 5),
                  "-" if g.df is None else str(g.df), fmt_p(g.pvalue, g.log10_pvalue))  # fmt: skip
    s = result.summary()
    head = Text.assemble(
        ("gumbelcheck maxlaw", "bold"),
        f"  N = {result.samples:,} per experiment  noise = {result.noise}  "
        f"location ln sum w = {result.location:.6g}  seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
    )
    effect = Text.assemble(("effect size: ", "bold"), s.effect)
    if s.mde:
        effect.append(f"  (this N catches {s.mde})")
    fitted = Fitted(tests, ("statistic", "df"))
    return Group(head, fitted, effect, verdict_line(result.passed, s.reason))


def topk(result: TopKResult) -> RenderableType:
    """The law's test(s), the inclusion probabilities against the weights, the verdict."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("cat", "pi", "m pi", "P(included)", "observed"):
        table.add_column(name, justify="right", no_wrap=True)
    k = len(result.pi)
    shown = range(k)
    laws = result.marginals
    if laws is not None and k > MAX_ROWS:  # the worst-fitting inclusions first
        worst = np.nan_to_num(np.asarray(laws.inclusion_log10_pvalue), nan=1.0)
        shown = sorted(int(i) for i in np.argsort(worst, kind="stable")[:MAX_ROWS])
    for i in shown:
        p, inc, obs = result.pi[i], result.inclusion[i], result.observed_inclusion[i]
        table.add_row(str(i), f"{p:.4g}", f"{result.m * p:.4g}", f"{inc:.6g}", f"{obs:.6g}")
    if len(shown) < k:
        table.caption = f"{len(shown)} of {k} categories: the worst-fitting inclusions"
    head = Text.assemble(
        ("gumbelcheck topk", "bold"),
        f"  N = {result.samples:,}  m = {result.m}  sampler = {result.noise}  "
        f"seed = {result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
        "\nthe law tested is Plackett-Luce's: inclusion probabilities are not m pi (columns)",
    )
    g = result.gof
    if g is not None:
        df = "-" if g.df is None else str(g.df)
        test = Text.assemble(
            ("test: ", "bold"),
            f"{g.test} over all {len(result.tuples):,} ordered tuples (rule: {g.rule})  "
            f"statistic = {fmt_float(g.statistic, 6)}  df = {df}  "
            f"p = {fmt_p(g.pvalue, g.log10_pvalue)}  alpha = {g.alpha:g}",
        )
    else:
        assert laws is not None
        laws_table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("law", "test", "statistic", "df", "p", "Holm p"):
            justify = "left" if name in ("law", "test") else "right"
            laws_table.add_column(name, justify=justify, no_wrap=True)
        for t, adjusted in zip(laws.tests, laws.holm_log10_pvalue, strict=True):
            law, _, name = t.name.partition(": ")
            laws_table.add_row(
                law,
                name,
                fmt_float(t.statistic, 6),
                "-" if t.df is None else str(t.df),
                fmt_p(t.pvalue, t.log10_pvalue),
                fmt_p(10.0**adjusted, adjusted),
            )
        pairs = ", ".join(f"{i}>{j}" for i, j in laws.pairs)
        test = Group(
            Text.assemble(
                ("tests: ", "bold"),
                "three exact marginal laws, each p Holm-adjusted within its law, then Holm "
                f"across the three at alpha = {result.alpha:g}; pairs i>j: {pairs}",
            ),
            Fitted(laws_table, ("statistic", "df", "test")),
        )
    fitted = Fitted(table, ("m pi",))
    return Group(head, fitted, test, verdict_line(result.passed, result.summary().reason))


def gradients(result: GradientsResult) -> RenderableType:
    """Per-estimator table, the annealing view, a terminal plot, the tests and the verdict."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    columns = ["estimator", "tau", "|bias|", "rel. bias", "cosine", "tr var", "MSE",
               "exact |bias|"]  # fmt: skip
    for name in columns:
        table.add_column(name, justify="left" if name == "estimator" else "right", no_wrap=True)
    for r in result.rows:
        table.add_row(
            r.estimator,
            "-" if math.isnan(r.tau) else f"{r.tau:.3g}",
            _pm(r.bias_norm, r.bias_norm_se),
            _pm(r.relative_bias, r.relative_bias_se),
            fmt_float(r.cosine, 4),
            _pm(r.trace_variance, r.trace_variance_se),
            _pm(r.mse, r.mse_se),
            fmt_float(r.exact_bias_norm, 4),
        )
    tests = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    for name in ("test", "statistic", "p", "Holm p", "MDE (power 0.9)"):
        tests.add_column(name, justify="left" if name == "test" else "right", no_wrap=True)
    for t in result.tests:
        style = "red" if t.rejected else ""
        tests.add_row(
            t.name,
            fmt_float(t.statistic, 4),
            fmt_p(10.0**t.log10_pvalue, t.log10_pvalue),
            Text(fmt_p(10.0**t.holm_log10_pvalue, t.holm_log10_pvalue), style)
            if t.applicable
            else Text("n/a", "dim"),
            f"{t.mde:.2g}" if t.applicable else "-",
        )
    skipped = [t for t in result.tests if not t.applicable]
    target = ""
    if result.target is not None:
        target = " (" + ", ".join(f"{v:.3g}" for v in result.target) + ")"
    head = Text.assemble(
        ("gumbelcheck gradients", "bold"),
        f"  N = {result.samples:,}  k = {len(result.pi)}  objective = {result.objective}{target}"
        f"  Gumbel-Rao draws = {result.draws}  control = {result.control}  seed = "
        f"{result.provenance.seed}\n",
        ("H0: ", "bold"),
        result.null_hypothesis,
        "\n",
        ("exact: ", "bold"),
        f"E f(z) = {result.discrete_value:.6g}, its gradient in the logits = ("
        + ", ".join(f"{v:.5g}" for v in result.discrete_gradient)
        + "); |bias|, MSE and cosine are against it (± one standard error); exact |bias| is "
        "Gumbel-Softmax's, from the exact gradient of the relaxed objective",
    )
    parts: list[RenderableType] = [
        head,
        Fitted(table, ("exact |bias|", "rel. bias", "MSE", "cosine")),
    ]
    if result.schedule:
        parts.append(_anneal_table(result))
    if len(result.taus) > 1:
        width = SWEEP_PLOT_SIZE[0]
        parts.append(AtWidth(lambda w: gradients_plot(result, min(w, width))))
    s = result.summary()
    rule = Text.assemble(
        ("tests: ", "bold"),
        f"{s.rule} at family-wise alpha = {result.alpha:g}; z tests per coordinate (statistic: "
        "the largest |z|) of the means, the variance test one-sided (statistic: z; MDE: a "
        "total-variance excess); the smallest p of each test, then Holm-adjusted",
    )
    fitted = Fitted(tests, ("MDE (power 0.9)", "statistic"))
    parts += [rule, fitted]
    if skipped:
        parts.append(
            Text.assemble(
                ("not applicable (n/a, not in the Holm family): ", "bold"),
                "; ".join(f"tau={t.tau:.3g}: {t.note}" for t in skipped),
            )
        )
    parts.append(verdict_line(result.passed, s.reason))
    return Group(*parts)


def _anneal_table(result: GradientsResult) -> RenderableType:
    """The estimators' bias and variance along the annealing schedule's checkpoints."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1),
                  title="annealing: tau_t = max(tau_min, tau_0 exp(-r t))")  # fmt: skip
    for name in ("step t", "tau_t", "GS |bias|", "GS tr var", "ST |bias|", "ST tr var",
                 "GR tr var"):  # fmt: skip
        table.add_column(name, justify="right", no_wrap=True)
    for step, tau in result.schedule:
        gs, st, gr = (result.row(e, tau) for e in ("gumbel-softmax", "straight-through",
                                                   "gumbel-rao"))  # fmt: skip
        table.add_row(
            f"{step:,}",
            f"{tau:.4g}",
            _pm(gs.bias_norm, gs.bias_norm_se),
            _pm(gs.trace_variance, gs.trace_variance_se),
            _pm(st.bias_norm, st.bias_norm_se),
            _pm(st.trace_variance, st.trace_variance_se),
            _pm(gr.trace_variance, gr.trace_variance_se),
        )
    share = Text(f"share of the steps spent at tau_min: {result.schedule_share_at_min:.3g}")
    return Group(Fitted(table, ("GR tr var", "ST tr var", "ST |bias|")), share)


def gradients_plot(result: GradientsResult, width: int = SWEEP_PLOT_SIZE[0]) -> RenderableType:
    """Gumbel-Softmax's bias and total variance against tau (log axes), drawn with plotext,
    ``width`` characters wide."""
    import plotext

    rows = [r for r in result.rows if r.estimator == "gumbel-softmax"]
    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, SWEEP_PLOT_SIZE[1])
    figure.theme("simple")
    for name, marker, label in (("bias_norm", "o", "|bias|"), ("trace_variance", "x", "tr var")):
        points = [(r.tau, getattr(r, name)) for r in rows if getattr(r, name) > 0]
        if points:
            x, y = (list(column) for column in zip(*points, strict=True))
            figure.draw(figure.signal(x, y, marker=marker).label(f"Gumbel-Softmax {label}").lines())
    figure.ruler("x").scale("log")
    figure.ruler("y").scale("log")
    figure.title("Gumbel-Softmax |bias| and total variance against tau (log axes)")
    return Text.from_ansi(str(figure.build()))
