"""Validation of user input: probability vectors, logits, sample counts, levels.

Every function raises :class:`~gumbelcheck.core.errors.InputError` with a one-line message that
names the bad value and says how to fix it. Nothing here samples or prints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError

#: Largest deviation of sum(pi) from 1 accepted without ``normalize``.
SUM_TOLERANCE = 1e-9

#: Most draws one run may make (2**53: counts and their float64 sums stay exact). At tens of
#: millions of draws a second that is years of one machine's time.
MAX_SAMPLES = 2**53

_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
_COUNT = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+]?[0-9]+)?)\s*([kKmMgGbBtT]?)\s*$")


def parse_count(
    text: str | int, name: str = "`samples`", minimum: int = 1, maximum: int = MAX_SAMPLES
) -> int:
    """Parse a whole number such as ``10000000``, ``10_000_000``, ``1e7`` or ``10M``, between
    ``minimum`` and ``maximum``.

    Suffixes K, M, G (or B) and T mean 1e3, 1e6, 1e9 and 1e12.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _COUNT.match(str(text))
        if match is None:
            raise InputError(
                f"{name} {text!r} is not a whole number; write it like 1000000, 1_000_000, "
                "1e6 or 1M"
            )
        mantissa, suffix = match.group(1).replace("_", ""), match.group(2).upper()
        number = float(mantissa) * _SUFFIXES[suffix]
        if not math.isfinite(number) or number != math.floor(number):
            raise InputError(f"{name} {text!r} is not a whole number; write it like 1M or 1e6")
        # Exact integer arithmetic for plain integers, so 10**18 + 1 is not rounded.
        if re.fullmatch(r"[0-9]+", mantissa):
            value = int(mantissa) * _SUFFIXES[suffix]
        else:
            value = int(number)
    if value < minimum:
        raise InputError(f"{name} {text} is too small; it must be at least {minimum}")
    if value > maximum:
        raise InputError(f"{name} {text} is too large; it must be at most {maximum:,}")
    return value


def parse_float_list(text: str | Sequence[float], name: str) -> NDArray[np.float64]:
    """Parse comma-separated numbers (``"0.1,0.2,0.7"``) into a float64 array.

    ``@FILE`` reads them from a file instead (a .npy array, or text with one number per line
    or comma-separated; ``@-`` reads standard input), for vectors too long for a command line.
    ``inf``, ``-inf`` and ``nan`` are parsed (validation decides whether they are allowed).
    """
    if isinstance(text, str) and text.startswith("@"):
        from gumbelcheck.core.readers import read_numbers

        return read_numbers(text[1:], name).values.astype(np.float64)
    if isinstance(text, str):
        items = [item.strip() for item in text.split(",")]
        if text.strip() == "" or all(item == "" for item in items):
            raise InputError(f"{name} is empty; give comma-separated numbers like 0.1,0.2,0.7")
        values = []
        for position, item in enumerate(items):
            try:
                values.append(float(item))
            except ValueError:
                raise InputError(
                    f"{name} entry {position} ({item!r}) is not a number; "
                    "give comma-separated numbers like 0.1,0.2,0.7"
                ) from None
        return np.asarray(values, dtype=np.float64)
    array = np.asarray(text, dtype=np.float64).ravel()
    if array.size == 0:
        raise InputError(f"{name} is empty; give at least one value")
    return array


@dataclass(frozen=True, eq=False)
class Categorical:
    """A validated categorical distribution.

    Attributes
    ----------
    p : ndarray
        Probabilities, float64, summing to 1 (zeros allowed).
    logp : ndarray
        ``log(p)``, with ``-inf`` exactly where ``p == 0``.
    log_total : float
        ``ln sum w`` of the weights or logits as given (about 0 for probabilities): the
        location of the max of ln w_i + g_i.
    """

    p: NDArray[np.float64]
    logp: NDArray[np.float64]
    log_total: float = 0.0

    @property
    def k(self) -> int:
        """Number of categories, zero-probability ones included."""
        return int(self.p.size)

    @property
    def support(self) -> NDArray[np.bool_]:
        """Mask of the categories with positive probability."""
        return self.p > 0


def categorical(
    pi: str | Sequence[float] | NDArray[np.float64] | None = None,
    logits: str | Sequence[float] | NDArray[np.float64] | None = None,
    *,
    normalize: bool = False,
) -> Categorical:
    """Validate probabilities or logits and return a :class:`Categorical`.

    Parameters
    ----------
    pi : str or array_like, optional
        Probabilities (or weights with ``normalize=True``); comma-separated when a string.
    logits : str or array_like, optional
        Unnormalized log-probabilities; ``-inf`` means probability 0.
    normalize : bool
        Accept weights whose sum is not 1 and divide by the sum.

    Raises
    ------
    InputError
        On NaN, infinite or negative probabilities, an all-zero vector, an empty list, a sum
        off 1 by more than 1e-9 without ``normalize``, or both / neither of pi and logits.
    """
    if pi is not None and logits is not None:
        raise InputError("both `pi` and `logits` were given; pass only one of them")
    if pi is None and logits is None:
        raise InputError(
            "no distribution given; pass `pi` (probabilities such as 0.1,0.2,0.7) or `logits`"
        )
    if logits is not None:
        return _from_logits(parse_float_list(logits, "`logits`"))
    assert pi is not None
    return _from_probabilities(parse_float_list(pi, "`pi`"), normalize=normalize)


