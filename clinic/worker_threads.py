"""Threads per Celery worker process, so that N processes on C cores share them.

Left alone, torch and the BLAS library start one thread per core in *every*
worker process: two processes on two cores run four busy threads that evict
each other's caches, and a second worker made the analysis slower (issue 18).
Each process therefore gets ``EMG_WORKER_THREADS`` threads, by default the
cores this worker may use divided by its concurrency (at least 1).

The value is worked out once in the worker's main process (``worker_init``,
before the pool starts) and written to the OpenMP/BLAS environment variables,
which the pool processes inherit and read when they first import torch or
numpy's BLAS. Each pool process then sets torch's and threadpoolctl's limits
explicitly (``worker_process_init``), which also covers libraries that were
loaded before the variables were set.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import worker_init, worker_process_init

logger = logging.getLogger(__name__)

#: Read by OpenMP (torch), MKL, OpenBLAS, BLIS, Accelerate and numexpr at load.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: Carries the value from the worker's main process to its pool processes.
RESOLVED_ENV = "MYOLENS_WORKER_THREADS_RESOLVED"

# threadpoolctl restores its limits when this object is collected: keep it.
_blas_limits: Any = None


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else all of them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_threads(
    concurrency: int, configured: int | None = None, cores: int | None = None
) -> int:
    """Threads per pool process: ``configured`` if set, else cores // concurrency."""
    if configured:
        return int(configured)
    cores = available_cores() if cores is None else cores
    return max(1, cores // max(1, int(concurrency)))


def _concurrency_of(worker: Any) -> int:
    value = getattr(worker, "concurrency", None)
    # "auto" is resolved after worker_init to about one process per core.
    return value if isinstance(value, int) and value > 0 else available_cores()


@worker_init.connect(dispatch_uid="myolens_worker_threads_resolve")
def _resolve_in_main_process(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    concurrency = _concurrency_of(sender)
    threads = worker_threads(concurrency, settings.EMG_WORKER_THREADS)
    # Set before any pool process imports torch or a BLAS library.
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)
    os.environ[RESOLVED_ENV] = str(threads)
    logger.info(
        "Each worker process uses %d thread(s): %d core(s), concurrency %d, "
        "EMG_WORKER_THREADS=%s",
        threads,
        available_cores(),
        concurrency,
        settings.EMG_WORKER_THREADS or "auto",
    )


def thread_limits_apply(threads: int) -> None:
    """Limit torch and every BLAS/OpenMP pool of this process to ``threads``."""
    global _blas_limits
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # allowed only before torch's first parallel work
        pass
    _blas_limits = threadpool_limits(limits=threads)


@worker_process_init.connect(dispatch_uid="myolens_worker_threads_apply")
def _apply_in_pool_process(**kwargs: Any) -> None:
    import torch
    from django.conf import settings

    resolved = os.environ.get(RESOLVED_ENV)
    threads = int(resolved or worker_threads(1, settings.EMG_WORKER_THREADS))
    thread_limits_apply(threads)
    from threadpoolctl import threadpool_info

    pools = ", ".join(
        f"{pool['internal_api']}={pool['num_threads']}" for pool in threadpool_info()
    )
    logger.info(
        "Worker process %d: torch uses %d thread(s); thread pools: %s",
        os.getpid(),
        torch.get_num_threads(),
        pools or "none loaded",
    )
