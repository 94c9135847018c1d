"""Checkpoints kept in file storage: retrained candidates.

A training worker writes a candidate; the analysis workers that later use it
may run on other hosts, so the candidate goes to the default storage (object
storage with ``EMG_STORAGE=s3``) under its content address, and its
ModelVersion's ``checkpoint_path`` is ``storage:<name>``. Each host keeps one
local copy per sha256 in ``EMG_CHECKPOINT_CACHE_DIR``, verified when fetched
and again before every use (clinic.services.analysis). The shipped models stay
plain local files under ``EMG_MODEL_DIR`` (they are part of the image).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from clinic.stored_files import local_file_store, stored_file_cached_copy

#: Prefix of ``ModelVersion.checkpoint_path`` for a checkpoint in file storage.
STORED_CHECKPOINT = "storage:"
#: Where retrained candidates lie in the file store (clinic.stored_files).
CHECKPOINTS_PREFIX = "models/disease"


def checkpoint_is_stored(checkpoint_path: str) -> bool:
    return checkpoint_path.startswith(STORED_CHECKPOINT)


def checkpoint_store(path: Path, sha256: str | None = None) -> str:
    """Put a local ``.pt`` checkpoint into file storage; its ``storage:`` path."""
    return STORED_CHECKPOINT + local_file_store(
        path, prefix=CHECKPOINTS_PREFIX, sha256=sha256
    )


def checkpoint_cache_file(sha256: str) -> Path:
    """This host's copy of a stored checkpoint, named by its sha256."""
    return Path(settings.EMG_CHECKPOINT_CACHE_DIR) / f"{sha256}.pt"


def checkpoint_fetch(checkpoint_path: str, sha256: str, *, label: str) -> Path:
    """Copy a stored checkpoint into the cache, verified; raises StoredFileError."""
    return stored_file_cached_copy(
        checkpoint_path.removeprefix(STORED_CHECKPOINT),
        sha256,
        checkpoint_cache_file(sha256),
        label=label,
    )
