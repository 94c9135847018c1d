"""Readers for the gesture datasets' own file layouts.

Every reader returns :class:`GestureFile` objects: one continuous
:class:`~emgcore.Recording`, the per-sample labels, and the *trials* (one
execution of a gesture, as the dataset defines it) as ``(label, start, stop)``
sample ranges, so that a dataset adapter can preprocess the signal and cut
windows inside trials.

Trial definitions:

- ``myo-readings-dataset`` (:func:`read_myo_readings`): one ``.npz`` per session
  holds the original files ``k.txt`` (k = 0..7) as ``emg_k``/``label_k``; each
  becomes one GestureFile. A trial is each contiguous run of one label within
  that file (runs of the gesture k and the rest runs of 0 between them; ``0.txt``
  is one long rest trial). Labels are kept as stored (``69069-1/3.txt`` is
  labelled {0, 2} in the source).
- ``uci-emg-gestures-myo`` (:func:`read_uci_emg_gestures`): a trial is each
  contiguous run of one gesture label 1..7 (1 = rest); label 0 ("unmarked") is
  not a trial. The ~1 kHz stream has irregular millisecond timestamps; it is put
  on a uniform 1 kHz grid by sample-and-hold on ``time_ms`` (the Myo's native
  rate is 200 Hz, so the bandwidth is that of 200 Hz data).
- ``uci-semg-basic-hand-movements`` (:func:`read_uci_semg`): each row of a
  ``<grasp>_ch1``/``<grasp>_ch2`` array (30 x 3000 at 500 Hz) is one trial. The
  180 trials were recorded separately and are concatenated here
  (``continuous=False``): filter each trial on its own
  (:meth:`GestureFile.trial_recording`).
- NinaPro (:func:`read_ninapro_gestures`): a trial is one repetition, a
  contiguous run of non-zero ``rerepetition``; its label is ``restimulus``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.io._common import check_file
from emgcore.io.ninapro import NinaproSession, read_ninapro
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

MYO_READINGS_SFREQ_HZ = 200.0
MYO_READINGS_CLASSES = {
    0: "rest",
    1: "flexion",
    2: "extension",
    3: "radial deviation",
    4: "ulnar deviation",
    5: "pronation",
    6: "supination",
    7: "fist",
}
UCI_EMG_SFREQ_HZ = 1000.0
UCI_EMG_CLASSES = {
    0: "unmarked",
    1: "rest",
    2: "fist",
    3: "wrist flexion",
    4: "wrist extension",
    5: "radial deviation",
    6: "ulnar deviation",
    7: "extended palm",
}
UCI_SEMG_SFREQ_HZ = 500.0
UCI_SEMG_GRASPS = ("spher", "tip", "palm", "lat", "cyl", "hook")
UCI_SEMG_CLASSES = {
    0: "spherical",
    1: "tip",
    2: "palmar",
    3: "lateral",
    4: "cylindrical",
    5: "hook",
}


@dataclass(frozen=True)
class Trial:
    """One execution of a gesture: samples ``start:stop`` of the recording.

    Attributes
    ----------
    label : int
        Gesture label (dataset codes; see ``GestureFile.class_names``).
    start, stop : int
        Half-open sample range in the GestureFile's recording.
    repetition : int
        Repetition number (NinaPro's ``rerepetition``; elsewhere the 1-based
        count of trials with this label in the file).
    """

    label: int
    start: int
    stop: int
    repetition: int

    @property
    def n_times(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True, eq=False)
class GestureFile:
    """One continuous gesture recording with its labels and trials.

    Attributes
    ----------
    recording : Recording
        EMG, shape (n_chans, n_times).
    labels : ndarray of int64, shape (n_times,)
        Label per sample.
    trials : tuple of Trial
        Trials in time order.
    dataset : str
        Dataset folder name, e.g. ``"myo-readings-dataset"``.
    subject : str
        Subject id as the dataset gives it.
    session : str
        Session/series id within the subject.
    name : str
        Unique id within the dataset (e.g. ``"44444-1/3"``).
    class_names : Mapping[int, str]
        Label code -> gesture name.
    continuous : bool
        False when trials were recorded separately and only concatenated here;
        then preprocess each trial on its own.
    """

    recording: Recording
    labels: NDArray[np.int64]
    trials: tuple[Trial, ...]
    dataset: str
    subject: str
    session: str
    name: str
    class_names: Mapping[int, str] = field(default_factory=dict)
    continuous: bool = True

    def trial_recording(self, trial: Trial) -> Recording:
        """The samples of one trial as their own Recording (a view, not a copy)."""
        rec = self.recording
        return Recording(
            data=rec.data[:, trial.start : trial.stop],
            sfreq=rec.sfreq,
            ch_names=rec.ch_names,
            units=rec.units,
            source={**rec.source, "trial": [trial.label, trial.start, trial.stop]},
        )


def find_runs(
    labels: NDArray[np.integer], *, exclude: tuple[int, ...] = ()
) -> list[tuple[int, int, int]]:
    """Contiguous runs of equal labels as ``(label, start, stop)``.

    Parameters
    ----------
    labels : ndarray of int, shape (n_times,)
    exclude : tuple of int
        Labels whose runs are left out.

    Returns
    -------
    runs : list of (label, start, stop)
        Half-open sample ranges, in time order.
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [labels.size]))
    return [
        (int(labels[s]), int(s), int(e))
        for s, e in zip(starts, stops, strict=True)
        if int(labels[s]) not in exclude
    ]


