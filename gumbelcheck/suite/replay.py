"""Replay a suite's results directory and verify every report bit for bit."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from gumbelcheck._version import __version__
from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.core.result import Summary
from gumbelcheck.output.json import jsonable
from gumbelcheck.output.manifest import MANIFEST_FORMAT, SELF_HASH, manifest_hash, sha256
from gumbelcheck.suite.run import SuiteProgress, run_suite
from gumbelcheck.suite.spec import parse_suite


@dataclass(frozen=True, kw_only=True)
class FileCheck:
    """The outcome for one report of the replayed directory.

    Attributes
    ----------
    file : str
        Report file name.
    status : str
        ``identical``; ``edited`` (the file no longer matches the SHA-256 its manifest
        recorded); ``missing``; ``differs`` (the rerun gives other bytes); or
        ``verdict-matches`` (bytes differ, versions differ, the verdict is the same).
    detail : str
        What differs and its likely cause.
    """

    file: str
    status: str
    detail: str

    @property
    def passed(self) -> bool:
        """True for ``identical`` and ``verdict-matches``."""
        return self.status in ("identical", "verdict-matches")


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    """Result of :func:`replay`.

    Attributes
    ----------
    directory : str
        The replayed results directory.
    versions_recorded, versions_now : dict
        Tool and library versions in the manifest and in this process.
    files : tuple of FileCheck
        One entry per report.
    """

    check: ClassVar[str] = "replay"
    directory: str
    versions_recorded: dict[str, str]
    versions_now: dict[str, str]
    files: tuple[FileCheck, ...]

    @property
    def versions_match(self) -> bool:
        """True when the tool and every library have the recorded version."""
        return self.versions_recorded == self.versions_now

    @property
    def passed(self) -> bool:
        """True when every report was reproduced."""
        return all(f.passed for f in self.files)

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    def summary(self) -> Summary:
        """The replay as a check: every report must be reproduced."""
        bad = [f for f in self.files if not f.passed]
        return Summary(
            check=self.check,
            verdict=self.verdict,
            hard_failure=bool(bad),
            null_hypothesis="a rerun with the recorded seeds reproduces every report byte for byte",
            rule="sha256 + rerun",
            test="byte-for-byte comparison",
            statistic=float(len(bad)),
            df=None,
            pvalue=float("nan"),
            log10_pvalue=float("nan"),
            alpha=float("nan"),
            effect=f"{len(self.files) - len(bad)}/{len(self.files)} reports reproduced",
            mde="",
            samples=None,
            reason="; ".join(f"{f.file}: {f.status}" for f in bad),
            figures={"versions_match": self.versions_match},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible types."""
        return jsonable({**self.summary().flat(), **jsonable(self)})


def _versions(manifest_or_now: dict[str, Any] | None = None) -> dict[str, str]:
    if manifest_or_now is None:
        return {"gumbelcheck": __version__, **provenance.library_versions()}
    return {"gumbelcheck": str(manifest_or_now.get("tool_version")), **manifest_or_now["versions"]}


#: The keys of a manifest, with their JSON types.
_MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "tool_version": str,
    "versions": dict,
    "suite_toml": str,
    "checks": list,
    SELF_HASH: str,
}

#: The keys of each entry of a manifest's ``checks``.
_CHECK_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "file": str,
    "sha256": str,
    "verdict": str,
}


def load_manifest(directory: Path) -> dict[str, Any]:
    """Read and validate a results directory's manifest.json; InputError naming the first
    problem (missing or mistyped keys, a report outside the folder, no checks at all)."""
    path = directory / "manifest.json"
    where = str(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{str(directory)!r} has no manifest.json; give a folder written by "
            "gumbelcheck suite --out"
        ) from None
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {where!r}: {' '.join(str(error).split())}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputError(
            f"{where!r} is not a gumbelcheck manifest of format {MANIFEST_FORMAT}; "
            "regenerate it with gumbelcheck suite --out"
        )
    _check_keys(manifest, _MANIFEST_KEYS, where)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest["versions"].items()):
        raise InputError(f"{where!r}: versions must map names to version strings")
    if not manifest["checks"]:
        raise InputError(f"{where!r} lists no checks: there is nothing to verify")
    for position, item in enumerate(manifest["checks"]):
        if not isinstance(item, dict):
            raise InputError(f"{where!r}: checks[{position}] is not an object")
        _check_keys(item, _CHECK_KEYS, f"{where} checks[{position}]")
        file = item["file"]
        if file != Path(file).name or file.startswith(".") or "\\" in file:
            raise InputError(
                f"{where!r}: checks[{position}] names the file {file!r}, which is not a plain "
                "file name in the folder; a manifest may only name its own reports"
            )
    return manifest


