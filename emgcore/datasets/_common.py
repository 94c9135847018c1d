"""Helpers shared by the dataset adapters: windowing with provenance, the cache.

The on-disk cache stores one ``.npz`` per source file and loader settings, keyed
by the dataset, the adapter version, the preprocessing config, the loader options
and the source file's path, size and modification time. It holds only derived
arrays, so deleting the cache folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.base import DISEASE_CLASSES, DatasetError, WindowSet

logger = logging.getLogger(__name__)

#: Environment variable naming the cache folder.
CACHE_DIR_ENV = "EMG_CACHE_DIR"
#: Bumped when an adapter's output changes for the same inputs (stale caches).
CACHE_VERSION = 1


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | bool | None) -> Path | None:
    """Where to cache, or None for no caching.

    ``None``: ``$EMG_CACHE_DIR`` if set, else no cache. ``True``:
    ``$EMG_CACHE_DIR`` or ``~/.cache/myolens``. ``False``: no cache. A path: there.
    """
    if cache_dir is False:
        return None
    if cache_dir is None or cache_dir is True:
        env = os.environ.get(CACHE_DIR_ENV)
        if env:
            return Path(env).expanduser()
        return Path("~/.cache/myolens").expanduser() if cache_dir is True else None
    return Path(cache_dir).expanduser()


def _cache_key(dataset: str, path: Path, settings: dict[str, Any]) -> str:
    stat = path.stat()
    payload = {
        "dataset": dataset,
        "version": CACHE_VERSION,
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "settings": settings,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _save(ws: WindowSet, target: Path) -> None:
    arrays: dict[str, Any] = {
        "X": ws.X,
        "y": ws.y,
        "class_names": np.asarray(ws.class_names, dtype=str),
        "recording_ids": ws.recording_ids,
        "subjects": ws.subjects,
        "start_samples": ws.start_samples,
        "stop_samples": ws.stop_samples,
        "sfreq": np.float64(ws.sfreq),
    }
    if ws.orig_sfreq is not None:
        arrays["orig_sfreq"] = ws.orig_sfreq
    for key, values in ws.extra.items():
        arrays[f"extra__{key}"] = values
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _load(target: Path, meta: dict[str, Any]) -> WindowSet:
    with np.load(target, allow_pickle=False) as z:
        return WindowSet(
            X=z["X"],
            y=z["y"],
            class_names=tuple(z["class_names"].tolist()),
            recording_ids=z["recording_ids"],
            subjects=z["subjects"],
            start_samples=z["start_samples"],
            stop_samples=z["stop_samples"],
            sfreq=float(z["sfreq"]),
            orig_sfreq=z["orig_sfreq"] if "orig_sfreq" in z.files else None,
            extra={
                k.removeprefix("extra__"): z[k]
                for k in z.files
                if k.startswith("extra__")
            },
            meta=meta,
        )


def cached(
    dataset: str,
    path: Path,
    settings: dict[str, Any],
    build: Callable[[], WindowSet],
    cache_dir: Path | None,
) -> WindowSet:
    """Return ``build()``, from the cache when an entry for these inputs exists.

    Parameters
    ----------
    dataset : str
        Dataset name (part of the key and of the cache sub-folder).
    path : Path
        The source file the windows come from (its size and mtime are in the key).
    settings : dict
        JSON-like loader settings (preprocess config, options) in the key.
    build : callable
        Makes the WindowSet when the cache has none.
    cache_dir : Path or None
        Cache folder; None disables caching.
    """
    if cache_dir is None:
        return build()
    key = _cache_key(dataset, path, settings)
    target = cache_dir / dataset / f"{path.stem}-{key}.npz"
    if target.is_file():
        try:
            ws = _load(target, meta={})
            logger.debug("cache hit %s", target)
            return ws
        except Exception as exc:  # a damaged entry is rebuilt, never trusted
            logger.warning("ignoring unreadable cache entry %s (%s)", target, exc)
    ws = build()
    try:
        _save(ws, target)
    except OSError as exc:
        logger.warning("could not write cache entry %s (%s)", target, exc)
    return ws


# ---------------------------------------------------------------------------------
# windows with their raw-sample intervals
# ---------------------------------------------------------------------------------
def seconds_to_raw(
    starts_s: NDArray[np.floating],
    stops_s: NDArray[np.floating],
    orig_sfreq: float,
    n_times: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Window times in seconds -> half-open raw sample intervals, rounded outwards.

    A window [t0, t1) at the output rate draws on the raw samples from
    ``floor(t0 * orig_sfreq)`` to ``ceil(t1 * orig_sfreq)``; rounding outwards
    keeps the leakage checks conservative. A 1e-6-sample tolerance keeps exact
    products from being pushed one sample out by floating-point error.
    """
    start = np.floor(np.asarray(starts_s) * orig_sfreq + 1e-6).astype(np.int64)
    stop = np.ceil(np.asarray(stops_s) * orig_sfreq - 1e-6).astype(np.int64)
    return np.clip(start, 0, n_times), np.clip(stop, 1, n_times)


