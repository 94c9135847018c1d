"""NinaPro ``.mat`` sessions (DB1 and DB2 layouts), read with ``scipy.io.loadmat``.

Both databases store ``emg`` (n_times, n_chans), ``restimulus`` and
``rerepetition`` (n_times, 1), ``subject`` and ``exercise``. They differ in the
hardware and rate, which the files do not record, so the variant is told from
the channel count:

- DB1: 10 Otto Bock electrodes, RMS-rectified envelope, 100 Hz.
- DB2: 12 Delsys Trigno electrodes, raw sEMG, 2000 Hz.

A ``frequency`` variable, if a file has one, wins over the channel count; the
``sfreq`` argument wins over both. Units are not stored in the files and are
reported as ``"a.u."``.

Trials: NinaPro calls one execution of a movement a *repetition*; a trial is one
contiguous run of non-zero ``rerepetition`` (``restimulus`` gives its movement).
See :func:`emgcore.io.gestures.read_ninapro_gestures`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file, check_size
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

NINAPRO_SFREQ_HZ = {"db1": 100.0, "db2": 2000.0}
_CHANNELS_TO_DB = {10: "db1", 12: "db2"}
_NAME = re.compile(r"^S(\d+)_(?:A\d+_E(\d+)|E(\d+)_A\d+)", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class NinaproSession:
    """One NinaPro ``.mat`` file.

    Attributes
    ----------
    recording : Recording
        EMG, shape (n_chans, n_times); ``source["database"]`` is ``"db1"`` or
        ``"db2"``.
    restimulus : ndarray of int64, shape (n_times,)
        Movement label per sample (0 = rest).
    rerepetition : ndarray of int64, shape (n_times,)
        Repetition index per sample (0 = rest).
    subject : int
        Subject number.
    exercise : int
        Exercise number.
    """

    recording: Recording
    restimulus: NDArray[np.int64]
    rerepetition: NDArray[np.int64]
    subject: int
    exercise: int

    @property
    def database(self) -> str:
        return str(self.recording.source["database"])


def read_ninapro(path: str | Path, *, sfreq: float | None = None) -> NinaproSession:
    """Read a NinaPro DB1 or DB2 ``.mat`` file.

    Parameters
    ----------
    path : str | Path
        The ``S<n>_A1_E<k>.mat`` (DB1) or ``S<n>_E<k>_A1.mat`` (DB2) file.
    sfreq : float | None
        Sampling rate in Hz, overriding the database default.

    Returns
    -------
    session : NinaproSession

    Raises
    ------
    InvalidRecordingError
        If the file is not a MATLAB file, lacks ``emg``/``restimulus``/
        ``rerepetition``, the label vectors do not match the EMG length, or the
        channel count is neither 10 nor 12 and no rate was given.
    """
    from scipy.io import loadmat

    path = check_file(path)
    try:
        mat = loadmat(
            path,
            variable_names=(
                "emg",
                "restimulus",
                "rerepetition",
                "subject",
                "exercise",
                "frequency",
            ),
        )
    except NotImplementedError:
        raise InvalidRecordingError(
            f"{path}: MATLAB v7.3 (HDF5) files are not supported; save it with "
            "-v7 or older."
        ) from None
    except Exception:  # scipy raises ValueError/TypeError/OSError on junk
        logger.info("scipy could not read %s", path, exc_info=True)
        raise InvalidRecordingError(
            f"{path}: not a readable MATLAB .mat file (damaged, truncated or not a "
            "MATLAB file)."
        ) from None
    missing = [k for k in ("emg", "restimulus", "rerepetition") if k not in mat]
    if missing:
        raise InvalidRecordingError(
            f"{path}: not a NinaPro file: variable(s) {', '.join(missing)} missing."
        )
    emg = np.asarray(mat["emg"])
    if emg.ndim != 2 or not np.issubdtype(emg.dtype, np.number):
        raise InvalidRecordingError(
            f"{path}: 'emg' must be a numeric (n_times, n_chans) matrix, got shape "
            f"{emg.shape}."
        )
    n_times, n_chans = emg.shape
    check_size(path, n_chans, n_times)
    labels = {}
    for key in ("restimulus", "rerepetition"):
        vec = np.asarray(mat[key]).ravel()
        if vec.shape[0] != n_times:
            raise InvalidRecordingError(
                f"{path}: '{key}' has {vec.shape[0]} values but 'emg' has {n_times} "
                "samples."
            )
        labels[key] = vec.astype(np.int64)
    database = _CHANNELS_TO_DB.get(n_chans)
    rate = sfreq
    if rate is None and "frequency" in mat:
        rate = float(np.asarray(mat["frequency"]).ravel()[0])
    if rate is None:
        if database is None:
            raise InvalidRecordingError(
                f"{path}: {n_chans} EMG channels matches neither NinaPro DB1 (10, "
                "100 Hz) nor DB2 (12, 2000 Hz); give the sampling rate."
            )
        rate = NINAPRO_SFREQ_HZ[database]
    subject, exercise = _subject_exercise(path, mat)
    recording = Recording(
        data=np.ascontiguousarray(emg.T, dtype=np.float32),
        sfreq=float(rate),
        ch_names=tuple(f"emg{i + 1}" for i in range(n_chans)),
        units=("a.u.",) * n_chans,
        source={
            "format": "ninapro",
            "path": str(path),
            "database": database or "unknown",
            "subject": subject,
            "exercise": exercise,
        },
    )
    return NinaproSession(
        recording=recording,
        restimulus=labels["restimulus"],
        rerepetition=labels["rerepetition"],
        subject=subject,
        exercise=exercise,
    )


def _subject_exercise(path: Path, mat: dict) -> tuple[int, int]:
    """From the ``subject``/``exercise`` variables, else from the file name."""
    match = _NAME.match(path.name)
    from_name = (
        (int(match.group(1)), int(match.group(2) or match.group(3)))
        if match
        else (0, 0)
    )
    values = []
    for key, fallback in zip(("subject", "exercise"), from_name, strict=True):
        arr = np.asarray(mat.get(key, [])).ravel()
        values.append(int(arr[0]) if arr.size else fallback)
    return values[0], values[1]
