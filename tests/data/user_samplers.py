"""User samplers for the tests, loaded by path (``tests/data/user_samplers.py:choice``) as a
user's own file would be."""

import atexit
import resource
import sys

import numpy as np

from gumbelcheck import returns_counts


def choice(logits, n, seed):
    """Correct: numpy's inverse-cdf choice."""
    return np.random.default_rng(seed).choice(logits.size, size=n, p=np.exp(logits))


_FAULTS = []


def choice_counting_faults(logits, n, seed):
    """Correct: ``choice``, counting the page faults its calls take after the first; they
    are printed to stderr when the process ends."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    draws = choice(logits, n, seed)
    if not _FAULTS:
        atexit.register(lambda: print("faults:", sum(_FAULTS[1:]), file=sys.stderr))
    _FAULTS.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return draws


def tempered(logits, n, seed):
    """Wrong: samples proportional to pi^(1/1.05) (Gumbel noise of scale 1.05)."""
    q = np.exp(logits / 1.05)
    return np.random.default_rng(seed).choice(logits.size, size=n, p=q / q.sum())


def reused_noise(logits, n, seed):
    """Wrong: one Gumbel draw per category reused for every sample of a call."""
    g = np.random.default_rng(seed).gumbel(size=logits.size)
    return np.full(n, np.argmax(logits + g))


def out_of_range(logits, n, seed):
    """Wrong: every 1000th draw is the index k."""
    draws = choice(logits, n, seed)
    draws[::1000] = logits.size
    return draws


def negative(logits, n, seed):
    """Wrong: the first draw of every call is -1."""
    draws = choice(logits, n, seed)
    draws[0] = -1
    return draws


@returns_counts
def multinomial_counts(logits, n, seed):
    """Correct, counting form: k counts from numpy's multinomial."""
    return np.random.default_rng(seed).multinomial(n, np.exp(logits))


def raises(logits, n, seed):
    raise RuntimeError("CUDA out of memory\nsecond line")


def too_short(logits, n, seed):
    return np.zeros(n - 1, dtype=np.int64)


def fractional(logits, n, seed):
    return np.full(n, 0.5)


def nan(logits, n, seed):
    return np.full(n, np.nan)


def strings(logits, n, seed):
    return ["a"] * n


@returns_counts
def counts_off_by_one(logits, n, seed):
    counts = np.random.default_rng(seed).multinomial(n, np.exp(logits))
    counts[0] += 1
    return counts


not_callable = 42


def _perturbed(logits, n, seed):
    """ln pi + g with g = -log(-log U), U on (0, 1], from the seed alone (the same for every
    tau: common random numbers)."""
    u = 1.0 - np.random.default_rng(seed).random((n, logits.size))
    return logits - np.log(-np.log(u))


def relaxed(logits, n, seed, tau):
    """Correct Gumbel-Softmax, in log space (max subtracted before dividing by tau)."""
    x = _perturbed(logits, n, seed)
    z = (x - x.max(axis=1, keepdims=True)) / tau
    y = np.exp(z)
    return y / y.sum(axis=1, keepdims=True)


def relaxed_tau_misplaced(logits, n, seed, tau):
    """Wrong: softmax(ln pi / tau + g), which samples proportional to pi^(1/tau)."""
    u = 1.0 - np.random.default_rng(seed).random((n, logits.size))
    x = logits / tau - np.log(-np.log(u))
    y = np.exp(x - x.max(axis=1, keepdims=True))
    return y / y.sum(axis=1, keepdims=True)


def relaxed_naive(logits, n, seed, tau):
    """Wrong: exp(x / tau) without subtracting the maximum: inf / inf = NaN at small tau."""
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.exp(_perturbed(logits, n, seed) / tau)
        return y / y.sum(axis=1, keepdims=True)


def relaxed_unnormalized(logits, n, seed, tau):
    """Wrong: exp((x - max x) / tau), never divided by its sum."""
    x = _perturbed(logits, n, seed)
    return np.exp((x - x.max(axis=1, keepdims=True)) / tau)


def relaxed_flat(logits, n, seed, tau):
    """Broken contract: one row per call instead of n x k."""
    return np.full(logits.size, 1.0 / logits.size)


def choice_without_replacement(logits, n, seed, m):
    """Correct: numpy's choice(replace=False, p=...), one ordered sample of size m per row."""
    rng = np.random.default_rng(seed)
    p = np.exp(logits)
    return np.array([rng.choice(logits.size, size=m, replace=False, p=p) for _ in range(n)])


def deduplicated(logits, n, seed, m):
    """Wrong: m draws with replacement, repeats dropped, the sample topped up with the
    heaviest categories not in it yet."""
    rng = np.random.default_rng(seed)
    p = np.exp(logits)
    heaviest = np.argsort(-p, kind="stable")
    out = np.empty((n, m), dtype=np.int64)
    for row, draws in enumerate(rng.choice(logits.size, size=(n, m), p=p)):
        kept = list(dict.fromkeys(draws.tolist()))
        kept += [int(i) for i in heaviest if i not in kept][: m - len(kept)]
        out[row] = kept
    return out


def independent_inclusion(logits, n, seed, m):
    """Wrong: each category included on its own with probability min(1, m pi_i), rows of
    size m kept (conditional Poisson sampling), in a random order."""
    rng = np.random.default_rng(seed)
    q = np.minimum(1.0, m * np.exp(logits))
    rows = []
    while sum(len(r) for r in rows) < n:
        chosen = rng.random((4 * n, logits.size)) < q
        rows.append(chosen[chosen.sum(axis=1) == m])
    chosen = np.concatenate(rows)[:n]
    order = np.argsort(rng.random(chosen.shape) - chosen, axis=1)  # chosen first, shuffled
    return order[:, :m]


def with_replacement(logits, n, seed, m):
    """Wrong: m independent draws with replacement (repeats happen)."""
    return np.random.default_rng(seed).choice(logits.size, size=(n, m), p=np.exp(logits))


def tempered_top(logits, n, seed, m):
    """Wrong: the m largest logits + g with Gumbel noise of scale 1.05 (vectorized)."""
    g = np.random.default_rng(seed).gumbel(scale=1.05, size=(n, logits.size))
    return np.argsort(-(logits + g), axis=1, kind="stable")[:, :m]
