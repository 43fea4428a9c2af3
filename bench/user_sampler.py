"""The user sampler the benchmark verifies: numpy's Generator.choice behind ``--sampler``."""

import numpy as np


def choice(logits, n, seed):
    """n draws of Categorical(exp(logits)) by numpy's inverse-cdf ``Generator.choice``."""
    return np.random.default_rng(seed).choice(logits.size, size=n, p=np.exp(logits))
