"""Fetch public EMG datasets with integrity checks.

Only datasets whose files may be redistributed and whose checksums are known are
listed in :data:`DOWNLOADS`. Each file is streamed to a temporary file in the
destination folder while its sha256 is computed, and renamed into place only when
size and hash match, so an interrupted or corrupted transfer never leaves a file
that looks complete. Standard library only (``urllib``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emgcore.digest import file_sha256
from emgcore.errors import EmgCoreError

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 16


class DownloadError(EmgCoreError):
    """A dataset file could not be fetched or failed its integrity check."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a downloadable dataset: its name, size in bytes and sha256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteDataset:
    """A downloadable dataset: where it lives online and what it must contain."""

    name: str
    folder: str
    base_url: str
    files: tuple[RemoteFile, ...]
    citation: str
    license: str


#: Downloadable datasets. Sizes and sha256 are those of PhysioNet's emgdb 1.0.0
#: SHA256SUMS.txt (see shared/data/physionet-emgdb/PROVENANCE.md).
DOWNLOADS: dict[str, RemoteDataset] = {
    "emgdb": RemoteDataset(
        name="emgdb",
        folder="physionet-emgdb",
        base_url="https://physionet.org/files/emgdb/1.0.0/",
        files=(
            RemoteFile(
                "emg_healthy.dat",
                101720,
                "4990f34f0ffb314f6ce70c1d2089b7ce41fa96d19fcd9fb334815ca5033966fd",
            ),
            RemoteFile(
                "emg_healthy.hea",
                300,
                "61221ce33e167d246ec2ea8984ce2f25882b32b4d90bd7ef785c7b56ef95bac5",
            ),
            RemoteFile(
                "emg_myopathy.dat",
                220674,
                "2c310a0f61843a5a5e906d413b6ff7f51370a91e516344af511c7fe6da9eaf7f",
            ),
            RemoteFile(
                "emg_myopathy.hea",
                362,
                "752093a1e3af87cd87e39f553b8725133f57a75413661208e5d93c8d2c60e73b",
            ),
            RemoteFile(
                "emg_neuropathy.dat",
                295716,
                "108c6c71d3792f3dba645539bd9241119fb4c6a3a0f3e515399694b072375dd5",
            ),
            RemoteFile(
                "emg_neuropathy.hea",
                346,
                "a424c80b6a5cc5733456f0848c2650321cac3658d9b02b845e08b619b2807ce0",
            ),
        ),
        citation=(
            "Examples of Electromyograms (emgdb 1.0.0), PhysioNet, "
            "doi:10.13026/C24S3D; Goldberger AL et al., Circulation "
            "101(23):e215-e220 (2000)."
        ),
        license="Open Data Commons Attribution License v1.0",
    ),
}


@dataclass(frozen=True)
class FileResult:
    """What :func:`download_dataset` did with one file."""

    path: Path
    status: str  # "downloaded" or "present"


def _default_dest(folder: str) -> Path:
    from emgcore.datasets import DATA_DIR_ENV, _default_data_dir

    root = os.environ.get(DATA_DIR_ENV)
    return (Path(root) if root else _default_data_dir()) / folder


def _fetch(url: str, expected: RemoteFile, dest: Path, timeout_s: float) -> None:
    """Stream ``url`` into ``dest`` via a temp file, checking size and sha256."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{expected.name}.", suffix=".part", dir=dest.parent
    )
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        n_bytes = 0
        request = urllib.request.Request(url, headers={"User-Agent": "myolens-emgcore"})
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                while chunk := response.read(_CHUNK_BYTES):
                    n_bytes += len(chunk)
                    if n_bytes > expected.size:
                        raise DownloadError(
                            f"{url} is larger than the expected {expected.size} bytes; "
                            "download stopped and the partial file deleted."
                        )
                    h.update(chunk)
                    out.write(chunk)
        digest = h.hexdigest()
        if n_bytes != expected.size or digest != expected.sha256:
            raise DownloadError(
                f"{url} failed its integrity check: got {n_bytes} bytes with sha256 "
                f"{digest}, expected {expected.size} bytes with sha256 "
                f"{expected.sha256}; the downloaded file was deleted."
            )
        os.replace(tmp, dest)
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"Could not download {url}: HTTP {exc.code} {exc.reason}."
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            reason = f"no answer within {timeout_s:g} s"
        raise DownloadError(f"Could not download {url}: {reason}.") from None
    except TimeoutError:
        raise DownloadError(
            f"Could not download {url}: no answer within {timeout_s:g} s."
        ) from None
    except ConnectionError as exc:
        raise DownloadError(f"Could not download {url}: {exc}.") from None
    finally:
        tmp.unlink(missing_ok=True)


def download_dataset(
    name: str,
    *,
    dest: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    timeout_s: float = 30.0,
) -> list[FileResult]:
    """Download every file of a registered dataset, checking each sha256.

    Files already present with the right sha256 are left alone, so running it
    twice downloads nothing the second time. A present file with the wrong hash
    is downloaded again.

    Parameters
    ----------
    name : str
        A key of :data:`DOWNLOADS` (``"emgdb"``).
    dest : path-like, optional
        Destination folder (created if needed). Default:
        ``$EMG_DATA_DIR/<dataset folder>`` (``../shared/data/physionet-emgdb``
        without the variable).
    base_url : str, optional
        Where the files are, a URL ending in the dataset's folder; default the
        official one (PhysioNet). A trailing ``/`` is added if missing.
    timeout_s : float
        Socket timeout in seconds for each request.

    Returns
    -------
    list of FileResult
        One per file, in registry order, with status ``"downloaded"`` or
        ``"present"``.

    Raises
    ------
    DownloadError
        On an HTTP error, a network failure or timeout, or a size/sha256
        mismatch; nothing partial is left in ``dest``.
        Also raised if ``name`` is not a downloadable dataset.
    """
    if name not in DOWNLOADS:
        known = ", ".join(repr(k) for k in DOWNLOADS)
        raise DownloadError(
            f"Unknown dataset {name!r} for download; downloadable datasets: {known}."
        )
    spec = DOWNLOADS[name]
    folder = Path(dest) if dest is not None else _default_dest(spec.folder)
    url_root = base_url or spec.base_url
    if not url_root.endswith("/"):
        url_root += "/"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create the folder {folder}: {exc}.") from None
    results = []
    for remote in spec.files:
        path = folder / remote.name
        if path.is_file():
            if file_sha256(path) == remote.sha256:
                logger.info("%s is present with the right sha256", path)
                results.append(FileResult(path, "present"))
                continue
            logger.warning("%s has the wrong sha256; downloading it again", path)
        url = url_root + remote.name
        logger.info("downloading %s", url)
        _fetch(url, remote, path, timeout_s)
        results.append(FileResult(path, "downloaded"))
    return results
