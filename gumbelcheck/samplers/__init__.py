"""Gumbel-max samplers: the exact ones the tool verifies, and deliberately wrong ones.

:mod:`~gumbelcheck.samplers.base` defines a sampler, the registry and :func:`resolve`;
:mod:`~gumbelcheck.samplers.noise` the uniforms and noise they share;
:mod:`~gumbelcheck.samplers.exact` the exact samplers (``race``, ``reference``, ``numpy``);
:mod:`~gumbelcheck.samplers.wrong` the negative controls;
:mod:`~gumbelcheck.samplers.user` the samplers users ship (``--sampler module:function``).
"""

from gumbelcheck.samplers import exact, wrong
from gumbelcheck.samplers.base import (
    DEFAULT_SAMPLER,
    SAMPLERS,
    AnySampler,
    Sampler,
    register,
    resolve,
)
from gumbelcheck.samplers.noise import (
    COLUMN_K,
    argmax,
    argmax_counts,
    gumbel_noise,
    gumbel_rows,
    minus_gumbel,
    open_uniform_rows,
    open_uniforms,
    uniforms,
)
from gumbelcheck.samplers.user import (
    SamplerError,
    UserSampler,
    load_user_sampler,
    returns_counts,
    user_sampler,
)
from gumbelcheck.samplers.wrong import CLAMP, float32_noise

__all__ = [
    "CLAMP",
    "COLUMN_K",
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "AnySampler",
    "Sampler",
    "SamplerError",
    "UserSampler",
    "argmax",
    "argmax_counts",
    "exact",
    "float32_noise",
    "gumbel_noise",
    "gumbel_rows",
    "load_user_sampler",
    "minus_gumbel",
    "open_uniform_rows",
    "open_uniforms",
    "register",
    "resolve",
    "returns_counts",
    "uniforms",
    "user_sampler",
    "wrong",
]
