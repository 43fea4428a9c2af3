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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical
from gumbelcheck.samplers.user import UserSampler, is_user_spec, load_user_sampler, user_sampler

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

    def block_size(self, k: int) -> int:
        """Default samples per block for ``k`` categories: about 2**19 numbers per block."""
        from gumbelcheck.engine import default_block_size

        return default_block_size(k)

    def bytes_per_sample(self, k: int) -> int:
        """Memory a block holds per sample: k uniforms and a work array of float64."""
        return 16 * k

    @property
    def origin(self) -> str:
        """What identifies the code (for provenance): always ``built-in``."""
        return "built-in"

    def counts(self, rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.int64]:
        """Draws per category of ``n`` samples (``count`` when there is one)."""
        if self.count is not None:
            return self.count(rng, dist, n)
        return np.bincount(self.draw(rng, dist, n), minlength=dist.k).astype(np.int64)

    def tally(
        self, rng: np.random.Generator, dist: Categorical, n: int, block: int
    ) -> NDArray[np.int64]:
        """Draws per category, then the draws outside 0..k-1 (length k + 1; always 0 here:
        the built-in samplers draw indices of the distribution)."""
        return np.append(self.counts(rng, dist, n), 0)


#: What a check draws with: a built-in sampler or a user's (both have ``name``, ``exact`` and
#: ``tally(rng, dist, n, block)``).
AnySampler = Sampler | UserSampler

#: The named samplers, in the order help texts list them (filled by the exact and wrong
#: sampler modules).
SAMPLERS: dict[str, Sampler] = {}

#: The sampler used when none is named.
DEFAULT_SAMPLER = "race"


def register(*samplers: Sampler) -> None:
    """Add named samplers to :data:`SAMPLERS`."""
    for sampler in samplers:
        SAMPLERS[sampler.name] = sampler


def resolve(
    spec: str | Sampler | UserSampler | Callable[..., Any], name: str = "noise"
) -> AnySampler:
    """The sampler ``spec`` names, or ``spec`` itself when it is a sampler.

    ``spec`` is a built-in name (``race``, ``gaussian``, ...), a user SPEC with a colon
    (``package.module:function`` or ``path/to/file.py:function``, see
    :mod:`~gumbelcheck.samplers.user`), a Python callable ``function(logits, n, seed)``, or a
    :class:`Sampler` / :class:`~gumbelcheck.samplers.user.UserSampler`.

    Raises InputError naming the parameter ``name`` and the choices.
    """
    if isinstance(spec, Sampler | UserSampler):
        return spec
    if is_user_spec(spec):
        return load_user_sampler(spec)  # type: ignore[arg-type]
    from gumbelcheck.samplers.adapters import adapter, is_adapter_name

    if is_adapter_name(spec):
        return adapter(spec, form="indices")  # type: ignore[arg-type]
    if callable(spec):
        return user_sampler(spec)
    try:
        return SAMPLERS[spec]
    except (KeyError, TypeError):
        raise InputError(
            f"`{name}` {spec!r} is not known; choose one of {', '.join(SAMPLERS)}, or name "
            "your own as package.module:function or path/to/file.py:function"
        ) from None
