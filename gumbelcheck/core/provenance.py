"""What a report records so that anybody can reproduce it."""

from __future__ import annotations

import platform
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from gumbelcheck._version import __version__

#: Libraries whose versions can change a result.
LIBRARIES = ("numpy", "scipy", "pandas", "mpmath")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that matter for a result (read without importing them)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[name] = "not installed"
    return versions


@dataclass(frozen=True, kw_only=True)
class Execution:
    """Where a run's blocks ran; recorded, never part of a result.

    Attributes
    ----------
    backend : str
        ``local``, ``threads``, ``processes`` or ``dask``.
    scheduler : str
        The Dask scheduler (its address, or ``local:N``); empty for the other backends.
    workers : int
        Workers the blocks ran on: this machine's, or the Dask cluster's at the run's end.
    """

    backend: str
    scheduler: str
    workers: int


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """How a result was made.

    Attributes
    ----------
    tool_version : str
        gumbelcheck's version.
    command : str
        The exact command line, or ``python`` when called from the library.
    seed : int
        Root seed (the generated entropy when none was given).
    bit_generator : str
        numpy bit generator used by every block.
    block_size : int
        Samples per block (part of the reproducibility contract).
    noise : str
        Sampler that drew the samples: a built-in name, or a user's SPEC.
    sampler_origin : str
        What identifies the sampler's code: ``built-in``, ``sha256:<hex>`` of a user's file,
        or the version of the distribution that provides a user's module.
    versions : dict
        Python and library versions.
    platform : str
        Operating system and machine.
    created_utc : str
        ISO 8601 time the result was made; the only field that changes on a replay.
    backend, scheduler, workers
        Where the blocks ran (see :class:`Execution`); results do not depend on them.
    """

    tool_version: str
    command: str
    seed: int
    bit_generator: str
    block_size: int
    noise: str
    sampler_origin: str
    versions: dict[str, str]
    platform: str
    created_utc: str
    backend: str
    scheduler: str
    workers: int


def collect(
    *,
    execution: Execution,
    seed: int,
    bit_generator: str,
    block_size: int,
    noise: str,
    sampler_origin: str = "built-in",
) -> Provenance:
    """Provenance of a run made now by this process."""
    argv = sys.argv if sys.argv and sys.argv[0] else ["python"]
    command = "gumbelcheck " + shlex.join(argv[1:]) if _is_cli(argv[0]) else "python"
    return Provenance(
        tool_version=__version__,
        command=command,
        seed=seed,
        bit_generator=bit_generator,
        block_size=block_size,
        noise=noise,
        sampler_origin=sampler_origin,
        versions=library_versions(),
        platform=platform.platform(),
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        backend=execution.backend,
        scheduler=execution.scheduler,
        workers=execution.workers,
    )


def _is_cli(program: str) -> bool:
    return program.endswith(("gumbelcheck", "gumbelcheck/__main__.py"))
