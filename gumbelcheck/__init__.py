"""gumbelcheck: verify the Gumbel tricks with seeded Monte Carlo experiments.

The public API is imported lazily so that ``gumbelcheck --help`` starts fast.
"""

from typing import TYPE_CHECKING, Any

from gumbelcheck._version import __version__

if TYPE_CHECKING:
    from gumbelcheck.checks.counts import CountsResult, check_counts
    from gumbelcheck.checks.gradients import GradientsResult, gradients
    from gumbelcheck.checks.maxlaw import MaxLawResult, maxlaw
    from gumbelcheck.checks.maxtrick import MaxTrickResult, maxtrick
    from gumbelcheck.checks.sweep import SweepResult, sweep
    from gumbelcheck.checks.topk import TopKResult, topk
    from gumbelcheck.samplers.user import SamplerError, returns_counts

__all__ = [
    "CountsResult",
    "GradientsResult",
    "MaxLawResult",
    "MaxTrickResult",
    "SamplerError",
    "SweepResult",
    "TopKResult",
    "__version__",
    "check_counts",
    "gradients",
    "maxlaw",
    "maxtrick",
    "returns_counts",
    "sweep",
    "topk",
]

_LAZY = {
    "maxtrick": "gumbelcheck.checks.maxtrick",
    "MaxTrickResult": "gumbelcheck.checks.maxtrick",
    "sweep": "gumbelcheck.checks.sweep",
    "SweepResult": "gumbelcheck.checks.sweep",
    "check_counts": "gumbelcheck.checks.counts",
    "gradients": "gumbelcheck.checks.gradients",
    "GradientsResult": "gumbelcheck.checks.gradients",
    "CountsResult": "gumbelcheck.checks.counts",
    "maxlaw": "gumbelcheck.checks.maxlaw",
    "MaxLawResult": "gumbelcheck.checks.maxlaw",
    "topk": "gumbelcheck.checks.topk",
    "TopKResult": "gumbelcheck.checks.topk",
    "returns_counts": "gumbelcheck.samplers.user",
    "SamplerError": "gumbelcheck.samplers.user",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gumbelcheck' has no attribute {name!r}")
