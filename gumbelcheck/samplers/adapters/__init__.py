"""Adapters: the samplers of PyTorch, JAX and NumPy behind gumbelcheck's sampler protocol.

Each adapter is named like a built-in sampler (no colon): ``FRAMEWORK.SAMPLER[OPTIONS]``, the
options being a dtype, a mode and a device, e.g. ``torch.multinomial[float32]``,
``jax.categorical[float32,low]``, ``torch.gumbel_softmax[float16]``, ``numpy.choice``. Their
framework is imported only when one is used; the optional extras ``gumbelcheck[torch]`` and
``gumbelcheck[jax]`` install them. Every adapter is a
:class:`~gumbelcheck.samplers.user.UserSampler`: the engine calls it per block with the block's
seed, so a run is reproducible, and it returns category indices, with -1 for a draw that is not
one category (a NaN row, a hard sample that is not exactly one-hot), which the check counts as a
hard failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from importlib import import_module, metadata

from gumbelcheck.core.errors import InputError
from gumbelcheck.samplers.user import RETURNS_ATTRIBUTE, UserSampler, user_sampler


@dataclass(frozen=True)
class AdapterInfo:
    """One framework sampler: where its function lives and the options it takes."""

    framework: str  # the distribution to import (torch, jax, numpy)
    module: str  # gumbelcheck's adapter module
    function: str  # the adapter function in it
    dtypes: tuple[str, ...]
    modes: tuple[str, ...] = ("",)
    devices: tuple[str, ...] = ("cpu",)
    description: str = ""
    #: ``indices`` (``function(logits, n, seed)``: n draws) or ``top`` (``function(logits, n,
    #: seed, m)``: n ordered samples of size m without replacement, for ``topk``).
    form: str = "indices"


_TORCH = "gumbelcheck.samplers.adapters.torch_samplers"
_JAX = "gumbelcheck.samplers.adapters.jax_samplers"
_NUMPY = "gumbelcheck.samplers.adapters.numpy_samplers"

#: Every adapter, by name.
ADAPTERS: dict[str, AdapterInfo] = {
    "torch.multinomial": AdapterInfo(
        "torch", _TORCH, "multinomial", ("float64", "float32", "float16", "bfloat16"),
        devices=("cpu", "cuda"),
        description="torch.multinomial(exp(logits), n, replacement=True)",
    ),
    "torch.categorical": AdapterInfo(
        "torch", _TORCH, "categorical", ("float64", "float32", "float16", "bfloat16"),
        devices=("cpu", "cuda"),
        description="torch.distributions.Categorical(logits=logits).sample((n,))",
    ),
    "torch.gumbel_softmax": AdapterInfo(
        "torch", _TORCH, "gumbel_softmax", ("float64", "float32", "float16", "bfloat16"),
        devices=("cpu", "cuda"),
        description="argmax of torch.nn.functional.gumbel_softmax(logits, hard=True)",
    ),
    "jax.categorical": AdapterInfo(
        "jax", _JAX, "categorical", ("float64", "float32", "float16", "bfloat16"),
        modes=("low", "high"),
        description="jax.random.categorical(key, logits, shape=(n,), mode=mode)",
    ),
    "numpy.choice": AdapterInfo(
        "numpy", _NUMPY, "choice", ("float64", "float32"),
        description="numpy.random.Generator.choice(k, n, p=exp(logits))",
    ),
    "torch.multinomial_without_replacement": AdapterInfo(
        "torch", _TORCH, "multinomial_without_replacement",
        ("float64", "float32", "float16", "bfloat16"), devices=("cpu", "cuda"),
        description="torch.multinomial(exp(logits), m, replacement=False), n rows",
        form="top",
    ),
    "jax.choice_without_replacement": AdapterInfo(
        "jax", _JAX, "choice_without_replacement", ("float64", "float32", "float16", "bfloat16"),
        description="jax.random.choice(key, k, (m,), replace=False, p=exp(logits)), n keys",
        form="top",
    ),
    "numpy.choice_without_replacement": AdapterInfo(
        "numpy", _NUMPY, "choice_without_replacement", ("float64", "float32"),
        description="numpy.random.Generator.choice(k, m, replace=False, p=exp(logits)), n calls",
        form="top",
    ),
}  # fmt: skip

_NAME = re.compile(r"^([a-z]+\.[a-z_]+)(?:\[([^\]]*)\])?$")


def is_adapter_name(name: object) -> bool:
    """True when ``name`` is an adapter (``torch.multinomial``, ``numpy.choice[float32]``)."""
    match = _NAME.match(name) if isinstance(name, str) else None
    return bool(match and match.group(1) in ADAPTERS)


def installed(framework: str) -> str | None:
    """The installed version of a framework, or None."""
    try:
        return metadata.version(framework)
    except metadata.PackageNotFoundError:
        return None


def adapter(name: str, form: str | None = None) -> UserSampler:
    """The adapter ``NAME[dtype,mode,device]`` names (defaults: float64, the first mode, cpu).

    ``form``, when given, is the form the caller calls it in (``indices`` or ``top``); an
    adapter of the other form is refused, naming the check that takes it.

    Raises
    ------
    InputError
        For an unknown adapter or option, an adapter of the wrong form, or a framework that
        is not installed (naming the extra that installs it).
    """
    match = _NAME.match(name)
    if match is None or match.group(1) not in ADAPTERS:
        raise InputError(
            f"`sampler` {name!r} is not an adapter; choose one of {', '.join(ADAPTERS)}, "
            "with options in brackets like torch.multinomial[float32]"
        )
    base, options = match.group(1), [o.strip() for o in (match.group(2) or "").split(",") if o]
    info = ADAPTERS[base]
    if form is not None and info.form != form:
        check = "gumbelcheck topk" if info.form == "top" else "maxtrick, counts or frameworks"
        raise InputError(
            f"`sampler` {name!r} draws "
            + ("samples without replacement" if info.form == "top" else "one index per draw")
            + f"; use it with {check}"
        )
    dtype, mode, device = info.dtypes[0], info.modes[0], info.devices[0]
    for option in options:
        if option in info.dtypes:
            dtype = option
        elif option in info.modes and option:
            mode = option
        elif option in info.devices:
            device = option
        else:
            choices = [*info.dtypes, *(m for m in info.modes if m), *info.devices]
            raise InputError(
                f"`sampler` {name!r}: {option!r} is not an option of {base}; choose from "
                f"{', '.join(choices)}"
            )
    version = installed(info.framework)
    if version is None:
        raise InputError(
            f"`sampler` {name!r} needs {info.framework}, which is not installed; run pip "
            f"install 'gumbelcheck[{info.framework}]'"
        )
    function = getattr(import_module(info.module), info.function)
    label = base + "[" + ",".join(o for o in (dtype, mode, device) if o) + "]"
    # On a GPU the adapter counts on the device and ships k + 1 numbers instead of n.
    on_device = device != "cpu" and info.form == "indices"
    bound = partial(function, dtype=dtype, mode=mode, device=device, counts=on_device)
    if on_device:
        setattr(bound, RETURNS_ATTRIBUTE, "counts")
    return user_sampler(bound, name=label, origin=f"{info.framework} {version}")
