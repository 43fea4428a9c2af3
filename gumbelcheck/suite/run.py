"""Run a suite: validate every check, run them in order, correct across them with Holm."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from gumbelcheck.checks import registry
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.result import CheckResult, Summary
from gumbelcheck.core.run import Prepared
from gumbelcheck.output.csv import csv_text
from gumbelcheck.output.json import jsonable
from gumbelcheck.stats import holm
from gumbelcheck.suite.spec import CheckSpec, SuiteSpec

#: Provenance that changes from run to run, or from machine to machine without changing a
#: result (the kernel's version string, where the blocks ran); kept in the manifest, not in
#: the check's CSV, so that a replay can reproduce every CSV byte for byte.
VOLATILE = ("command", "created_utc", "platform", "backend", "scheduler", "workers")

#: ``progress(check_name, total_samples, samples_done)`` after each block of a check.
SuiteProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteEntry:
    """A check of a suite with its result, its Holm-adjusted p-value and its suite verdict."""

    name: str
    spec: CheckSpec
    result: CheckResult
    seconds: float
    holm_log10_pvalue: float
    passed: bool

    def row(self) -> dict[str, Any]:
        """The check's summary figures, with its name first and the Holm-adjusted p."""
        return {
            "name": self.name,
            **self.result.summary().flat(),
            "verdict": "PASS" if self.passed else "FAIL",
            "holm_pvalue": 10.0**self.holm_log10_pvalue,
            "holm_log10_pvalue": self.holm_log10_pvalue,
        }

    @property
    def failure(self) -> str:
        """Why the check failed the suite (its own reason, else Holm's); empty when it passed."""
        if self.passed:
            return ""
        return self.result.summary().reason or "Holm-adjusted p below alpha"

    def csv_text(self) -> str:
        """The check's CSV report, without the volatile provenance lines."""
        header = {k: v for k, v in self.result.csv_header().items() if k not in VOLATILE}
        return csv_text(self.result.to_frame(), header)


@dataclass(frozen=True, kw_only=True, eq=False)
class SuiteResult:
    """The results of every check in a suite."""

    check: ClassVar[str] = "suite"
    spec: SuiteSpec
    entries: tuple[SuiteEntry, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed (after Holm's correction)."""
        return all(entry.passed for entry in self.entries)

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    def summary(self) -> Summary:
        """The suite as one check: its smallest Holm-adjusted p-value decides."""
        summaries = [e.result.summary() for e in self.entries]
        hard = [e.name for e, s in zip(self.entries, summaries, strict=True) if s.hard_failure]
        decisive = min(
            self.entries,
            key=lambda e: math.inf if math.isnan(e.holm_log10_pvalue) else e.holm_log10_pvalue,
        )
        failed = [e.name for e in self.entries if not e.passed]
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=bool(hard),
            null_hypothesis="every check's null hypothesis holds",
            rule=f"holm({len(self.entries)} checks)",
            test=decisive.name,
            statistic=None,
            df=None,
            pvalue=10.0**decisive.holm_log10_pvalue,
            log10_pvalue=decisive.holm_log10_pvalue,
            alpha=self.spec.alpha,
            effect=f"{len(self.entries) - len(failed)}/{len(self.entries)} checks passed",
            mde="",
            samples=sum(s.samples or 0 for s in summaries),
            reason=("failed: " + ", ".join(failed)) if failed else "",
            figures={"hard_failures": ", ".join(hard), "correction": "holm"},
        )

    def _repr_html_(self) -> str:
        """The suite's HTML report, for notebooks (see :mod:`gumbelcheck.output.html`)."""
        from gumbelcheck.output.html import fragment

        return fragment(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible types."""
        return jsonable(
            {
                **self.summary().flat(),
                "checks": [
                    {**e.result.to_dict(), **e.row(), "seconds": e.seconds} for e in self.entries
                ],
            }
        )


def prepare_suite(
    spec: SuiteSpec, *, workers: int | str | None = None, scheduler: str | None = None
) -> tuple[Prepared[CheckResult], ...]:
    """Validate every check of a suite before any runs; InputError names the check.

    The checks run on ``scheduler``, else the ``GUMBELCHECK_SCHEDULER`` environment variable,
    else the suite's own ``scheduler`` (see :func:`gumbelcheck.engine.dask.chosen_scheduler`).
    """
    from gumbelcheck.engine.dask import chosen_scheduler

    scheduler = chosen_scheduler(scheduler, spec.scheduler)
    prepared = []
    for check in spec.checks:
        info = registry.get(check.check)
        params = dict(check.params)
        if workers is not None and "workers" in info.parameters():
            params["workers"] = workers
        if scheduler is not None and "scheduler" in info.parameters():
            params["scheduler"] = scheduler
        if "alpha" in info.parameters():
            # Every check's own verdict (its CSV) at the suite's level; a check may not set
            # its own (see parse_suite): the report and the suite must not disagree on it.
            params["alpha"] = spec.alpha
        try:
            info.check_parameters(params)
            prepared.append(info.prepare_function()(**params))
        except InputError as error:
            raise InputError(f"check {check.name!r}: {error}", in_file=True) from None
    return tuple(prepared)


def run_suite(
    spec: SuiteSpec,
    *,
    workers: int | str | None = None,
    scheduler: str | None = None,
    progress: SuiteProgress | None = None,
) -> SuiteResult:
    """Validate every check of a suite, run them in order, then apply Holm's correction.

    Parameters
    ----------
    spec : SuiteSpec
        The suite (see :func:`gumbelcheck.suite.spec.parse_suite`).
    workers : int, optional
        Workers for each check; results do not depend on it.
    scheduler : str, optional
        A Dask scheduler (``tcp://host:8786`` or ``local:N``) for every check, overriding the
        environment's and the suite's; results do not depend on it.
    progress : callable, optional
        ``progress(check_name, total_samples, samples_done)`` after each block.

    Returns
    -------
    SuiteResult
        A check passes the suite when it has no hard failure and its Holm-adjusted p-value
        is at least the suite's alpha.
    """
    prepared = prepare_suite(spec, workers=workers, scheduler=scheduler)
    done = []
    for check, ready in zip(spec.checks, prepared, strict=True):
        started = time.perf_counter()
        on_block = None if progress is None else _bind(progress, check.name, ready.samples)
        done.append((check, ready.run(on_block), time.perf_counter() - started))
    summaries = [result.summary() for _, result, _ in done]
    # Checks decided without a p-value (NaN: the controls) leave the Holm family; their own
    # verdict stands.
    tested = [i for i, s in enumerate(summaries) if not math.isnan(s.log10_pvalue)]
    adjusted = [math.nan] * len(done)
    for i, value in zip(tested, holm([summaries[i].log10_pvalue for i in tested]), strict=True):
        adjusted[i] = float(value)
    entries = []
    for (check, result, seconds), summary, log10_adjusted in zip(
        done, summaries, adjusted, strict=True
    ):
        if math.isnan(log10_adjusted):
            passed = result.passed
        else:
            passed = not summary.hard_failure and log10_adjusted >= math.log10(spec.alpha)
        entries.append(
            SuiteEntry(
                name=check.name,
                spec=check,
                result=result,
                seconds=seconds,
                holm_log10_pvalue=log10_adjusted,
                passed=passed,
            )
        )
    return SuiteResult(spec=spec, entries=tuple(entries))


def _bind(progress: SuiteProgress, name: str, total: int) -> Callable[[int], None]:
    return lambda done: progress(name, total, done)
