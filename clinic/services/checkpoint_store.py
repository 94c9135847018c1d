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

import os
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from clinic.stored_files import stored_file_copy_verified

#: Prefix of ``ModelVersion.checkpoint_path`` for a checkpoint in file storage.
STORED_CHECKPOINT = "storage:"


def checkpoint_is_stored(checkpoint_path: str) -> bool:
    return checkpoint_path.startswith(STORED_CHECKPOINT)


def checkpoint_store(path: Path, sha256: str) -> str:
    """Put a local checkpoint into file storage; its ``storage:`` path."""
    name = f"models/disease/{sha256[:2]}/{sha256}.pt"
    if not default_storage.exists(name):  # content-addressed: same bytes
        with open(path, "rb") as fh:
            stored = default_storage.save(name, File(fh, name=path.name))
        if stored != name:
            default_storage.delete(stored)  # stored meanwhile by someone else
    return STORED_CHECKPOINT + name


def checkpoint_cache_file(sha256: str) -> Path:
    """This host's copy of a stored checkpoint, named by its sha256."""
    return Path(settings.EMG_CHECKPOINT_CACHE_DIR) / f"{sha256}.pt"


def checkpoint_fetch(checkpoint_path: str, sha256: str, *, label: str) -> Path:
    """Copy a stored checkpoint into the cache, verified; raises StoredFileError.

    Written under a private name and renamed, so concurrent workers on one host
    never load half a file.
    """
    path = checkpoint_cache_file(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    name = checkpoint_path.removeprefix(STORED_CHECKPOINT)
    stored_file_copy_verified(name, sha256, part, label=label)
    os.replace(part, path)
    return path