def _check_keys(data: dict[str, Any], keys: dict[str, Any], where: str) -> None:
    for key, kind in keys.items():
        if key not in data:
            raise InputError(
                f"{where!r} has no {key!r}; regenerate it with gumbelcheck suite --out"
            )
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise InputError(
                f"{where!r}: {key!r} is a {type(data[key]).__name__}, not a "
                f"{getattr(kind, '__name__', kind)}; regenerate it with gumbelcheck suite --out"
            )


def replay(
    directory: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: SuiteProgress | None = None,
) -> ReplayResult:
    """Rerun the suite recorded in ``directory/manifest.json`` and compare every report.

    Each report is first checked against the SHA-256 its manifest recorded (a mismatch means
    it was edited after the run), then against the bytes of the rerun. numpy does not
    promise identical Generator streams across versions, so when the tool or a library
    version differs from the recorded one, differing bytes are accepted if the verdict is
    the same, and the result says so.
    """
    directory = Path(directory)
    manifest = load_manifest(directory)
    spec = parse_suite(manifest["suite_toml"], f"{directory}/manifest.json")
    listed = [item["name"] for item in manifest["checks"]]
    if sorted(listed) != sorted(check.name for check in spec.checks):
        raise InputError(
            f"{directory}/manifest.json lists the reports {sorted(listed)} but its suite has the "
            f"checks {sorted(c.name for c in spec.checks)}; regenerate it with gumbelcheck suite"
        )
    integrity = []
    if manifest_hash(manifest) != manifest[SELF_HASH]:
        integrity.append(
            FileCheck(
                file="manifest.json",
                status="edited",
                detail="does not match its own SHA-256: the manifest was edited after the run",
            )
        )
    recorded, now = _versions(manifest), _versions()
    suite = run_suite(spec, workers=workers, scheduler=scheduler, progress=progress)
    rerun = {e.name: e for e in suite.entries}
    changed = ", ".join(
        f"{name} {recorded.get(name)} -> {now.get(name)}"
        for name in sorted(set(recorded) | set(now))
        if recorded.get(name) != now.get(name)
    )
    checks = integrity
    for item in manifest["checks"]:
        name, path = item["name"], directory / item["file"]
        entry = rerun.get(name)
        if not path.is_file() or path.is_symlink():
            checks.append(FileCheck(file=item["file"], status="missing", detail="file is gone"))
            continue
        data = path.read_bytes()  # bytes: a changed line ending is a difference too
        text = data.decode("utf-8", errors="replace")
        if sha256(data) != item["sha256"]:
            checks.append(
                FileCheck(
                    file=item["file"],
                    status="edited",
                    detail="does not match the SHA-256 in manifest.json: edited after the run; "
                    + _first_difference(entry.csv_text() if entry else "", text),
                )
            )
            continue
        fresh = entry.csv_text() if entry else ""
        if fresh.encode("utf-8") == data:
            checks.append(FileCheck(file=item["file"], status="identical", detail=""))
        elif changed and entry is not None and entry.row()["verdict"] == item["verdict"]:
            checks.append(
                FileCheck(
                    file=item["file"],
                    status="verdict-matches",
                    detail=f"versions differ ({changed}): bytes differ, verdict "
                    f"{item['verdict']} reproduced",
                )
            )
        else:
            cause = (
                f"versions differ ({changed}) and the verdict changed"
                if changed
                else "same versions: the code or the platform changed the result"
            )
            checks.append(
                FileCheck(
                    file=item["file"],
                    status="differs",
                    detail=f"{cause}; " + _first_difference(fresh, text),
                )
            )
    return ReplayResult(
        directory=str(directory), versions_recorded=recorded, versions_now=now, files=tuple(checks)
    )


def _first_difference(expected: str, found: str) -> str:
    """The first differing line, as 'line N: expected ... found ...'."""
    a, b = expected.splitlines(), found.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, _, j1, _ in matcher.get_opcodes():
        if tag != "equal":
            was = a[i1] if i1 < len(a) else "<end>"
            now = b[j1] if j1 < len(b) else "<end>"
            return f"line {min(i1, j1) + 1}: rerun gives {was!r}, file has {now!r}"
    return "no line differs (line endings?)"
