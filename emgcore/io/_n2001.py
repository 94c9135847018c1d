"""EMGLAB N2001 raw needle-EMG files: headerless int16 little-endian ``.bin``.

The files carry no header, so they are recognised by the dataset's file-name
pattern ``N2001<A|C|M><subject 2 digits><BB|VM><record 2 digits>.bin`` (class
letter A = ALS, C = control, M = myopathy; muscle BB = biceps brachii, VM =
vastus medialis). The sampling rate is the literature value for N2001,
23437.5 Hz (not verifiable from the files themselves; see the dataset's
PROVENANCE.md); pass ``sfreq`` to override it. Values are ADC counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file, check_size
from emgcore.recording import Recording

N2001_SFREQ_HZ = 23437.5
N2001_NAME = re.compile(r"^N2001([ACM])(\d\d)(BB|VM)(\d\d)\.bin$", re.IGNORECASE)
_CLASSES = {"A": "ALS", "C": "control", "M": "myopathy"}
_MUSCLES = {"BB": "biceps brachii", "VM": "vastus medialis"}


def parse_n2001_name(name: str) -> dict[str, str] | None:
    """Subject, class and muscle from an N2001 file name, or None if it does not match.

    Examples
    --------
    >>> parse_n2001_name("N2001M02BB01.bin")["subject"]
    'M02'
    """
    match = N2001_NAME.match(name)
    if match is None:
        return None
    letter, number, muscle, record = (g.upper() for g in match.groups())
    return {
        "subject": f"{letter}{number}",
        "class": _CLASSES[letter],
        "muscle": muscle,
        "muscle_name": _MUSCLES[muscle],
        "record": record,
    }


def read_n2001(path: Path, *, sfreq: float | None = None) -> Recording:
    """Read one N2001 ``.bin`` file.

    Parameters
    ----------
    path : Path
        The raw file (any name; metadata is parsed only from dataset names).
    sfreq : float | None
        Sampling rate in Hz; defaults to :data:`N2001_SFREQ_HZ` (23437.5 Hz).

    Returns
    -------
    recording : Recording
        One channel ``"EMG"`` in ADC ``"counts"``, shape (1, n_times);
        ``source`` holds ``subject``, ``class``, ``muscle`` when the name matches.

    Raises
    ------
    InvalidRecordingError
        If the byte count is odd (not whole int16 samples) or limits are broken.
    """
    path = check_file(path)
    size = path.stat().st_size
    if size % 2:
        raise InvalidRecordingError(
            f"{path}: {size} bytes is an odd number, so the file cannot hold whole "
            "16-bit samples (truncated or not an N2001 file)."
        )
    check_size(path, 1, size // 2)
    data = np.fromfile(path, dtype="<i2").astype(np.float32)[np.newaxis, :]
    source: dict[str, object] = {"format": "n2001", "path": str(path)}
    meta = parse_n2001_name(path.name)
    if meta is not None:
        source.update(meta)
    return Recording(
        data=data,
        sfreq=N2001_SFREQ_HZ if sfreq is None else float(sfreq),
        ch_names=("EMG",),
        units=("counts",),
        source=source,
    )
