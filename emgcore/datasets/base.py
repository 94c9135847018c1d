"""The labelled-window container every dataset adapter returns.

A :class:`WindowSet` keeps, beside the model-ready windows, where each window came
from: its recording, its subject and the raw-sample interval it covers in the
ORIGINAL recording (before resampling). Splits use that provenance to prove that no
raw sample and no subject ends up on both sides of a train/test boundary.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore.errors import EmgCoreError

logger = logging.getLogger(__name__)

#: Class order of every disease dataset; checkpoints rely on it.
DISEASE_CLASSES: tuple[str, ...] = ("healthy", "myopathy", "neuropathy")


class DatasetError(EmgCoreError, ValueError):
    """A dataset, a window set or a split request is inconsistent or unusable."""


def _as_str_array(values: ArrayLike, n: int, what: str) -> NDArray[np.str_]:
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    arr = arr.astype(str)
    if arr.shape != (n,):
        raise DatasetError(
            f"WindowSet: '{what}' has shape {arr.shape}, expected ({n},)."
        )
    return arr


def _as_int_array(values: ArrayLike, n: int, what: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise DatasetError(
            f"WindowSet: '{what}' has shape {arr.shape}, expected ({n},)."
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise DatasetError(f"WindowSet: '{what}' must hold whole numbers.")
    return arr.astype(np.int64)


@dataclass(eq=False)
class WindowSet:
    """Labelled windows with their provenance.

    Parameters
    ----------
    X : ndarray of float32, shape (n_windows, n_chans, n_times)
        The preprocessed windows (sampled at ``sfreq``).
    y : ndarray of int64, shape (n_windows,)
        Class index of each window into ``class_names``.
    class_names : tuple of str
        Ordered class names; ``class_names[y[i]]`` is window ``i``'s label.
    recording_ids : ndarray of str, shape (n_windows,)
        Identifier of the recording each window was cut from (unique within a
        dataset, e.g. a file stem).
    subjects : ndarray of str, shape (n_windows,)
        Person each window belongs to.
    start_samples, stop_samples : ndarray of int64, shape (n_windows,)
        Half-open interval ``[start, stop)`` of the window in the ORIGINAL
        recording's sample index (before resampling). Used for leakage checks.
    sfreq : float
        Sampling rate of ``X`` in Hz.
    orig_sfreq : ndarray of float64, shape (n_windows,), optional
        Sampling rate in Hz of the original recording of each window (the unit of
        ``start_samples``). Needed to express split gaps in seconds.
    extra : dict of str to ndarray of shape (n_windows,)
        Further per-window labels (``"repetition"``, ``"trial"``, ``"gesture"``,
        ``"muscle"``, ...).
    meta : dict
        Dataset-level facts, JSON-like (``"dataset"``, ``"preprocess"``, ...).

    Raises
    ------
    DatasetError
        If the arrays disagree in length, a label is outside ``class_names`` or an
        interval is empty.
    """

    X: NDArray[np.float32]
    y: NDArray[np.int64]
    class_names: tuple[str, ...]
    recording_ids: NDArray[np.str_]
    subjects: NDArray[np.str_]
    start_samples: NDArray[np.int64]
    stop_samples: NDArray[np.int64]
    sfreq: float
    orig_sfreq: NDArray[np.float64] | None = None
    extra: dict[str, NDArray[Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        X = np.asarray(self.X)
        if X.ndim != 3:
            raise DatasetError(
                f"WindowSet: X must be shaped (n_windows, n_chans, n_times), got "
                f"{X.ndim} dimension(s)."
            )
        self.X = X if X.dtype == np.float32 else X.astype(np.float32)
        n = X.shape[0]
        self.y = _as_int_array(self.y, n, "y")
        self.class_names = tuple(str(c) for c in self.class_names)
        if len(set(self.class_names)) != len(self.class_names):
            raise DatasetError(f"WindowSet: duplicate class names {self.class_names}.")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise DatasetError(
                f"WindowSet: labels range {self.y.min()}..{self.y.max()} but there are "
                f"only {len(self.class_names)} class names."
            )
        self.recording_ids = _as_str_array(self.recording_ids, n, "recording_ids")
        self.subjects = _as_str_array(self.subjects, n, "subjects")
        self.start_samples = _as_int_array(self.start_samples, n, "start_samples")
        self.stop_samples = _as_int_array(self.stop_samples, n, "stop_samples")
        if n and np.any(self.stop_samples <= self.start_samples):
            bad = int(np.count_nonzero(self.stop_samples <= self.start_samples))
            raise DatasetError(
                f"WindowSet: {bad} window(s) have stop_samples <= start_samples."
            )
        self.sfreq = float(self.sfreq)
        if not self.sfreq > 0:
            raise DatasetError(f"WindowSet: sfreq must be positive, got {self.sfreq}.")
        if self.orig_sfreq is not None:
            orig = np.asarray(self.orig_sfreq, dtype=np.float64)
            if orig.ndim == 0:
                orig = np.full(n, float(orig))
            if orig.shape != (n,):
                raise DatasetError(
                    f"WindowSet: 'orig_sfreq' has shape {orig.shape}, expected ({n},)."
                )
            self.orig_sfreq = orig
        extra = {}
        for key, values in dict(self.extra).items():
            arr = np.asarray(values)
            if arr.shape[:1] != (n,):
                raise DatasetError(
                    f"WindowSet: extra[{key!r}] has shape {arr.shape}, expected "
                    f"({n}, ...)."
                )
            extra[str(key)] = arr
        self.extra = extra
        self.meta = dict(self.meta)

    # -- size -------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_chans(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_times(self) -> int:
        return int(self.X.shape[2])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def class_counts(self) -> dict[str, int]:
        """Number of windows per class name (every class listed, zeros included)."""
        counts = np.bincount(self.y, minlength=self.n_classes)
        return {name: int(c) for name, c in zip(self.class_names, counts, strict=True)}

    # -- selection ----------------------------------------------------------------
    def subset(self, idx: ArrayLike) -> WindowSet:
        """Return the windows selected by ``idx`` (integer indices or boolean mask).

        Parameters
        ----------
        idx : array-like of int, shape (k,), or of bool, shape (n_windows,)
            Windows to keep, in the order given.

        Returns
        -------
        WindowSet
            A new set; ``X`` is a copy, ``meta`` is shared by value.
        """
        sel = np.asarray(idx)
        if sel.dtype == bool:
            if sel.shape != (len(self),):
                raise DatasetError(
                    f"subset: a boolean mask of shape {sel.shape} for {len(self)} "
                    "windows."
                )
            sel = np.flatnonzero(sel)
        sel = sel.astype(np.int64).reshape(-1)
        if sel.size and (sel.min() < -len(self) or sel.max() >= len(self)):
            raise DatasetError(
                f"subset: index {int(sel.max())} out of range for {len(self)} windows."
            )
        return WindowSet(
            X=self.X[sel],
            y=self.y[sel],
            class_names=self.class_names,
            recording_ids=self.recording_ids[sel],
            subjects=self.subjects[sel],
            start_samples=self.start_samples[sel],
            stop_samples=self.stop_samples[sel],
            sfreq=self.sfreq,
            orig_sfreq=None if self.orig_sfreq is None else self.orig_sfreq[sel],
            extra={k: v[sel] for k, v in self.extra.items()},
            meta=dict(self.meta),
        )

    @staticmethod
    def concat(sets: Sequence[WindowSet]) -> WindowSet:
        """Stack window sets that share class names, ``sfreq`` and window shape.

        Parameters
        ----------
        sets : sequence of WindowSet
            At least one set. Recording ids should be unique across the sets
            (prefix them with the dataset name when mixing datasets).

        Returns
        -------
        WindowSet
            ``extra`` keeps only the keys every set has; ``meta`` is the first
            set's, with ``"parts"`` listing every part's meta.

        Raises
        ------
        DatasetError
            If the sets disagree on class names, ``sfreq`` or window shape.
        """
        sets = list(sets)
        if not sets:
            raise DatasetError("concat: no window sets given.")
        first = sets[0]
        for other in sets[1:]:
            if other.class_names != first.class_names:
                raise DatasetError(
                    f"concat: class names differ: {first.class_names} vs "
                    f"{other.class_names}."
                )
            if not np.isclose(other.sfreq, first.sfreq):
                raise DatasetError(
                    f"concat: sampling rates differ: {first.sfreq:g} Hz vs "
                    f"{other.sfreq:g} Hz."
                )
            if other.X.shape[1:] != first.X.shape[1:]:
                raise DatasetError(
                    f"concat: window shapes differ: {first.X.shape[1:]} vs "
                    f"{other.X.shape[1:]} (n_chans, n_times)."
                )
        keys = [k for k in first.extra if all(k in s.extra for s in sets[1:])]
        dropped = {k for s in sets for k in s.extra} - set(keys)
        if dropped:
            logger.info("concat: dropping extra keys not in every part: %s", dropped)
        if all(s.orig_sfreq is not None for s in sets):
            orig = np.concatenate([s.orig_sfreq for s in sets])  # type: ignore[misc]
        else:
            orig = None
        meta = dict(first.meta)
        if len(sets) > 1:
            meta["parts"] = [s.meta for s in sets]
        return WindowSet(
            X=np.concatenate([s.X for s in sets]),
            y=np.concatenate([s.y for s in sets]),
            class_names=first.class_names,
            recording_ids=np.concatenate([s.recording_ids for s in sets]),
            subjects=np.concatenate([s.subjects for s in sets]),
            start_samples=np.concatenate([s.start_samples for s in sets]),
            stop_samples=np.concatenate([s.stop_samples for s in sets]),
            sfreq=first.sfreq,
            orig_sfreq=orig,
            extra={k: np.concatenate([s.extra[k] for s in sets]) for k in keys},
            meta=meta,
        )

    # -- identity -----------------------------------------------------------------
    def content_hash(self) -> str:
        """sha256 (hex) over class names, recording ids, subjects, labels, intervals.

        Two window sets with the same windows from the same places, in the same
        order, hash the same whatever their signal values; a checkpoint stores it
        as the identity of its training data. Window samples are not hashed (they
        depend on floating-point details of the preprocessing).
        """
        h = hashlib.sha256()
        h.update("\x1f".join(self.class_names).encode())
        h.update(b"\x1e")
        h.update("\x1f".join(self.recording_ids.tolist()).encode())
        h.update(b"\x1e")
        h.update("\x1f".join(self.subjects.tolist()).encode())
        h.update(b"\x1e")
        for arr in (self.y, self.start_samples, self.stop_samples):
            h.update(np.ascontiguousarray(arr, dtype="<i8").tobytes())
            h.update(b"\x1e")
        return h.hexdigest()

    def __repr__(self) -> str:
        return (
            f"WindowSet(dataset={self.meta.get('dataset')!r}, n_windows={len(self)}, "
            f"n_chans={self.n_chans}, n_times={self.n_times}, sfreq={self.sfreq:g}, "
            f"classes={self.class_counts()}, recordings="
            f"{len(np.unique(self.recording_ids))}, subjects="
            f"{len(np.unique(self.subjects))})"
        )
