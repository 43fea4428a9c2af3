"""Samplers the user ships: ``package.module:function`` or ``path/to/file.py:function``.

The protocol is ``function(logits, n, seed)``: ``logits`` a float64 array of the k normalized
log-probabilities (``-inf`` for probability 0), ``n`` the number of draws, ``seed`` an integer
in [0, 2**63) that the engine derives from the run's seed and the block index (the block's
own generator draws it), so that a function deterministic in its seed gives a reproducible
run for any number of workers. It returns the n sampled category indices as anything numpy
converts (a numpy array, a CPU torch tensor, a JAX array), or, when declared with
:func:`returns_counts`, the k per-category counts (a GPU sampler counts on the device and
ships k numbers instead of n). The sweep calls a relaxed form, ``function(logits, n, seed,
tau)``, that returns the n x k relaxed samples of a user's Gumbel-Softmax
(:meth:`UserSampler.relax`).

A contract violation (an import that fails, an object that is not callable, a call that
raises, the wrong length, a non-integer or NaN result, counts that do not add up to n) is a
:class:`SamplerError`: a usage error naming the SPEC, what came back, and the block and seed
that reproduce it. A draw outside 0..k-1 is not: it is a finding, counted and reported as a
hard failure of the check.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gumbelcheck.core.errors import InputError
from gumbelcheck.core.params import Categorical

#: The attribute that declares what a user function returns: ``"indices"`` (the default) or
#: ``"counts"``.
RETURNS_ATTRIBUTE = "gumbelcheck_returns"

#: Exclusive upper bound of the per-block seeds handed to a user function (they fit an int64,
#: which torch.manual_seed, jax.random.key and numpy all take).
SEED_BOUND = 2**63

#: Default draws per block (per call) of a user sampler, whatever k is: enough that the
#: call's own overhead (a GPU launch, a framework's dispatch) is amortized, few enough that a
#: sampler holding an n x k array of noise at k = 1000 needs 0.5 GiB.
BLOCK_SIZE = 2**16

F = TypeVar("F", bound=Callable[..., Any])


class SamplerError(InputError):
    """A user sampler broke its contract (the tool's input is wrong, not the sampler's law)."""


def returns_counts(function: F) -> F:
    """Declare that a user sampler returns the k per-category counts instead of n indices.

    Examples
    --------
    >>> import numpy as np
    >>> from gumbelcheck.samplers.user import returns_counts
    >>> @returns_counts
    ... def sample(logits, n, seed):
    ...     return np.random.default_rng(seed).multinomial(n, np.exp(logits))
    """
    setattr(function, RETURNS_ATTRIBUTE, "counts")
    return function


def is_user_spec(spec: object) -> bool:
    """True when ``spec`` names a user function (it has a colon); built-in names have none."""
    return isinstance(spec, str) and ":" in spec


def _one_line(text: object) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 200 else line[:197] + "..."


@dataclass(frozen=True, eq=False)
class UserSampler:
    """A user's sampling function under test, with where it came from.

    Attributes
    ----------
    name : str
        The SPEC (``package.module:function`` or ``path/to/file.py:function``), or the
        function's qualified name when it was passed as a Python callable.
    function : callable
        The function, called as ``function(logits, n, seed)``.
    returns : str
        ``indices`` (n category indices) or ``counts`` (k per-category counts).
    origin : str
        What identifies the code: ``sha256:<hex>`` of the file, or the version of the
        distribution that provides the module (``module <name> <version>``), or
        ``python callable`` when nothing better is known.
    path : str or None
        The absolute path of the file, for file SPECs (workers load it from there).
    exact : bool
        Always False: nothing is assumed of a sampler under test.
    """

    name: str
    function: Callable[..., Any] = field(repr=False)
    returns: str = "indices"
    origin: str = ""
    path: str | None = None
    exact: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # A file's function is not importable by name in a worker process: load it there
        # from its SPEC. A callable passed from Python pickles by reference (a closure does
        # not, and the engine then runs on threads).
        if self.path is not None:
            attribute = self.name.rpartition(":")[2]
            return (load_user_sampler, (f"{self.path}:{attribute}", self.name))
        return (UserSampler, (self.name, self.function, self.returns, self.origin, None))

    def block_size(self, k: int) -> int:
        """Default draws per block (per call): :data:`BLOCK_SIZE`, whatever ``k`` is."""
        return BLOCK_SIZE

    def bytes_per_sample(self, k: int) -> int:
        """Memory gumbelcheck holds per sample of a block: the returned indices and their
        copy (what the user's function holds is its own)."""
        return 16

    @property
    def description(self) -> str:
        """One line for reports."""
        return f"user sampler {self.name} ({self.origin}), returns {self.returns}"

    def tally(
        self, rng: np.random.Generator, dist: Categorical, n: int, block: int
    ) -> NDArray[np.int64]:
        """Counts of ``n`` draws per category, then the draws outside 0..k-1 (length k + 1).

        The function gets ``seed`` = ``rng.integers(SEED_BOUND)``; ``block`` is named in
        errors, with the seed, so that a failing call can be reproduced alone.
        """
        seed = int(rng.integers(SEED_BOUND))
        where = f"(block {block}, n = {n}, seed = {seed})"
        array = self._call(dist, n, seed, where)
        if self.returns == "counts":
            return self._checked_counts(array, dist.k, n, where)
        return self._tally_indices(self._checked_indices(array, n, where), dist.k)

    def indices(
        self, rng: np.random.Generator, dist: Categorical, n: int, block: int
    ) -> NDArray[np.int64]:
        """The ``n`` drawn indices themselves (out-of-range ones kept), seeded as in
        :meth:`tally`; for probes of the draws' order. SamplerError for a counting sampler."""
        return self.indices_for_seed(dist, n, int(rng.integers(SEED_BOUND)), block)

    def indices_for_seed(
        self, dist: Categorical, n: int, seed: int, block: int = 0
    ) -> NDArray[np.int64]:
        """The ``n`` indices of one call with ``seed``."""
        if self.returns == "counts":
            raise SamplerError(
                f"sampler {self.name!r} returns counts; this probe needs the draws in order"
            )
        where = f"(block {block}, n = {n}, seed = {seed})"
        return self._checked_indices(self._call(dist, n, seed, where), n, where)

    def top(
        self, rng: np.random.Generator, dist: Categorical, n: int, m: int, start: int
    ) -> NDArray[np.int64]:
        """The form ``function(logits, n, seed, m)`` of a sampler without replacement: n
        ordered m-tuples of indices (n x m), seeded as :meth:`tally` is."""
        seed = int(rng.integers(SEED_BOUND))
        where = f"(first sample {start}, n = {n}, seed = {seed}, m = {m})"
        array = self._call(dist, n, seed, where, m)
        if array.shape != (n, m):
            raise SamplerError(
                f"sampler {self.name!r} returned shape {array.shape}; the form "
                f"function(logits, n, seed, m) returns n x m = ({n}, {m}) indices {where}"
            )
        return self._integers(array, "indices", where)

    def _call(
        self, dist: Categorical, n: int, seed: int, where: str, *extra: Any
    ) -> NDArray[Any]:
        """``function(logits, n, seed, *extra)`` as a numeric array; a call that raises or a
        result numpy cannot take is a SamplerError ending in ``where``."""
        try:
            out = self.function(dist.logp.copy(), n, seed, *extra)
        except Exception as error:
            raise SamplerError(
                f"sampler {self.name!r} raised {type(error).__name__}: {_one_line(error)} {where}"
            ) from None
        return self._as_array(out, where)

    def relax(
        self, dist: Categorical, n: int, seed: int, tau: float, block: int
    ) -> NDArray[np.float64]:
        """The relaxed form ``function(logits, n, seed, tau)``: n relaxed samples, an n x k
        float64 array (a user's Gumbel-Softmax). Its values are the sweep's to judge (NaN,
        rows off the simplex); a wrong shape or a call that raises is a :class:`SamplerError`.
        """
        where = f"(block {block}, n = {n}, seed = {seed}, tau = {tau:g})"
        array = self._call(dist, n, seed, where, tau)
        if array.shape != (n, dist.k):
            raise SamplerError(
                f"sampler {self.name!r} returned shape {array.shape}; the relaxed form "
                f"function(logits, n, seed, tau) returns n x k = ({n}, {dist.k}) {where}"
            )
        return array.astype(np.float64, copy=False)

    def _as_array(self, out: Any, where: str) -> NDArray[Any]:
        try:
            array = np.asarray(out)
        except Exception as error:
            raise SamplerError(
                f"sampler {self.name!r} returned a {type(out).__name__} that numpy cannot "
                f"convert ({_one_line(error)}; a GPU tensor must be moved to the CPU, or "
                f"declared with returns_counts and counted on the device) {where}"
            ) from None
        if array.dtype.kind not in "iuf":
            raise SamplerError(
                f"sampler {self.name!r} returned {array.dtype} values; return integer category "
                f"indices {where}"
            )
        return array

    def _integers(self, array: NDArray[Any], what: str, where: str) -> NDArray[np.int64]:
        if array.dtype.kind == "f":
            if np.isnan(array).any():
                raise SamplerError(f"sampler {self.name!r} returned NaN {what} {where}")
            if not np.all(np.isfinite(array) & (array == np.round(array))):
                bad = array[~(np.isfinite(array) & (array == np.round(array)))][0]
                raise SamplerError(
                    f"sampler {self.name!r} returned {what} that are not whole numbers "
                    f"({float(bad)!r}); return integers {where}"
                )
        return array.astype(np.int64, copy=False)

    def _checked_indices(self, array: NDArray[Any], n: int, where: str) -> NDArray[np.int64]:
        if array.size != n or array.ndim == 0:
            raise SamplerError(
                f"sampler {self.name!r} returned {array.size} values of shape {array.shape} "
                f"for n = {n} draws; return n category indices {where}"
            )
        return self._integers(array.reshape(-1), "indices", where)

    @staticmethod
    def _tally_indices(indices: NDArray[np.int64], k: int) -> NDArray[np.int64]:
        try:  # one pass in the usual case: no index below 0
            tally = np.bincount(indices, minlength=k + 1)
        except ValueError:  # negative indices: count them apart
            negative = indices < 0
            tally = np.bincount(indices[~negative], minlength=k + 1)
            tally[k] += int(np.count_nonzero(negative))
        tally[k] += tally[k + 1 :].sum()  # indices >= k: outside the categories
        return tally[: k + 1].astype(np.int64, copy=False)

    def _checked_counts(self, array: NDArray[Any], k: int, n: int, where: str) -> NDArray[np.int64]:
        if array.shape not in ((k,), (k + 1,)):
            raise SamplerError(
                f"sampler {self.name!r} (returns counts) returned shape {array.shape}; return "
                f"the {k} per-category counts (and, optionally, the draws outside 0..k-1 "
                f"as a {k + 1}th) {where}"
            )
        counts = self._integers(array, "counts", where)
        if (counts < 0).any():
            raise SamplerError(
                f"sampler {self.name!r} returned a negative count ({counts.min()}) {where}"
            )
        total = int(counts.sum())
        if total != n:
            raise SamplerError(
                f"sampler {self.name!r} returned counts that add up to {total}, not n = {n} "
                f"{where}"
            )
        return counts if counts.size == k + 1 else np.append(counts, 0)


def load_user_sampler(spec: str, name: str | None = None) -> UserSampler:
    """The user sampler a SPEC names: ``package.module:function`` or ``file.py:function``.

    ``name`` is what reports call it (the SPEC as the user wrote it, by default).

    Raises
    ------
    SamplerError
        When the module or file cannot be imported, has no such attribute, or the attribute
        is not callable or declares an unknown return form.
    """
    function, origin, path = load_attribute(spec, "`sampler`")
    return user_sampler(function, name=name or spec, origin=origin, path=path)


def load_attribute(spec: str, option: str) -> tuple[Any, str, str | None]:
    """The object a SPEC ``package.module:attribute`` or ``path/to/file.py:attribute`` names,
    its origin (the distribution's version, or the file's sha256) and its file (or None).

    ``option`` names the parameter in error messages (```sampler```, ```objective```).

    Raises
    ------
    SamplerError
        When the module or file cannot be imported or has no such attribute.
    """
    target, _, attribute = spec.rpartition(":")
    if not target or not attribute:
        raise SamplerError(
            f"{option} {spec!r} is not of the form package.module:function or "
            "path/to/file.py:function"
        )
    path: str | None = None
    if target.endswith(".py") or "/" in target or target.startswith("."):
        file = Path(target).expanduser().resolve()
        if not file.is_file():
            raise SamplerError(f"{option} {spec!r}: file {target!r} does not exist")
        data = file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        module = _import_file(spec, file, digest, option)
        origin, path = f"sha256:{digest}", str(file)
    else:
        try:
            module = importlib.import_module(target)
        except Exception as error:
            raise SamplerError(
                f"{option} {spec!r}: cannot import {target!r} "
                f"({type(error).__name__}: {_one_line(error)})"
            ) from None
        origin = _module_origin(target)
    found = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise SamplerError(
                f"{option} {spec!r}: {target!r} has no attribute {attribute!r}"
            ) from None
    return found, origin, path


def user_sampler(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    origin: str | None = None,
    path: str | None = None,
) -> UserSampler:
    """Wrap a Python callable ``function(logits, n, seed)`` as a sampler under test."""
    label = name or getattr(function, "__qualname__", None) or repr(function)
    if not callable(function):
        raise SamplerError(
            f"`sampler` {label!r} is a {type(function).__name__}, not a function; name a "
            "function(logits, n, seed)"
        )
    returns = getattr(function, RETURNS_ATTRIBUTE, "indices")
    if returns not in ("indices", "counts"):
        raise SamplerError(
            f"`sampler` {label!r} declares {RETURNS_ATTRIBUTE} = {returns!r}; use 'indices' "
            "or 'counts'"
        )
    if origin is None:
        module = getattr(function, "__module__", None) or ""
        origin = _module_origin(module) if module else "python callable"
    return UserSampler(label, function, returns, origin, path)


def _import_file(spec: str, file: Path, digest: str, option: str) -> Any:
    """Import a Python file as a module named by its content (the same file twice is one
    module; an edited file is another)."""
    name = f"_gumbelcheck_user_{digest[:16]}"
    if name in sys.modules:
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, file)
    if loader_spec is None or loader_spec.loader is None:
        raise SamplerError(f"{option} {spec!r}: {str(file)!r} is not a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        if not isinstance(error, Exception):
            raise
        raise SamplerError(
            f"{option} {spec!r}: importing {str(file)!r} raised "
            f"{type(error).__name__}: {_one_line(error)}"
        ) from None
    return module


def _module_origin(module: str) -> str:
    """``module NAME VERSION`` from the installed distribution that provides it, if any."""
    top = module.split(".")[0]
    for distribution in metadata.packages_distributions().get(top, []):
        try:
            return f"module {module} ({distribution} {metadata.version(distribution)})"
        except metadata.PackageNotFoundError:  # pragma: no cover - listed but gone
            continue
    file = getattr(sys.modules.get(module), "__file__", None)
    if file and Path(file).is_file():
        return f"module {module} (sha256:{hashlib.sha256(Path(file).read_bytes()).hexdigest()})"
    return f"module {module}"