def windows_of_recording(
    recording: Any, config: Any
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int64], float]:
    """Preprocess a recording and cut its windows (the preprocessor's own grid).

    Returns
    -------
    X : ndarray of float32, shape (n_windows, n_chans, n_times_window)
        Contiguous copy of the windows.
    start, stop : ndarray of int64, shape (n_windows,)
        Raw-sample intervals in the recording.
    sfreq : float
        Rate of ``X`` in Hz.
    """
    from emgcore.preprocess import EMGPreprocessor

    out = EMGPreprocessor(config).transform(recording)
    start, stop = seconds_to_raw(
        out.window_starts_s, out.window_stops_s, recording.sfreq, recording.n_times
    )
    X = np.ascontiguousarray(out.windows, dtype=np.float32)
    return X, start, stop, float(out.sfreq)


@dataclass(frozen=True)
class DiseaseSource:
    """One recording whose every window has one disease class.

    Attributes
    ----------
    path : Path
        The file whose size and modification time key the cache.
    read : callable
        Returns the :class:`~emgcore.recording.Recording`.
    label : int
        Index into :data:`~emgcore.datasets.base.DISEASE_CLASSES`.
    recording_id, subject : str
    extra : dict
        ``extra`` key -> the one value every window gets.
    """

    path: Path
    read: Callable[[], Any]
    label: int
    recording_id: str
    subject: str
    extra: dict[str, Any]

    def windows(self, config: Any) -> WindowSet:
        """The recording's windows under ``config``, all labelled ``label``."""
        recording = self.read()
        X, start, stop, sfreq = windows_of_recording(recording, config)
        n = len(X)
        return WindowSet(
            X=X,
            y=np.full(n, self.label),
            class_names=DISEASE_CLASSES,
            recording_ids=np.full(n, self.recording_id),
            subjects=np.full(n, self.subject),
            start_samples=start,
            stop_samples=stop,
            sfreq=sfreq,
            orig_sfreq=np.full(n, recording.sfreq),
            extra={key: np.full(n, value) for key, value in self.extra.items()},
        )


def load_disease_sources(
    dataset: str,
    sources: Sequence[DiseaseSource],
    config: Any,
    *,
    subjects: Iterable[Any] | None,
    cache_dir: str | os.PathLike[str] | bool | None,
) -> WindowSet:
    """Windows of the sources of ``subjects`` (each cached on its own), concatenated.

    Sources keep their order; ``subjects`` None means all, and an unknown
    subject is an error (:func:`select_subjects`). ``meta`` holds the
    dataset, the preprocessing and ``n_recordings``.
    """
    wanted = set(
        select_subjects((s.subject for s in sources), subjects, dataset=dataset)
    )
    cache = resolve_cache_dir(cache_dir)
    settings = {"preprocess": config.to_dict()}
    parts = [
        cached(dataset, src.path, settings, lambda src=src: src.windows(config), cache)
        for src in sources
        if src.subject in wanted
    ]
    ws = WindowSet.concat(parts)
    ws.meta = base_meta(dataset, config, n_recordings=len(parts))
    return ws


