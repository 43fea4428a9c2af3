"""JAX's categorical and choice samplers behind the sampler protocol (imported only when used)."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray


def _key(seed: int) -> Any:
    """A key from all 63 bits of the block's seed (jax.random.key takes 32 without x64)."""
    return jax.random.fold_in(jax.random.key(seed & 0xFFFFFFFF), (seed >> 32) & 0xFFFFFFFF)


def categorical(
    logits: NDArray[np.float64], n: int, seed: int, *, dtype: str, mode: str, device: str,
    counts: bool = False,
) -> Any:  # fmt: skip
    """``jax.random.categorical(key, logits, shape=(n,), mode=mode)`` in ``dtype``."""
    with jax.enable_x64(dtype == "float64"):
        values = jnp.asarray(logits, dtype=getattr(jnp, dtype))
        draws = jax.random.categorical(_key(seed), values, shape=(n,), mode=mode)
        if counts:
            inside = (draws >= 0) & (draws < logits.size)
            tally = jnp.bincount(jnp.where(inside, draws, 0), weights=inside, length=logits.size)
            return np.append(np.asarray(tally).astype(np.int64), int((~inside).sum()))
        return np.asarray(draws)


@functools.lru_cache(maxsize=64)
def _choice(k: int, m: int, dtype: str) -> Any:
    """The compiled ``jax.random.choice(key, k, (m,), replace=False, p=p)``, vmapped over
    keys (compiled once per k, m and dtype, not once per block)."""
    del dtype  # part of the cache key: the function is traced in that dtype's x64 mode
    draw = jax.vmap(lambda key, p: jax.random.choice(key, k, (m,), False, p), in_axes=(0, None))
    return jax.jit(draw)


def choice_without_replacement(
    logits: NDArray[np.float64], n: int, seed: int, m: int, *, dtype: str, mode: str,
    device: str, counts: bool = False,
) -> Any:  # fmt: skip
    """``jax.random.choice(key_i, k, (m,), replace=False, p=exp(logits))`` for n keys split
    from the block's (vmapped): n ordered samples of size m, p in ``dtype``."""
    with jax.enable_x64(dtype == "float64"):
        p = jnp.exp(jnp.asarray(logits, dtype=getattr(jnp, dtype)))
        keys = jax.random.split(_key(seed), n)
        return np.asarray(_choice(logits.size, m, dtype)(keys, p))
