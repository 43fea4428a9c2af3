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
