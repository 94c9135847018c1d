"""Helpers shared by the preprocessing stages: input checks and threads.

Array checks (:func:`_as_float`, :func:`_check_2d`), the split of channels
into groups for a thread pool (:func:`_channel_groups`, :func:`_map`) and the
process-wide BLAS thread limit the resampler's matrix products run under.
Private to :mod:`emgcore.preprocess`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError

_T = TypeVar("_T")


def _as_float(data: NDArray) -> NDArray[np.floating]:
    """The array as a floating type (float32 stays float32, ints -> float64)."""
    data = np.asarray(data)
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    return data


def _check_2d(data: NDArray, what: str = "data") -> None:
    if data.ndim != 2:
        raise InvalidRecordingError(
            f"{what} must be shaped (n_chans, n_times), got shape {data.shape}."
        )


def _default_n_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _channel_groups(n_chans: int, n_groups: int) -> list[slice]:
    """``n_groups`` contiguous, nearly equal, non-empty channel ranges."""
    n_groups = max(1, min(n_groups, n_chans))
    bounds = np.linspace(0, n_chans, n_groups + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _map(
    fn: Callable[[slice], _T], groups: Sequence[slice], pool: ThreadPoolExecutor | None
) -> list[_T]:
    """``[fn(g) for g in groups]``, on ``pool``'s threads when there is one."""
    if pool is None or len(groups) == 1:
        return [fn(g) for g in groups]
    return list(pool.map(fn, groups))


_BLAS_LOCK = threading.Lock()
_BLAS_CONTROLLER: Any = None
_BLAS_LIMITER: Any = None
_BLAS_USERS = 0


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread while the resampler's matrix products run.

    The products are small and run inside our own channel threads; letting
    OpenBLAS start 2 more threads per call made them 2x slower (CPU and wall)
    on the shared 2-core machine. threadpoolctl changes a process-wide
    setting: the first of concurrent callers sets it and the last restores it.
    """
    global _BLAS_CONTROLLER, _BLAS_LIMITER, _BLAS_USERS
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            if _BLAS_CONTROLLER is None:
                from threadpoolctl import ThreadpoolController  # ~30 ms, once

                _BLAS_CONTROLLER = ThreadpoolController()
            _BLAS_LIMITER = _BLAS_CONTROLLER.limit(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None
