"""sha256 of files and streams, read in 1 MiB chunks.

Its own module, without torch, so that callers that only hash (the web app
storing an upload) do not pay for importing the model code.
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO

CHUNK_BYTES = 1 << 20


def stream_sha256(src: BinaryIO, *, copy_to: BinaryIO | None = None) -> str:
    """Hex sha256 of what is left to read in ``src``.

    With ``copy_to`` every chunk is also written there, in the same pass, so
    the bytes a reader of the copy gets are exactly the bytes that were hashed.
    """
    digest = hashlib.sha256()
    for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
        digest.update(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 digest of a file."""
    with open(path, "rb") as fh:
        return stream_sha256(fh)