def _trials_from_runs(runs: list[tuple[int, int, int]]) -> tuple[Trial, ...]:
    counts: dict[int, int] = {}
    trials = []
    for label, start, stop in runs:
        counts[label] = counts.get(label, 0) + 1
        trials.append(Trial(label, start, stop, counts[label]))
    return tuple(trials)


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    path = check_file(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:  # zipfile/ValueError on corrupt archives
        logger.info("numpy could not read %s", path, exc_info=True)
        raise InvalidRecordingError(
            f"{path}: not a readable .npz file (damaged, truncated or not a numpy "
            "archive)."
        ) from None


def read_myo_readings(path: str | Path) -> list[GestureFile]:
    """Read one session ``.npz`` of the myo-readings-dataset.

    Parameters
    ----------
    path : str | Path
        ``_readings_<hand>/<pid>-<session>.npz``.

    Returns
    -------
    files : list of GestureFile
        One per original ``k.txt`` (``emg_k``/``label_k``), k ascending; 8
        channels in raw Myo ``"counts"`` at 200 Hz (nominal).

    Raises
    ------
    InvalidRecordingError
        If no ``emg_k`` arrays are present or shapes disagree.
    """
    path = Path(path)
    arrays = _load_npz(path)
    keys = sorted(
        (int(m.group(1)) for k in arrays if (m := re.fullmatch(r"emg_(\d+)", k))),
    )
    if not keys:
        raise InvalidRecordingError(
            f"{path}: no emg_k arrays; not a myo-readings-dataset session file."
        )
    session = path.stem
    subject = session.split("-")[0]
    hand = path.parent.name.removeprefix("_readings_")
    files = []
    for k in keys:
        emg = arrays[f"emg_{k}"]
        labels = arrays.get(f"label_{k}")
        if labels is None or emg.ndim != 2 or labels.shape[0] != emg.shape[0]:
            raise InvalidRecordingError(
                f"{path}: emg_{k} {emg.shape} and label_{k} do not match."
            )
        rec = Recording(
            data=np.ascontiguousarray(emg.T, dtype=np.float32),
            sfreq=MYO_READINGS_SFREQ_HZ,
            ch_names=tuple(f"emg{i + 1}" for i in range(emg.shape[1])),
            units=("counts",) * emg.shape[1],
            source={
                "format": "myo-readings",
                "path": str(path),
                "part": f"{k}.txt",
                "hand": hand,
            },
        )
        labels = labels.astype(np.int64)
        files.append(
            GestureFile(
                recording=rec,
                labels=labels,
                trials=_trials_from_runs(find_runs(labels)),
                dataset="myo-readings-dataset",
                subject=subject,
                session=session,
                name=f"{session}/{k}",
                class_names=MYO_READINGS_CLASSES,
            )
        )
    return files


def read_uci_emg_gestures(path: str | Path) -> GestureFile:
    """Read one ``.npz`` of uci-emg-gestures-myo, resampled to a uniform 1 kHz grid.

    Parameters
    ----------
    path : str | Path
        ``<subject>/<series>_raw_data_<time>.npz``.

    Returns
    -------
    file : GestureFile
        8 channels (``emg_counts * scale``, unit ``"a.u."``: the source states
        none) at 1000 Hz; trials are runs of labels 1..7.

    Raises
    ------
    InvalidRecordingError
        If keys are missing, lengths disagree or timestamps go backwards.
    """
    path = Path(path)
    z = _load_npz(path)
    missing = [k for k in ("emg_counts", "time_ms", "label") if k not in z]
    if missing:
        raise InvalidRecordingError(
            f"{path}: not a uci-emg-gestures-myo file: {', '.join(missing)} missing."
        )
    emg = z["emg_counts"].astype(np.float64) * float(z.get("scale", 1.0))
    t_ms = z["time_ms"].astype(np.int64)
    labels = z["label"].astype(np.int64)
    if not (emg.ndim == 2 and emg.shape[0] == t_ms.shape[0] == labels.shape[0]):
        raise InvalidRecordingError(
            f"{path}: emg_counts {emg.shape}, time_ms {t_ms.shape} and label "
            f"{labels.shape} do not have the same number of rows."
        )
    if t_ms.size == 0:
        raise InvalidRecordingError(f"{path}: the file holds no samples.")
    back = np.flatnonzero(np.diff(t_ms) < 0)
    if back.size:
        raise InvalidRecordingError(
            f"{path}: time_ms goes backwards after row {int(back[0]) + 1}."
        )
    # Sample-and-hold onto a 1 ms grid: each grid time takes the last row at or
    # before it (the stream is already sample-held, so this adds no new values).
    grid = np.arange(t_ms[0], t_ms[-1] + 1)
    idx = np.searchsorted(t_ms, grid, side="right") - 1
    emg, labels = emg[idx], labels[idx]
    subject = path.parent.name
    session = path.name.split("_", 1)[0]
    rec = Recording(
        data=np.ascontiguousarray(emg.T, dtype=np.float32),
        sfreq=UCI_EMG_SFREQ_HZ,
        ch_names=tuple(f"channel{i + 1}" for i in range(emg.shape[1])),
        units=("a.u.",) * emg.shape[1],
        source={
            "format": "uci-emg-gestures-myo",
            "path": str(path),
            "effective_sfreq_hz": 200.0,
            "original_rows": int(t_ms.size),
        },
    )
    return GestureFile(
        recording=rec,
        labels=labels,
        trials=_trials_from_runs(find_runs(labels, exclude=(0,))),
        dataset="uci-emg-gestures-myo",
        subject=subject,
        session=session,
        name=f"{subject}/{path.stem}",
        class_names=UCI_EMG_CLASSES,
    )


def read_uci_semg(path: str | Path) -> GestureFile:
    """Read one subject ``.mat`` of uci-semg-basic-hand-movements (Database 1).

    Parameters
    ----------
    path : str | Path
        ``Database_1/<female|male>_<n>.mat``.

    Returns
    -------
    file : GestureFile
        2 channels (``"ch1"``, ``"ch2"``, unit ``"a.u."``) at 500 Hz: the trials
        of every grasp concatenated in the order of :data:`UCI_SEMG_GRASPS`,
        one Trial per row; ``continuous=False``. Labels index
        :data:`UCI_SEMG_CLASSES`.

    Raises
    ------
    InvalidRecordingError
        If a grasp array is missing or the two channels differ in shape.
    """
    from scipy.io import loadmat

    path = check_file(path)
    try:
        mat = loadmat(path)
    except Exception:
        logger.info("scipy could not read %s", path, exc_info=True)
        raise InvalidRecordingError(
            f"{path}: not a readable .mat file (damaged, truncated or not a MATLAB "
            "file)."
        ) from None
    blocks, labels, trials = [], [], []
    start = 0
    for label, grasp in enumerate(UCI_SEMG_GRASPS):
        keys = (f"{grasp}_ch1", f"{grasp}_ch2")
        if any(k not in mat for k in keys):
            raise InvalidRecordingError(
                f"{path}: {keys[0]}/{keys[1]} missing; not a uci-semg-basic-hand-"
                "movements file."
            )
        ch1, ch2 = (np.asarray(mat[k], dtype=np.float64) for k in keys)
        if ch1.ndim != 2 or ch1.shape != ch2.shape:
            raise InvalidRecordingError(
                f"{path}: {keys[0]} {ch1.shape} and {keys[1]} {ch2.shape} differ."
            )
        n_trials, n_times = ch1.shape
        for row in range(n_trials):
            trials.append(Trial(label, start, start + n_times, row + 1))
            start += n_times
        blocks.append(np.stack([ch1, ch2], axis=1))  # (trials, 2, n_times)
        labels.append(np.full(n_trials * n_times, label, dtype=np.int64))
    data = np.concatenate([b.transpose(1, 0, 2).reshape(2, -1) for b in blocks], axis=1)
    rec = Recording(
        data=data.astype(np.float32),
        sfreq=UCI_SEMG_SFREQ_HZ,
        ch_names=("ch1", "ch2"),
        units=("a.u.", "a.u."),
        source={"format": "uci-semg-basic-hand-movements", "path": str(path)},
    )
    return GestureFile(
        recording=rec,
        labels=np.concatenate(labels),
        trials=tuple(trials),
        dataset="uci-semg-basic-hand-movements",
        subject=path.stem,
        session=path.parent.name,
        name=path.stem,
        class_names=UCI_SEMG_CLASSES,
        continuous=False,
    )


def ninapro_trials(session: NinaproSession) -> tuple[Trial, ...]:
    """The repetitions of a NinaPro session as trials, rest left out.

    A trial is a contiguous run of one non-zero (``restimulus``,
    ``rerepetition``) pair; its label is the movement, its ``repetition`` the
    ``rerepetition`` value.
    """
    key = session.restimulus * 1000 + session.rerepetition
    active = (session.restimulus != 0) & (session.rerepetition != 0)
    key = np.where(active, key, 0)
    return tuple(
        Trial(k // 1000, start, stop, k % 1000)
        for k, start, stop in find_runs(key, exclude=(0,))
    )


def read_ninapro_gestures(
    path: str | Path, *, sfreq: float | None = None
) -> GestureFile:
    """Read a NinaPro ``.mat`` as a GestureFile whose trials are repetitions.

    Parameters
    ----------
    path : str | Path
        NinaPro DB1/DB2 file (see :func:`emgcore.io.read_ninapro`).
    sfreq : float | None
        Sampling-rate override in Hz.

    Returns
    -------
    file : GestureFile
        ``labels`` is ``restimulus`` (0 = rest); a trial is a contiguous run of
        one non-zero (``restimulus``, ``rerepetition``) pair, its ``repetition``
        the ``rerepetition`` value.
    """
    session = read_ninapro(path, sfreq=sfreq)
    db = session.database
    return GestureFile(
        recording=session.recording,
        labels=session.restimulus,
        trials=ninapro_trials(session),
        dataset=f"ninapro-{db}",
        subject=f"S{session.subject}",
        session=f"E{session.exercise}",
        name=Path(path).stem,
        class_names={0: "rest"},
        continuous=True,
    )
