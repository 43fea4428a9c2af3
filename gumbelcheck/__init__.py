"""gumbelcheck: verify the Gumbel tricks with seeded Monte Carlo experiments.

The public API is imported lazily so that ``gumbelcheck --help`` starts fast.
"""

from typing import TYPE_CHECKING, Any

from gumbelcheck._version import __version__

if TYPE_CHECKING:
    from gumbelcheck.checks.maxtrick import MaxTrickResult, maxtrick

__all__ = ["MaxTrickResult", "__version__", "maxtrick"]

_LAZY = {
    "maxtrick": "gumbelcheck.checks.maxtrick",
    "MaxTrickResult": "gumbelcheck.checks.maxtrick",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gumbelcheck' has no attribute {name!r}")
