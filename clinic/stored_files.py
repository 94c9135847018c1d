"""Reading stored files back, with their sha256 checked on every read.

Recordings, calibration files and adapted gesture checkpoints go through
Django's storage API (``STORAGES["default"]``): the local filesystem under
``var/`` by default, S3-compatible object storage with ``EMG_STORAGE=s3``
(docs/OPERATIONS.md). Web and workers may run on different hosts, so nothing
may trust that a stored object is still the one that was uploaded: every read
copies it while hashing and compares with the sha256 recorded at upload time.
A missing or altered object raises :class:`StoredFileError`, whose message is
written for the user (the job ends FAILED with it), never a wrong result.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path
from typing import IO

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from clinic.errors import UserFacingError

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
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


def uploaded_sha256(f: UploadedFile) -> str:
    """sha256 of an uploaded file, recorded before it is stored; rewinds it."""
    digest = hashlib.sha256()
    f.seek(0)
    for chunk in f.chunks(_CHUNK):
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def _copy_hashed(name: str, dst: IO[bytes], *, label: str) -> str:
    """Copy stored object ``name`` into ``dst``; its sha256 hex digest."""
    digest = hashlib.sha256()
    try:
        src = default_storage.open(name, "rb")
    except FileNotFoundError:
        logger.error("Stored file %s (%s) is missing", name, label)
        raise StoredFileMissing(MISSING.format(label=label)) from None
    with src:
        # One pass: the bytes the reader gets are the bytes that were hashed.
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


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
