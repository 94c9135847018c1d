"""The registry of gesture corpora: one :class:`GestureDatasetSpec` per dataset.

What each corpus is (data folder, file layout, label codes and class names)
comes from the one corpus registry, :mod:`emgcore.datasets.corpora`, shared
with the pretraining loaders; a spec adds what adaptation chooses on top
(rate after decimation, window steps, image representation), so readers,
windowing and the CLI look a dataset up by name (:func:`get_spec`) instead of
repeating its facts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from emgcore.datasets.corpora import (
    CORPORA,
    GestureCorpus,
    canonical_name,
    get_corpus,
)

# re-exported: callers have always found the NinaPro class names here
from emgcore.datasets.corpora import NINAPRO_DB1_E1_CLASSES as NINAPRO_DB1_E1_CLASSES
from emgcore.errors import DataNotFoundError

#: Image representations of a window and the image rows each electrode gives.
#: ``"raw"``: one row of samples per electrode. ``"raw+rectified"``: the raw
#: rows followed by the same rows rectified (absolute value). Amplitude, not
#: the sign of the raw wave, carries most of a gesture's information; the
#: rectified rows hand it to the first conv layer directly, which a network
#: trained on one trial per gesture otherwise has to learn from ~40 windows.
#: ``"logenv"``: one row per electrode, the log of its short-time envelope
#: (:func:`log_envelope`); tried on NinaPro DB1 (gesture section of
#: docs/experiments/2026-12-01-results-notebook.md).
REPRESENTATIONS: dict[str, int] = {"raw": 1, "raw+rectified": 2, "logenv": 1}


@dataclass(frozen=True)
class GestureDatasetSpec:
    """How one gesture dataset becomes trials and images.

    Attributes
    ----------
    name : str
        Short name used on the command line (``"myo-readings"``).
    folder : str
        Folder under the data directory.
    layout : str
        File layout read by :func:`read_gesture_files`.
    sfreq : float
        Rate in Hz of the trials after loading (native device rate).
    label_codes : tuple of int
        Dataset label codes that are classes, in class-index order.
    class_names : tuple of str
        One name per class, same order.
    decimate : int
        Keep every ``decimate``-th sample of the loaded recording (uci-emg's
        sample-held 1 kHz stream -> its native 200 Hz).
    window_s, step_s : float
        Window length and step in seconds for adaptation windows.
    source_step_s : float
        Step for pretraining windows (coarser: the source pool is large).
    test_step_s : float
        Step for evaluation windows (default: one window, no overlap).
    representation : str
        How a window becomes image rows (:data:`REPRESENTATIONS`).
    peer_step_s : float, optional
        Step of the LDA peer's training windows (default ``step_s``). Kept
        where the peer does better with sparser windows than the network.
    """

    name: str
    folder: str
    layout: str
    sfreq: float
    label_codes: tuple[int, ...]
    class_names: tuple[str, ...]
    decimate: int = 1
    window_s: float = 0.2
    step_s: float = 0.05
    source_step_s: float = 0.1
    test_step_s: float = 0.2
    representation: str = "raw"
    peer_step_s: float | None = None

    @property
    def window(self) -> int:
        """Window length in samples."""
        return int(round(self.window_s * self.sfreq))

    @property
    def step(self) -> int:
        """Window step in samples."""
        return max(1, int(round(self.step_s * self.sfreq)))

    @property
    def peer_step(self) -> int:
        """Step in samples of the LDA peer's training windows."""
        return max(1, int(round((self.peer_step_s or self.step_s) * self.sfreq)))

    @property
    def source_step(self) -> int:
        """Pretraining window step in samples."""
        return max(1, int(round(self.source_step_s * self.sfreq)))

    @property
    def test_step(self) -> int:
        """Step in samples of evaluation windows (non-overlapping by default)."""
        return max(1, int(round(self.test_step_s * self.sfreq)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (stored in checkpoints)."""
        data = dataclasses.asdict(self)
        data["label_codes"] = list(self.label_codes)
        data["class_names"] = list(self.class_names)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GestureDatasetSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            folder=str(data["folder"]),
            layout=str(data["layout"]),
            sfreq=float(data["sfreq"]),
            label_codes=tuple(int(c) for c in data["label_codes"]),
            class_names=tuple(str(c) for c in data["class_names"]),
            decimate=int(data.get("decimate", 1)),
            window_s=float(data["window_s"]),
            step_s=float(data["step_s"]),
            source_step_s=float(data.get("source_step_s", data["step_s"])),
            test_step_s=float(data.get("test_step_s", data["window_s"])),
            representation=str(data.get("representation", "raw")),
            peer_step_s=data.get("peer_step_s"),
        )

    @property
    def rows_per_channel(self) -> int:
        """Image rows each electrode gives (:data:`REPRESENTATIONS`)."""
        return REPRESENTATIONS[self.representation]


def _spec(corpus: GestureCorpus, **choices: Any) -> GestureDatasetSpec:
    # The corpus's facts; ``choices`` are adaptation's own (rate, steps, ...).
    return GestureDatasetSpec(
        name=corpus.cli_name,
        folder=corpus.folder,
        layout=corpus.layout,
        label_codes=tuple(corpus.classes),
        class_names=tuple(corpus.classes.values()),
        **choices,
    )


DATASETS: dict[str, GestureDatasetSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            get_corpus("myo_readings"),
            sfreq=200.0,
            # Adaptation windows every 25 ms (shifted copies of one short trial
            # help the network); the LDA peer did better at 100 ms in an
            # exploratory comparison and keeps that step
            # (docs/experiments/2026-12-01-results-notebook.md).
            step_s=0.025,
            peer_step_s=0.1,
            representation="raw+rectified",
        ),
        _spec(get_corpus("ninapro"), sfreq=100.0),
        _spec(
            get_corpus("uci_emg_gestures"),
            sfreq=200.0,
            # Every 5th sample of the sample-held 1 kHz grid is an original
            # 200 Hz Myo sample, so adaptation decimates; the pretraining loader
            # resamples (scipy) instead. Each keeps its own numbers (the
            # models and results of each were made with them).
            decimate=5,
            representation="raw+rectified",
        ),
        _spec(get_corpus("uci_semg"), sfreq=500.0, representation="raw+rectified"),
    )
}

#: File layouts :func:`~emgcore.gesture.data.read_gesture_files` reads: the
#: corpora's and a labelled CSV.
LAYOUTS: tuple[str, ...] = (*(c.layout for c in CORPORA.values()), "csv")


def get_spec(name: str) -> GestureDatasetSpec:
    """The :class:`GestureDatasetSpec` registered as ``name``.

    Raises
    ------
    DataNotFoundError
        If ``name`` is not a known gesture dataset.
    """
    if name not in DATASETS and canonical_name(name) in CORPORA:
        # a corpus's canonical spelling ("myo_readings") names its spec too
        name = get_corpus(name).cli_name
    if name not in DATASETS:
        raise DataNotFoundError(
            f"Unknown gesture dataset {name!r}. Known: {', '.join(DATASETS)}."
        )
    return DATASETS[name]
