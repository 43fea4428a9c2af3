"""NumPy's Generator.choice behind the sampler protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def choice(
    logits: NDArray[np.float64], n: int, seed: int, *, dtype: str, mode: str, device: str,
    counts: bool = False,
) -> Any:  # fmt: skip
    """``Generator.choice(k, n, p=exp(logits))`` with p in ``dtype`` (renormalized there)."""
    p = np.exp(logits).astype(dtype)
    p /= p.sum(dtype=p.dtype)
    return np.random.default_rng(seed).choice(logits.size, size=n, p=p)


def choice_without_replacement(
    logits: NDArray[np.float64], n: int, seed: int, m: int, *, dtype: str, mode: str,
    device: str, counts: bool = False,
) -> Any:  # fmt: skip
    """``Generator.choice(k, m, replace=False, p=exp(logits))`` for each of n rows (one call
    per row: numpy draws one sample without replacement per call), p in ``dtype``."""
    p = np.exp(logits).astype(dtype)
    p /= p.sum(dtype=p.dtype)
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(logits.size, size=m, replace=False, p=p) for _ in range(n)])
