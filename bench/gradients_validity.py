"""False-rejection rates of `gumbelcheck gradients`' z tests for correct estimators.

The evidence behind MIN_RARE_DRAWS and MIN_NEAR_TIES (gumbelcheck/checks/gradients.py): the
per-coordinate z test of a mean (REINFORCE against the discrete gradient, Gumbel-Softmax
against the relaxed one), Bonferroni over the k coordinates at level alpha / k (as one test)
and at alpha / 41 (as one test of the default suite entry's Holm family of 41 hypotheses),
over R replicates of N samples:

* REINFORCE, pi = (p, 0.3, 0.7 - p), against the expected draws N p of the rare category,
  simulated exactly through the multinomial counts (the estimator takes k values);
* Gumbel-Softmax (quadratic objective, ``--pi``), against the expected near-ties
  N min(tau, 1) min p_i (1 - p_i) (gumbelcheck.checks.gradients.near_ties).

    python bench/gradients_validity.py reinforce 1,3,10,30,100,300 --replicates 200000
    python bench/gradients_validity.py gumbel-softmax 10,30,100 --replicates 4000
    python bench/gradients_validity.py gumbel-softmax 10,30,100 --replicates 4000 --pi 0.01,0.09,0.9
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import stats

from gumbelcheck.checks.gradients import Objective, discrete_gradient, near_ties

ALPHA = 0.01
FAMILY = 41


def _rates(z: np.ndarray, k: int) -> tuple[float, float]:
    """Rejection rates of the smallest coordinate's two-sided p at alpha / k and alpha / 41."""
    p = 2.0 * stats.norm.sf(z).min(axis=1)
    return float((p < ALPHA / k).mean()), float((p < ALPHA / FAMILY).mean())


def reinforce(draws: float, samples: int, replicates: int, _: np.ndarray) -> tuple[float, float]:
    p0 = draws / samples
    pi = np.array([p0, 0.3, 0.7 - p0])
    k = pi.size
    objective = Objective("quadratic", np.arange(k) / (k - 1))
    values = objective.value(np.eye(k))
    _, r = discrete_gradient(pi, values)
    estimate = values[:, None] * (np.eye(k) - pi)  # row i: the estimate when z = e_i
    w = np.random.default_rng(7).multinomial(samples, pi, size=replicates) / samples
    mean = w @ estimate
    variance = (w @ estimate**2 - mean**2) * samples / (samples - 1)
    se = np.sqrt(np.maximum(variance, 0.0) / samples)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(mean - r) / se, np.where(np.abs(mean - r) < 1e-12, 0, np.inf))
    return _rates(z, k)


def gumbel_softmax(
    ties: float, samples: int, replicates: int, pi: np.ndarray
) -> tuple[float, float]:
    k, logp = pi.size, np.log(pi)
    tau = ties / near_ties(pi, samples, 1.0)
    objective = Objective("quadratic", np.arange(k) / (k - 1))
    _, exact = objective.relaxed(logp, tau)
    rng = np.random.default_rng(12345)
    chunk = max(1, 2_000_000 // (samples * k))
    z = []
    for start in range(0, replicates, chunk):
        r = min(chunk, replicates - start)
        x = (logp - np.log(-np.log(rng.random((r, samples, k))))) / tau
        x -= x.max(axis=2, keepdims=True)
        y = np.exp(x)
        y /= y.sum(axis=2, keepdims=True)
        estimate = y * 2.0 * (y - objective.target)
        estimate -= y * estimate.sum(axis=2, keepdims=True)
        estimate /= tau
        se = estimate.std(axis=1, ddof=1) / math.sqrt(samples)
        z.append(np.abs(estimate.mean(axis=1) - exact) / se)
    return _rates(np.concatenate(z), k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("estimator", choices=("reinforce", "gumbel-softmax"))
    parser.add_argument("counts", help="expected rare draws or near-ties, e.g. 10,30,100")
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--replicates", type=int, default=2_000)
    parser.add_argument("--pi", default="0.1,0.2,0.7", help="for gumbel-softmax")
    args = parser.parse_args()
    pi = np.array([float(v) for v in args.pi.split(",")])
    run = reinforce if args.estimator == "reinforce" else gumbel_softmax
    k = 3 if args.estimator == "reinforce" else pi.size
    shape = "pi = (p, 0.3, 0.7 - p)" if args.estimator == "reinforce" else f"pi = ({args.pi})"
    for count in (float(c) for c in args.counts.split(",")):
        at_k, at_family = run(count, args.samples, args.replicates, pi)
        print(
            f"{args.estimator}  {shape}  expected {count:g}  N = {args.samples:,}  "
            f"R = {args.replicates:,}  rejected at alpha/k: {at_k:.4f} (<= {ALPHA:g})  at "
            f"alpha/{FAMILY}: {at_family:.5f} (<= {k * ALPHA / FAMILY:.5f})"
        )


if __name__ == "__main__":
    main()
