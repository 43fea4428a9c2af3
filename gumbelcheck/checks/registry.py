"""The registry of checks: one entry per check, read by the CLI, suites and every writer.

Adding a check is one module in :mod:`gumbelcheck.checks` (a ``prepare`` function that
validates every input and returns a :class:`~gumbelcheck.core.run.Prepared`, a result type
with a :class:`~gumbelcheck.core.result.Summary` and a ``to_frame`` table) plus one
:func:`register` call. Suites, JSON, CSV, JUnit and HTML then take it at once; the CLI gives
it a command (``gumbelcheck NAME --param value``) unless a hand-written one exists.

Entries name their code as ``module:attribute`` strings, imported only when the check is
used, so that ``gumbelcheck --help`` stays fast.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gumbelcheck.core.errors import InputError

if TYPE_CHECKING:
    from gumbelcheck.core.run import Prepared


def load(target: str | Callable[..., Any]) -> Any:
    """The object ``module:attribute`` names (a callable is returned as it is)."""
    if callable(target):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True, kw_only=True)
class CheckInfo:
    """One registered check.

    Attributes
    ----------
    name : str
        The check's name: its ``check = "..."`` in a suite, its CLI command.
    help : str
        One line on what it verifies.
    prepare : str or callable
        Its ``prepare(**params) -> Prepared`` (or its ``module:function``): validates every
        parameter (raising InputError) before any sampling.
    view : str or callable
        The function rendering its result for the terminal as a Rich renderable (or its
        ``module:function``).
    command : str or None
        The hand-written CLI command that runs it (``maxtrick --replicates``), or None: then
        the CLI generates ``gumbelcheck NAME`` from ``prepare``'s parameters.
    figure : str or callable or None
        The function drawing its figure for the HTML report (a matplotlib ``Figure``, or its
        ``module:function``), or None when it has none.
    """

    name: str
    help: str
    prepare: str | Callable[..., Prepared[Any]]
    view: str | Callable[[Any], Any]
    command: str | None = None
    figure: str | Callable[[Any], Any] | None = None

    def prepare_function(self) -> Callable[..., Prepared[Any]]:
        """The check's ``prepare`` function."""
        function: Callable[..., Prepared[Any]] = load(self.prepare)
        return function

    def parameters(self) -> dict[str, inspect.Parameter]:
        """The keyword parameters ``prepare`` takes (the check's suite keys)."""
        return dict(inspect.signature(self.prepare_function()).parameters)

    def check_parameters(self, params: dict[str, Any]) -> None:
        """InputError naming the first key ``prepare`` does not take."""
        known = self.parameters()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InputError(
                f"check {self.name!r} takes no parameter {unknown[0]!r}; its parameters are "
                f"{', '.join(known)}"
            )


_REGISTRY: dict[str, CheckInfo] = {}


def register(info: CheckInfo) -> CheckInfo:
    """Add a check to the registry (replacing one of the same name)."""
    _REGISTRY[info.name] = info
    return info


def unregister(name: str) -> None:
    """Remove a check from the registry."""
    _REGISTRY.pop(name, None)


def get(name: object) -> CheckInfo:
    """The check called ``name``; InputError naming the registered ones otherwise."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise InputError(f"there is no check {name!r}; use one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    """The registered checks, in registration order."""
    return tuple(_REGISTRY)


def without_command() -> tuple[str, ...]:
    """The registered checks that have no hand-written CLI command."""
    return tuple(name for name, info in _REGISTRY.items() if info.command is None)


_VIEWS = "gumbelcheck.cli.views"
_FIGURES = "gumbelcheck.output.figures"
for _info in (
    CheckInfo(
        name="maxtrick",
        help="argmax_i(ln pi_i + g_i) ~ Categorical(pi) for one distribution",
        prepare="gumbelcheck.checks.maxtrick:prepare",
        view=f"{_VIEWS}:maxtrick",
        figure=f"{_FIGURES}:residuals",
        command="maxtrick",
    ),
    CheckInfo(
        name="counts",
        help="counts (or category indices) made anywhere against Categorical(pi)",
        prepare="gumbelcheck.checks.counts:prepare",
        view=f"{_VIEWS}:maxtrick",
        figure=f"{_FIGURES}:residuals",
        command="counts",
    ),
    CheckInfo(
        name="dist",
        help="the Gumbel(mu, beta) functions against a 256-bit reference, and sampling",
        prepare="gumbelcheck.checks.dist:prepare",
        view=f"{_VIEWS}:dist",
        figure=f"{_FIGURES}:dist",
        command="dist",
    ),
    CheckInfo(
        name="sweep",
        help="Gumbel-Softmax across temperatures: gaps to one-hot and uniform, exact laws",
        prepare="gumbelcheck.checks.sweep:prepare",
        view=f"{_VIEWS}:sweep",
        figure=f"{_FIGURES}:sweep",
        command="sweep",
    ),
    CheckInfo(
        name="controls",
        help="deliberately wrong samplers must fail, exact ones pass",
        prepare="gumbelcheck.checks.controls:prepare",
        view=f"{_VIEWS}:controls",
        figure=f"{_FIGURES}:controls",
        command="controls",
    ),
    CheckInfo(
        name="maxlaw",
        help="the max of ln w + g is Gumbel(ln sum w, 1) and independent of the argmax",
        prepare="gumbelcheck.checks.maxlaw:prepare",
        view=f"{_VIEWS}:maxlaw",
        figure=f"{_FIGURES}:maxlaw",
    ),
    CheckInfo(
        name="topk",
        help="Gumbel-top-k: ordered samples without replacement with the Plackett-Luce law",
        prepare="gumbelcheck.checks.topk:prepare",
        view=f"{_VIEWS}:topk",
        figure=f"{_FIGURES}:topk",
    ),
    CheckInfo(
        name="gradients",
        help="gradient estimators (REINFORCE, Gumbel-Softmax, straight-through, Gumbel-Rao) "
        "against exact gradients, tau by tau",
        prepare="gumbelcheck.checks.gradients:prepare",
        view=f"{_VIEWS}:gradients",
        figure=f"{_FIGURES}:gradients",
        command="gradients",
    ),
    CheckInfo(
        name="frameworks",
        help="PyTorch, JAX and NumPy samplers in every dtype through one battery of probes",
        prepare="gumbelcheck.checks.frameworks:prepare",
        view=f"{_VIEWS}:frameworks",
        figure=f"{_FIGURES}:frameworks",
        command="frameworks",
    ),
    CheckInfo(
        name="calibration",
        help="the max-trick check's p-values over replicates against exact multinomial ones",
        prepare="gumbelcheck.checks.calibration:prepare",
        view=f"{_VIEWS}:calibration",
        figure=f"{_FIGURES}:calibration",
        command="maxtrick --replicates",
    ),
):
    register(_info)
