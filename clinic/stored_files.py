"""The clinic's one file store: content-addressed, every read verified.

Recordings, calibration files, adapted gesture checkpoints and retrained
disease candidates go through Django's storage API (``STORAGES["default"]``):
the local filesystem under ``var/`` by default, S3-compatible object storage
with ``EMG_STORAGE=s3`` (docs/OPERATIONS.md). This module is the only place
that hashes what is stored, names it and reads it back.

Names are content addresses, ``<prefix>/<sha256[:2]>/<sha256><ext>``: the same
bytes always get the same name, so stored bytes are never replaced and a
second copy of a file reuses the first. These are the names rows written
before this module existed already hold, so they stay readable.

Web and workers may run on different hosts, so nothing may trust that a stored
object is still the one that was stored: every read copies it while hashing
and compares with the sha256 recorded when it was stored. A missing or altered
object raises :class:`StoredFileError`, whose message is written for the user
(the job ends FAILED with it), never a wrong result.

Shipped models are not in the store: they are plain files under
``EMG_MODEL_DIR`` (part of the image); :func:`model_dir_name` and
:func:`model_dir_path` name them in the registries.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from clinic.errors import UserFacingError
from emgcore.digest import file_sha256, stream_sha256

logger = logging.getLogger(__name__)

# Downloads up to this size stay in memory; larger ones spill to a temp file.
_SPOOL_BYTES = 8 * 1024 * 1024


class StoredFileError(UserFacingError):
    """A stored file is missing or does not match its recorded sha256."""


class StoredFileMissing(StoredFileError):
    pass


class StoredFileAltered(StoredFileError):
    pass


MISSING = (
    "The stored file {label} is missing from the file storage, so it was not "
    "used. Upload it again, or ask the operator to check the file storage."
)
ALTERED = (
    "The stored file {label} failed its integrity check: its contents changed "
    "after upload (its checksum no longer matches), so it was not used. Upload "
    "it again, or ask the operator to check the file storage."
)


# -- writing -----------------------------------------------------------------
def content_name(prefix: str, sha256: str, filename: str) -> str:
    """Storage name of content with this sha256; keeps ``filename``'s extension."""
    ext = os.path.splitext(filename)[1].lower()
    return f"{prefix}/{sha256[:2]}/{sha256}{ext}"


def uploaded_sha256(f: UploadedFile) -> str:
    """sha256 of an uploaded file, recorded before it is stored; rewinds it."""
    f.seek(0)
    sha = stream_sha256(f)
    f.seek(0)
    return sha


def _save_once(name: str, content: File) -> None:
    """Save ``content`` as ``name`` unless that name is already stored."""
    if default_storage.exists(name):
        return  # content-addressed: the stored bytes are these bytes
    stored = default_storage.save(name, content)
    if stored != name:
        # Someone stored the same content between exists() and save(); keep
        # theirs (same bytes) and drop our duplicate.
        default_storage.delete(stored)


@dataclass(frozen=True)
class StoredUpload:
    """What the store kept of one uploaded file (the columns of its row)."""

    name: str
    sha256: str
    size_bytes: int
    original_name: str

    def columns(self) -> dict[str, Any]:
        """The columns of its row (UploadFile, GestureCalibrationFile)."""
        return {
            "file": self.name,
            "original_name": self.original_name,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


def uploaded_file_store(
    f: UploadedFile, *, prefix: str, default_name: str
) -> StoredUpload:
    """Store an uploaded file under its content address.

    ``default_name`` stands in for a file sent without a name.
    """
    original_name = os.path.basename(f.name or default_name)[:255]
    sha = uploaded_sha256(f)
    name = content_name(prefix, sha, original_name)
    _save_once(name, File(f, name=original_name))
    return StoredUpload(
        name=name, sha256=sha, size_bytes=f.size, original_name=original_name
    )


def local_file_store(path: Path, *, prefix: str, sha256: str | None = None) -> str:
    """Store a local file (a checkpoint) under its content address; its name.

    ``sha256`` saves hashing the file again when the caller just did.
    """
    sha = sha256 or file_sha256(path)
    name = content_name(prefix, sha, path.name)
    with open(path, "rb") as fh:
        _save_once(name, File(fh, name=path.name))
    return name


def stored_files_audit(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The audit trail's record of stored files: name, sha256 and size each."""
    return [
        {"name": r.original_name, "sha256": r.sha256, "size": r.size_bytes}
        for r in rows
    ]


# -- reading, verified -------------------------------------------------------
def _copy_hashed(name: str, dst: IO[bytes], *, label: str) -> str:
    """Copy stored object ``name`` into ``dst``; its sha256 hex digest."""
    try:
        src = default_storage.open(name, "rb")
    except FileNotFoundError:
        logger.error("Stored file %s (%s) is missing", name, label)
        raise StoredFileMissing(MISSING.format(label=label)) from None
    with src:
        return stream_sha256(src, copy_to=dst)


def _check(name: str, actual: str, expected: str, *, label: str) -> None:
    if actual != expected:
        logger.error(
            "Stored file %s (%s) has sha256 %s, recorded %s",
            name,
            label,
            actual,
            expected,
        )
        raise StoredFileAltered(ALTERED.format(label=label))


def stored_file_copy_verified(
    name: str, expected_sha256: str, target: Path, *, label: str
) -> Path:
    """Copy stored object ``name`` to the local file ``target``, verified.

    Readers such as emgcore's need a local path. ``label`` names the file in
    the message (the user's file name, never the server's paths). On a
    mismatch ``target`` is removed, so nothing reads the altered bytes.
    """
    try:
        with open(target, "wb") as dst:
            actual = _copy_hashed(name, dst, label=label)
        _check(name, actual, expected_sha256, label=label)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def stored_file_cached_copy(
    name: str, expected_sha256: str, target: Path, *, label: str
) -> Path:
    """Like :func:`stored_file_copy_verified`, for a copy shared by processes.

    Written under a private name and renamed, so concurrent workers on one
    host never read half a file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    stored_file_copy_verified(name, expected_sha256, part, label=label)
    os.replace(part, target)
    return target


def stored_file_open_verified(
    name: str, expected_sha256: str, *, label: str
) -> IO[bytes]:
    """A verified copy of stored object ``name``, open for reading from 0.

    For downloads: the whole object is checked before the first byte is sent,
    so a client never receives altered bytes under a valid response.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
    try:
        actual = _copy_hashed(name, spool, label=label)
        _check(name, actual, expected_sha256, label=label)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


# -- shipped models under EMG_MODEL_DIR --------------------------------------
def model_dir_path(name: Path | str) -> Path:
    """A registered model file's local path: relative names are under EMG_MODEL_DIR."""
    path = Path(name)
    if not path.is_absolute():
        path = Path(settings.EMG_MODEL_DIR) / path
    return path


def model_dir_name(path: Path) -> str:
    """How a registry row names a local model file: relative to EMG_MODEL_DIR
    when it lies there (the image can move), else its absolute path."""
    model_dir = Path(settings.EMG_MODEL_DIR).resolve()
    try:
        return str(path.resolve().relative_to(model_dir))
    except ValueError:
        return str(path.resolve())
