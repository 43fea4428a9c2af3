"""PyTorch's samplers behind the sampler protocol (imported only when an adapter is used).

torch.distributions and gumbel_softmax draw from torch's global generator: they are seeded per
call under a lock, so that threads of one process cannot interleave their streams.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

_GLOBAL_RNG = threading.Lock()


def _logits(logits: NDArray[np.float64], dtype: str, device: str) -> torch.Tensor:
    return torch.from_numpy(logits).to(device=device, dtype=getattr(torch, dtype))


def _finish(draws: torch.Tensor, k: int, counts: bool) -> Any:
    """Indices as numpy, or (on a device) k counts plus the draws outside 0..k-1."""
    if not counts:
        return draws.cpu().numpy()
    inside = (draws >= 0) & (draws < k)
    tally = torch.bincount(draws[inside], minlength=k)
    outside = torch.count_nonzero(~inside).reshape(1)
    return torch.cat([tally, outside]).cpu().numpy()


def _seed_global(seed: int, device: str) -> None:
    torch.manual_seed(seed)
    if device.startswith("cuda"):
        torch.cuda.manual_seed(seed)


def multinomial(
    logits: NDArray[np.float64], n: int, seed: int, *, dtype: str, mode: str, device: str,
    counts: bool = False,
) -> Any:  # fmt: skip
    """``torch.multinomial(exp(logits), n, replacement=True)`` with its own generator."""
    generator = torch.Generator(device=device).manual_seed(seed)
    probs = _logits(logits, dtype, device).exp()
    draws = torch.multinomial(probs, n, replacement=True, generator=generator)
    return _finish(draws, logits.size, counts)


def categorical(
    logits: NDArray[np.float64], n: int, seed: int, *, dtype: str, mode: str, device: str,
    counts: bool = False,
) -> Any:  # fmt: skip
    """``torch.distributions.Categorical(logits=logits).sample((n,))``."""
    with _GLOBAL_RNG:
        _seed_global(seed, device)
        distribution = torch.distributions.Categorical(logits=_logits(logits, dtype, device))
        draws = distribution.sample((n,))
    return _finish(draws, logits.size, counts)


def gumbel_softmax(
    logits: NDArray[np.float64], n: int, seed: int, *, dtype: str, mode: str, device: str,
    counts: bool = False,
) -> Any:  # fmt: skip
    """The argmax of ``gumbel_softmax(logits, tau=1, hard=True)``; -1 for a row that is not
    exactly one-hot (NaN from its noise, or a multi-hot row)."""
    with _GLOBAL_RNG:
        _seed_global(seed, device)
        batch = _logits(logits, dtype, device).expand(n, logits.size)
        y = torch.nn.functional.gumbel_softmax(batch, tau=1.0, hard=True)
    one_hot = ((y == 1).sum(dim=1) == 1) & ((y == 0).sum(dim=1) == logits.size - 1)
    draws = torch.where(one_hot, y.argmax(dim=1), torch.full_like(one_hot, -1, dtype=torch.long))
    return _finish(draws, logits.size, counts)


def multinomial_without_replacement(
    logits: NDArray[np.float64], n: int, seed: int, m: int, *, dtype: str, mode: str,
    device: str, counts: bool = False,
) -> Any:  # fmt: skip
    """``torch.multinomial(exp(logits), m, replacement=False)`` for each of n rows: n ordered
    samples of size m (the n x k weights are one expanded view, not n copies)."""
    generator = torch.Generator(device=device).manual_seed(seed)
    probs = _logits(logits, dtype, device).exp()
    draws = torch.multinomial(probs.expand(n, -1), m, replacement=False, generator=generator)
    return draws.cpu().numpy()
