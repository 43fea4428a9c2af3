"""Negative controls: samplers that are wrong in the ways shipped code is (must be rejected).

``gaussian``  standard normal noise instead of Gumbel noise;
``gumbel-scale-2``  Gumbel noise with scale 2, which samples proportional to sqrt(pi);
``noise-on-pi``  Gumbel noise added to pi instead of ln pi;
``logistic``  standard logistic noise;
``gumbel-scale-1.05``  Gumbel noise with scale 1.05 (proportional to pi^(1/1.05));
``left-gumbel``  the left-skewed convention g = +ln(-ln U);
``float32``  float32 uniforms with U = 0 allowed: a rare category's floor of 2^-24;
``clamped``  uniforms clamped to u <= 0.999, which caps the noise at 6.9.
:mod:`gumbelcheck.checks.controls` computes the probabilities each of them really samples.
Every sampler is a module-level function (or a partial of one), so samplers pickle.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.params import Categorical
from gumbelcheck.samplers.base import Sampler, register
from gumbelcheck.samplers.noise import argmax, gumbel_noise, uniforms


def _gaussian(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = rng.standard_normal((n, dist.k))
    scores += dist.logp
    return argmax(scores)


def _noise_on_pi(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = gumbel_noise(rng, n, dist.k)
    scores += dist.p
    return argmax(scores)


#: Upper clamp of the uniforms in the ``clamped`` control, as some copies of the trick do.
CLAMP = 0.999


def _logistic(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = rng.logistic(size=(n, dist.k))
    scores += dist.logp
    return argmax(scores)


def _gumbel_scaled(
    rng: np.random.Generator, dist: Categorical, n: int, *, scale: float
) -> NDArray[np.intp]:
    scores = gumbel_noise(rng, n, dist.k)
    scores *= scale
    scores += dist.logp
    return argmax(scores)


def _left_gumbel(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    # g = +ln(-ln U) = -G: the left-skewed (minimum) Gumbel convention.
    scores = gumbel_noise(rng, n, dist.k)
    np.negative(scores, out=scores)
    scores += dist.logp
    return argmax(scores)


def float32_noise(u: NDArray[np.float32]) -> NDArray[np.float32]:
    """-ln(-ln U) in float32, in place; U = 0 gives -inf (the category cannot win)."""
    with np.errstate(divide="ignore"):
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
    np.negative(u, out=u)
    return u


def _float32(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    scores = float32_noise(rng.random((dist.k, n), dtype=np.float32))
    scores += dist.logp.astype(np.float32)[:, None]
    return np.argmax(scores, axis=0)


def _clamped(rng: np.random.Generator, dist: Categorical, n: int) -> NDArray[np.intp]:
    u = np.minimum(uniforms(rng, n, dist.k), CLAMP)
    np.log(u, out=u)
    np.negative(u, out=u)
    np.log(u, out=u)
    return argmax(dist.logp - u)


register(
    Sampler("gaussian", False, "WRONG: standard normal noise instead of Gumbel", _gaussian),
    Sampler(
        "gumbel-scale-2",
        False,
        "WRONG: Gumbel noise with scale 2",
        partial(_gumbel_scaled, scale=2.0),
    ),
    Sampler("noise-on-pi", False, "WRONG: Gumbel noise added to pi, not ln pi", _noise_on_pi),
    Sampler("logistic", False, "WRONG: standard logistic noise instead of Gumbel", _logistic),
    Sampler(
        "gumbel-scale-1.05",
        False,
        "WRONG: Gumbel noise with scale 1.05",
        partial(_gumbel_scaled, scale=1.05),
    ),
    Sampler("left-gumbel", False, "WRONG: g = +ln(-ln U), minus a Gumbel", _left_gumbel),
    Sampler(
        "float32", False, "WRONG: float32 uniforms, U = 0 allowed (noise floor 2^-24)", _float32
    ),
    Sampler("clamped", False, f"WRONG: uniforms clamped to u <= {CLAMP} (noise <= 6.9)", _clamped),
)
