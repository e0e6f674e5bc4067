"""What an index generation promises about its files, and checking that it still holds.

At build time every file of a generation is recorded in the manifest with its size and
SHA-256 (``checksums``), and the manifest records a digest of itself. A load checks sizes
(a few ``stat`` calls) and hashes; hashing is skipped for a file whose inode, size, mtime and
ctime equal those in the generation's stamp (``.verified.json``) from an earlier successful
hash, when the file's ctime predates that stamp by at least ``STAMP_MARGIN_NS``. Writing to a
file, or replacing it, always moves its ctime (which no user can set back), so damage made
after a check is always hashed again; the margin covers file systems whose timestamps tick
coarsely. ``full=True`` ignores the stamp (bit rot that changes no timestamp).

Files are copied between generations, never hard-linked, with their hash checked on the way
(``copy_verified``): damage to one generation, or to the export cache, cannot reach another.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
STAMP = ".verified.json"
STAMP_MARGIN_NS = 2_000_000_000


class Damage(Exception):
    """A file of a generation is not what its manifest recorded (the message says how)."""


def file_digest(path: Path) -> dict[str, Any]:
    """``{"bytes": size, "sha256": hex}`` of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file under ``folder`` by relative path, except hidden ones
    (the lease and the stamp) and the manifest (which records its own digest)."""
    found: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.rglob("*")):
        name = file.relative_to(folder).as_posix()
        if file.is_file() and not file.name.startswith(".") and name != "manifest.json":
            found[name] = file_digest(file)
    return found


def copy_verified(source: Path, target: Path, expected: dict[str, Any]) -> None:
    """Copy ``source`` to ``target`` (a new inode), hashing while copying; raises ``Damage``
    (and leaves no ``target``) if the bytes are not the ``expected`` ones."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(source, "rb") as reader, open(target, "xb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
    except FileNotFoundError as exc:
        target.unlink(missing_ok=True)
        raise Damage(f"{source.name} is missing") from exc
    if size != expected.get("bytes") or digest.hexdigest() != expected.get("sha256"):
        target.unlink()
        raise Damage(f"{source.name} does not match its recorded SHA-256")


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's content, without the digest itself (key order ignored)."""
    content = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def check_sizes(folder: Path, recorded: dict[str, dict[str, Any]]) -> None:
    """Every recorded file exists with its recorded size."""
    for name, info in recorded.items():
        try:
            size = (folder / name).stat().st_size
        except OSError:
            raise Damage(f"{name} is missing") from None
        if size != info["bytes"]:
            raise Damage(f"{name} is {size:,} bytes, not {info['bytes']:,}")


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def _read_stamp(folder: Path) -> dict[str, Any]:
    try:
        stamp = json.loads((folder / STAMP).read_text())
        return stamp if isinstance(stamp, dict) and isinstance(stamp.get("files"), dict) else {}
    except (OSError, ValueError):
        return {}


def _write_stamp(folder: Path, identities: dict[str, list[int]], at_ns: int) -> None:
    """Best effort: a read-only index is simply hashed on every load."""
    temporary = folder / f"{STAMP}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        temporary.write_text(json.dumps({"at_ns": at_ns, "files": identities}))
        os.replace(temporary, folder / STAMP)
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)


def check_hashes(folder: Path, recorded: dict[str, dict[str, Any]], full: bool = False) -> None:
    """Every recorded file has its recorded SHA-256 (files unchanged since a stamped check are
    not read again, unless ``full``)."""
    stamp = {} if full else _read_stamp(folder)
    stamped, stamped_at = stamp.get("files", {}), stamp.get("at_ns", 0)
    identities: dict[str, list[int]] = {}
    hashed = False
    started = time.time_ns()
    for name, info in recorded.items():
        path = folder / name
        try:
            identity = _identity(path.stat())
        except OSError:
            raise Damage(f"{name} is missing") from None
        identities[name] = identity
        if stamped.get(name) == identity and identity[3] + STAMP_MARGIN_NS <= stamped_at:
            continue
        if file_digest(path) != {"bytes": info["bytes"], "sha256": info["sha256"]}:
            raise Damage(f"{name} does not match its recorded SHA-256")
        hashed = True
    if hashed or not stamped:
        _write_stamp(folder, identities, started)