def segment_windows(
    recording: Any,
    config: Any,
    segments: Sequence[tuple[int, int]],
    *,
    continuous: bool = True,
) -> tuple[
    list[NDArray[np.float32]], list[NDArray[np.int64]], list[NDArray[np.int64]], float
]:
    """Windows lying wholly inside each raw-sample segment (e.g. one trial).

    With ``continuous`` the whole recording is filtered once and each segment is
    windowed on the filtered signal from its first output sample, so no window
    straddles two segments. Otherwise (trials recorded separately and only
    concatenated) each segment is preprocessed on its own.

    Parameters
    ----------
    recording : Recording
        Shape (n_chans, n_times) at ``recording.sfreq`` Hz.
    config : PreprocessConfig
    segments : sequence of (start, stop)
        Half-open raw-sample ranges of ``recording``.
    continuous : bool

    Returns
    -------
    windows : list of ndarray of float32, each (k_i, n_chans, n_times_window)
        One entry per segment, empty (k_i = 0) when no window fits in it.
    starts, stops : list of ndarray of int64, each (k_i,)
        Raw-sample intervals of the windows, clipped to their segment.
    sfreq : float
        Rate of the windows in Hz.
    """
    from emgcore.preprocess import EMGPreprocessor, make_windows, zscore
    from emgcore.recording import Recording

    fs_in = float(recording.sfreq)
    pre = EMGPreprocessor(config)
    wins: list[NDArray[np.float32]] = []
    starts: list[NDArray[np.int64]] = []
    stops: list[NDArray[np.int64]] = []
    sfreq_out = float("nan")

    def _cut(
        signal: NDArray[Any], fs_out: float, lo: int, hi: int, seg: tuple[int, int]
    ) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]]:
        w, s = make_windows(signal[:, lo:hi], fs_out, config.window_s, config.step_s)
        w = np.ascontiguousarray(w, dtype=np.float32)
        if config.zscore == "window" and len(w):
            w = zscore(w, axis=-1).astype(np.float32, copy=False)
        n_w = int(round(config.window_s * fs_out))
        t0 = (lo + s) / fs_out
        a, b = seconds_to_raw(t0, t0 + n_w / fs_out, fs_in, recording.n_times)
        return w, np.clip(a, seg[0], seg[1]), np.clip(b, seg[0] + 1, seg[1])

    if continuous:
        out = pre.transform(recording)
        sfreq_out = float(out.sfreq)
        ratio = sfreq_out / fs_in
        for seg in segments:
            lo = int(np.ceil(seg[0] * ratio - 1e-6))
            hi = int(np.floor(seg[1] * ratio + 1e-6))
            w, a, b = _cut(out.signal, sfreq_out, lo, max(lo, hi), seg)
            wins.append(w)
            starts.append(a)
            stops.append(b)
    else:
        for seg in segments:
            part = Recording(
                data=recording.data[:, seg[0] : seg[1]],
                sfreq=fs_in,
                ch_names=recording.ch_names,
                units=recording.units,
                source=recording.source,
            )
            n_need = int(round(config.window_s * fs_in))
            if part.n_times < max(n_need, 1):  # no window fits: keep the slot
                wins.append(None)  # type: ignore[arg-type]
                starts.append(np.zeros(0, np.int64))
                stops.append(np.zeros(0, np.int64))
                continue
            out = pre.transform(part)
            sfreq_out = float(out.sfreq)
            w, a, b = _cut(
                out.signal, sfreq_out, 0, out.signal.shape[1], (0, seg[1] - seg[0])
            )
            wins.append(w)
            starts.append(a + seg[0])
            stops.append(b + seg[0])
    shape = next((w.shape[1:] for w in wins if w is not None), None)
    if shape is None:
        shape = (recording.n_chans, 1)
    wins = [np.zeros((0, *shape), np.float32) if w is None else w for w in wins]
    return wins, starts, stops, sfreq_out


def select_subjects(
    available: Iterable[str], subjects: Iterable[Any] | None, *, dataset: str
) -> list[str]:
    """The requested subjects (all when None), checked against those available."""
    avail = sorted(set(available))
    if subjects is None:
        return avail
    wanted = [str(s) for s in subjects]
    if not wanted:
        raise DatasetError(f"{dataset}: an empty list of subjects was given.")
    unknown = sorted(set(wanted) - set(avail))
    if unknown:
        raise DatasetError(
            f"{dataset}: unknown subject(s) {', '.join(unknown)}; available: "
            f"{', '.join(avail)}."
        )
    return sorted(set(wanted))


def config_or_default(config: Any, default: Any) -> Any:
    """The given PreprocessConfig, else the adapter's default."""
    return default if config is None else config


def base_meta(dataset: str, config: Any, **more: Any) -> dict[str, Any]:
    return {"dataset": dataset, "preprocess": config.to_dict(), **more}
