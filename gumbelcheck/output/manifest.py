"""A suite's results folder: each check's CSV and manifest.json with their SHA-256s."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gumbelcheck.core import provenance
from gumbelcheck.core.errors import InputError
from gumbelcheck.output.json import jsonable, to_json

if TYPE_CHECKING:
    from gumbelcheck.suite.run import SuiteResult

#: Version of the manifest.json layout (2: the manifest carries its own SHA-256).
MANIFEST_FORMAT = 2

#: The manifest key holding the SHA-256 of the rest of the manifest.
SELF_HASH = "manifest_sha256"


def sha256(data: str | bytes) -> str:
    """SHA-256 of a report's bytes (text as UTF-8), as hex."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def manifest_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 of a manifest without its own hash: canonical JSON (sorted keys), so that any
    edit of a value, a verdict or a file's hash shows."""
    body = {key: value for key, value in manifest.items() if key != SELF_HASH}
    return sha256(json.dumps(body, sort_keys=True, allow_nan=False))


#: The lock file in a results folder held while a suite runs and writes there.
LOCK_NAME = ".gumbelcheck.lock"


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock (creating the folder): a second suite writing the same folder is
    refused with one line instead of mixing its files with this one's."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(
            f"--out {str(out)!r} is being written by another gumbelcheck suite right now; wait "
            "for it to finish or choose another folder"
        ) from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_outputs(result: SuiteResult, out: Path) -> Path:
    """Write each check's CSV and manifest.json (provenance, verdicts, SHA-256s) to ``out``,
    as a unit.

    Every file is first written to a staging folder beside the reports (a full disk fails
    there, leaving ``out`` as it was); then the reports are renamed into place, the reports
    of an earlier suite that this one does not write are removed, and manifest.json comes
    last. Hold :func:`locked` around the run and this call.
    """
    texts = {f"{entry.name}.csv": entry.csv_text() for entry in result.entries}
    files = []
    for entry in result.entries:
        row = entry.row()
        files.append(
            {
                "name": entry.name,
                "check": entry.spec.check,
                "params": entry.spec.params,
                "verdict": row["verdict"],
                "log10_pvalue": row["log10_pvalue"],
                "holm_log10_pvalue": row["holm_log10_pvalue"],
                "file": f"{entry.name}.csv",
                "sha256": sha256(texts[f"{entry.name}.csv"]),
            }
        )
    first = jsonable(result.entries[0].result.csv_header())
    manifest = {
        "format": MANIFEST_FORMAT,
        "tool_version": first.get("tool_version"),
        "command": first.get("command"),
        "created_utc": first.get("created_utc"),
        "versions": provenance.library_versions(),
        "platform": first.get("platform"),
        "backend": first.get("backend"),
        "scheduler": first.get("scheduler"),
        "workers": first.get("workers"),
        "alpha": result.spec.alpha,
        "correction": "holm",
        "verdict": result.verdict,
        "suite_toml": result.spec.text,
        "checks": files,
    }
    manifest = jsonable(manifest)
    manifest[SELF_HASH] = manifest_hash(manifest)
    out.mkdir(parents=True, exist_ok=True)
    earlier = _files_of(out / "manifest.json")
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))
    try:
        for name, text in texts.items():
            (staging / name).write_bytes(text.encode("utf-8"))
        (staging / "manifest.json").write_text(to_json(manifest), encoding="utf-8")
        for name in texts:
            os.replace(staging / name, out / name)
        for stale in earlier - set(texts):
            (out / stale).unlink(missing_ok=True)
        path = out / "manifest.json"
        os.replace(staging / "manifest.json", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _files_of(manifest: Path) -> set[str]:
    """The report files an earlier manifest lists (plain names only), or none."""
    try:
        checks = json.loads(manifest.read_text(encoding="utf-8")).get("checks", [])
        names = {str(item["file"]) for item in checks}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return set()
    return {name for name in names if name == Path(name).name and not name.startswith(".")}
