"""Input validation: every bad value is named, with the fix, in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import categorical, parse_alpha, parse_count


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10000000", 10_000_000),
        ("10_000_000", 10_000_000),
        ("1e7", 10_000_000),
        ("10M", 10_000_000),
        ("2.5k", 2500),
        ("1G", 10**9),
        ("1e10", 10**10),
        ("9007199254740992", 2**53),
        ("12345678901234567890", 12345678901234567890),
        (42, 42),
    ],
)
def test_parse_count_accepts_the_usual_spellings(text: str | int, value: int) -> None:
    assert parse_count(text, maximum=10**20) == value


@pytest.mark.parametrize("text", ["9007199254740993", "1e30", "1e300", 10**40])
def test_parse_count_refuses_more_draws_than_one_run_may_make(text: str | int) -> None:
    with pytest.raises(InputError, match=r"`samples` .* is too large; it must be at most 9,007"):
        parse_count(text)


@pytest.mark.parametrize("text", ["abc", "1.5", "1e-3", "-5", "", "10X", "nan", "inf", "1e400"])
def test_parse_count_rejects_non_counts(text: str) -> None:
    with pytest.raises(InputError, match="`samples`"):
        parse_count(text)


def test_parse_count_rejects_zero_naming_the_minimum() -> None:
    with pytest.raises(InputError, match="at least 1"):
        parse_count("0")


def test_probabilities_are_normalized_only_on_request() -> None:
    dist = categorical("1,2,7", normalize=True)
    np.testing.assert_allclose(dist.p, [0.1, 0.2, 0.7])
    with pytest.raises(InputError, match="`normalize`"):
        categorical("1,2,7")


def test_sum_tolerance_is_1e_9() -> None:
    categorical([0.5, 0.5 + 0.9e-9])
    with pytest.raises(InputError, match="sums to"):
        categorical([0.5, 0.5 + 2e-9])


def test_zeros_give_minus_infinity_logits_without_log_of_zero() -> None:
    dist = categorical("0.25,0,0.75")
    assert dist.logp[1] == -math.inf
    assert list(dist.support) == [True, False, True]


def test_logits_are_normalized_by_a_stable_log_softmax() -> None:
    dist = categorical(logits="1000,1000,-inf")
    np.testing.assert_allclose(dist.p, [0.5, 0.5, 0.0])
    assert dist.logp[2] == -math.inf


@pytest.mark.parametrize(
    ("pi", "logits", "message"),
    [
        ("0.1,x,0.7", None, "entry 1 .*'x'.* not a number"),
        ("0.1,nan,0.9", None, "entry 1 is NaN"),
        ("0.1,inf,0.9", None, "entry 1 is inf"),
        ("0.1,-inf,0.9", None, "entry 1 is -inf"),
        ("-0.1,0.2,0.9", None, "entry 0 is negative"),
        ("0,0,0", None, "all zeros"),
        ("", None, "empty"),
        (" , ", None, "empty"),
        ("0.1,0.2", None, "sums to 0.3"),
        ("0.5,0.5", "0,0", "both `pi` and `logits`"),
        (None, None, "no distribution"),
        (None, "0,nan", "entry 1 is NaN"),
        (None, "0,inf", r"entry 1 is \+inf"),
        (None, "-inf,-inf", "all -inf"),
    ],
)
def test_bad_distributions_are_rejected(pi: str | None, logits: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        categorical(pi, logits)


@pytest.mark.parametrize("alpha", ["0", "1", "-0.5", "1.5", "nan", "abc"])
def test_alpha_outside_the_open_unit_interval_is_rejected(alpha: str) -> None:
    with pytest.raises(InputError, match="`alpha`"):
        parse_alpha(alpha)
