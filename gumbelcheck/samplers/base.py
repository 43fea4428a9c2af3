"""What a sampler is, the registry of named samplers, and the resolver.

A sampler maps a block's generator, the categorical distribution and a sample count to the
sampled category indices (``draw``), and may have a faster ``count`` that returns only the
number of draws per category. :func:`resolve` turns what a user names (``race``, a negative
control such as ``gaussian``, or a :class:`Sampler` object) into a sampler; the exact
samplers live in :mod:`~gumbelcheck.samplers.exact`, the wrong ones in
:mod:`~gumbelcheck.samplers.wrong`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical

Draw = Callable[[np.random.Generator, Categorical, int], NDArray[np.intp]]
Count = Callable[[np.random.Generator, Categorical, int], NDArray[np.int64]]


@dataclass(frozen=True)
class Sampler:
    """A named way to draw Gumbel-max samples.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in reports.
    exact : bool
        True when the sampler draws from Categorical(pi) exactly (up to float64 rounding).
    description : str
        One line for help texts and reports.
    draw : callable
        ``draw(rng, dist, n)`` returns ``n`` category indices.
    count : callable, optional
        ``count(rng, dist, n)`` returns the draws per category, equal to
        ``bincount(draw(rng, dist, n))`` from the same generator, only faster.
    """

    name: str
    exact: bool
    description: str
    draw: Draw
    count: Count | None = None

    def counts(self, rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.int64]:
        """Draws per category of ``n`` samples (``count`` when there is one)."""
        if self.count is not None:
            return self.count(rng, dist, n)
        return np.bincount(self.draw(rng, dist, n), minlength=dist.k).astype(np.int64)


#: The named samplers, in the order help texts list them (filled by the exact and wrong
#: sampler modules).
SAMPLERS: dict[str, Sampler] = {}

#: The sampler used when none is named.
DEFAULT_SAMPLER = "race"


def register(*samplers: Sampler) -> None:
    """Add named samplers to :data:`SAMPLERS`."""
    for sampler in samplers:
        SAMPLERS[sampler.name] = sampler


def resolve(spec: str | Sampler, name: str = "noise") -> Sampler:
    """The sampler ``spec`` names, or ``spec`` itself when it is a :class:`Sampler`.

    Raises InputError naming the parameter ``name`` and the choices.
    """
    if isinstance(spec, Sampler):
        return spec
    try:
        return SAMPLERS[spec]
    except (KeyError, TypeError):
        raise InputError(
            f"`{name}` {spec!r} is not known; choose one of {', '.join(SAMPLERS)}"
        ) from None
