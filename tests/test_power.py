"""Power and planning: the minimum detectable effect is what simulation says it is."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import Result

from gumbelcheck import maxtrick
from gumbelcheck.checks.plan import plan
from gumbelcheck.core.errors import InputError
from gumbelcheck.stats import minimum_detectable_w, power


def test_power_is_the_noncentral_chi_square_tail() -> None:
    critical = stats.chi2.isf(0.01, 3)
    assert power(0.05, 3, 2000, 0.01) == pytest.approx(stats.ncx2.sf(critical, 3, 2000 * 0.05**2))


def test_minimum_detectable_tv_matches_the_numerics_notes() -> None:
    # alpha = 1e-3, df = 2, power 0.9: lambda* = 23.8, so N = 1e6 detects TV ~ 2.4e-3.
    w = minimum_detectable_w(10**6, 2, 1e-3)
    assert w**2 * 10**6 == pytest.approx(23.817, abs=1e-3)
    assert w / 2 == pytest.approx(2.44e-3, abs=1e-5)
    assert power(w, 2, 10**6, 1e-3) == pytest.approx(0.9)


def test_simulated_rejection_rate_at_the_detectable_effect_is_the_promised_power() -> None:
    p0 = np.array([0.1, 0.2, 0.7])
    n, alpha = 20_000, 0.01
    w = minimum_detectable_w(n, 2, alpha)
    direction = np.array([1.0, -1.0, 0.0])
    p1 = p0 + direction * w / math.sqrt(np.sum(direction**2 / p0))
    counts = np.random.default_rng(7).multinomial(n, p1, size=4000)
    x2 = np.sum((counts - n * p0) ** 2 / (n * p0), axis=1)
    rate = np.mean(x2 > special.chdtri(2, alpha))
    assert abs(rate - 0.9) < 0.02  # binomial sd at 4000 replicates is 0.005


def test_every_result_reports_its_minimum_detectable_effect() -> None:
    result = maxtrick([0.1, 0.2, 0.7], samples=1_000_000, seed=1)
    assert result.gof.mde_w == pytest.approx(minimum_detectable_w(1_000_000, 2, 0.01))
    assert result.gof.mde_tv == pytest.approx(result.gof.mde_w / 2)
    assert math.isnan(maxtrick([1.0], samples=10, seed=1).gof.mde_w)


def test_plan_gives_the_n_at_which_the_deviation_becomes_detectable() -> None:
    planned = plan([0.1, 0.2, 0.7], tv=1e-3)
    assert planned.w == 2e-3
    assert minimum_detectable_w(planned.samples, 2, 0.01) / 2 <= 1e-3
    assert minimum_detectable_w(planned.samples - 1000, 2, 0.01) / 2 > 1e-3
    assert plan([0.1, 0.2, 0.7], w=0.01, alpha=1e-3).samples == math.ceil(23.8173 / 1e-4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tv": None, "w": None}, "exactly one"),
        ({"tv": 0.1, "w": 0.1}, "exactly one"),
        ({"tv": 0.0}, "outside"),
        ({"w": -1.0}, "positive"),
        ({"tv": 0.1, "power": 1.0}, "`power`"),
    ],
)
def test_plan_rejects_bad_requests(kwargs: dict[str, float | None], message: str) -> None:
    with pytest.raises(InputError, match=message):
        plan([0.5, 0.5], **kwargs)


def test_plan_cli(cli: Callable[..., Result]) -> None:
    result = cli("plan", "--pi", "0.1,0.2,0.7", "--tv", "1e-4")
    assert result.exit_code == 0
    assert "--samples 435,667,227" in result.stdout
    bad = cli("plan", "--pi", "0.1,0.2,0.7", "--tv", "x")
    assert bad.exit_code == 2
    assert bad.stderr == "gumbelcheck: error: --tv 'x' is not a number\n"