def _from_probabilities(p: NDArray[np.float64], *, normalize: bool) -> Categorical:
    for i, value in enumerate(p):
        if math.isnan(value):
            raise InputError(f"`pi` entry {i} is NaN; every probability must be a number >= 0")
        if math.isinf(value):
            raise InputError(
                f"`pi` entry {i} is {value}; probabilities must be finite "
                "(use `logits` for log-probabilities, where -inf means 0)"
            )
        if value < 0:
            raise InputError(f"`pi` entry {i} is negative ({value:g}); probabilities must be >= 0")
    total = math.fsum(p)
    if total == 0:
        raise InputError("`pi` is all zeros; at least one probability must be positive")
    if not normalize and abs(total - 1.0) > SUM_TOLERANCE:
        raise InputError(
            f"`pi` sums to {total!r}, not 1 (tolerance {SUM_TOLERANCE:g}); "
            "fix the values or pass `normalize` to divide by the sum"
        )
    p = p / total
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)
    return Categorical(p=p, logp=logp, log_total=math.log(total))


def _from_logits(logits: NDArray[np.float64]) -> Categorical:
    for i, value in enumerate(logits):
        if math.isnan(value):
            raise InputError(f"`logits` entry {i} is NaN; every logit must be a number or -inf")
        if value == math.inf:
            raise InputError(f"`logits` entry {i} is +inf; logits must be finite or -inf")
    if np.all(logits == -np.inf):
        raise InputError("`logits` are all -inf; at least one category needs a finite logit")
    # Stable log-softmax: subtract the maximum before exponentiating. A spread beyond the
    # float64 range gives -inf, probability 0, which is what exp of it is.
    top = float(logits.max())
    with np.errstate(over="ignore"):
        shifted = logits - top
    log_sum = math.log(math.fsum(np.exp(shifted)))
    logp = shifted - log_sum
    return Categorical(p=np.exp(logp), logp=logp, log_total=top + log_sum)


def parse_alpha(alpha: float | str) -> float:
    """Check a significance level: a number strictly between 0 and 1."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"`alpha` {alpha!r} is not a number; use a level like 0.01") from None
    if not 0.0 < value < 1.0:
        raise InputError(f"`alpha` {alpha} is outside (0, 1); use a level like 0.01")
    return value


_LOG_RANGE = re.compile(r"^\s*([^:]+):([^:]+):([^:]+)\s*$")


def parse_tau_grid(grid: str | float | Sequence[float], name: str = "`tau`") -> NDArray[np.float64]:
    """Parse a grid of temperatures into a sorted float64 array.

    Parameters
    ----------
    grid : str, float or sequence of float
        A list ``"0.1,0.5,1,2"`` (any order), one value, or a log range ``"START:STOP:COUNT"``
        such as ``"1e-3:1e3:25"``: COUNT values spaced evenly in log tau from START to STOP,
        both included.
    name : str
        The option name used in error messages.

    Raises
    ------
    InputError
        On an empty list, a value that is not a finite positive number, a repeated value, or a
        log range whose COUNT is not a whole number >= 1, whose START is not below STOP, or
        whose COUNT is 1 while START and STOP differ.
    """
    if isinstance(grid, str) and (match := _LOG_RANGE.match(grid)):
        start, stop = (_positive(match.group(i), name, grid) for i in (1, 2))
        count = parse_count(match.group(3).strip(), f"{name} count in {grid!r}")
        if count == 1 and start != stop:
            raise InputError(
                f"{name} {grid!r} asks for 1 value between two different ends; "
                f"use a count >= 2 or a single value like {name} {start:g}"
            )
        if count > 1 and not start < stop:
            raise InputError(
                f"{name} {grid!r} does not run from a smaller to a larger value; "
                "write START:STOP:COUNT with START < STOP, e.g. 1e-3:1e3:25"
            )
        return np.geomspace(start, stop, count)
    if isinstance(grid, int | float) and not isinstance(grid, bool):
        grid = [float(grid)]
    values = parse_float_list(grid, name)
    for value in values:
        _positive(value, name, grid)
    values = np.sort(values)
    repeated = values[1:][values[1:] == values[:-1]]
    if repeated.size:
        raise InputError(f"{name} lists {repeated[0]:g} more than once; give each value once")
    return values


def _positive(text: str | float, name: str, grid: object) -> float:
    """A temperature: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{name} {grid!r}: {str(text).strip()!r} is not a number; "
            "give a list like 0.1,0.5,1,2 or a log range like 1e-3:1e3:25"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(
            f"{name} {grid!r}: {value:g} is not a finite positive temperature; use values > 0"
        )
    return value


def parse_real(value: float | str, name: str, *, positive: bool = False) -> float:
    """Check a real parameter such as a location or scale: finite, and > 0 when ``positive``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} {value!r} is not a number; give a real number like 1.5") from None
    if not math.isfinite(number):
        raise InputError(f"{name} {value} is not finite; give a finite real number like 1.5")
    if positive and number <= 0:
        raise InputError(f"{name} {value} is not positive; give a number > 0 like 1.5")
    return number
