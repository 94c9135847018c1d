"""How long a job has run and how long it may still take (issue 16).

A progress bar alone stalls at one value for minutes during retraining or a
gesture adaptation; elapsed time and an estimate tell the user the job is
alive and whether to wait. The estimate is the median duration of earlier
jobs of the same kind that succeeded (the median: a single run slowed down by
a busy machine should not move it much), with "no estimate yet" until there
is one. Read side only: nothing here writes.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

#: How many recent finished jobs the median is taken over.
HISTORY = 50
NO_ESTIMATE = "no estimate yet"


def duration_words(seconds: float | None) -> str:
    """42 -> '42 s', 125 -> '2 min 5 s', 7300 -> '2 h 1 min'."""
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {s} s" if s else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _median_seconds(finished: QuerySet, per: str | None = None) -> tuple[float, int]:
    """(median duration in seconds, how many jobs) of ``finished``; with
    ``per`` the duration is divided by that field first (seconds per epoch)."""
    rows = finished.filter(started_at__isnull=False, finished_at__isnull=False)
    rows = rows.filter(finished_at__gte=F("started_at")).order_by("-finished_at")
    fields = ["started_at", "finished_at"] + ([per] if per else [])
    values = []
    for row in rows.values(*fields)[:HISTORY]:
        seconds = (row["finished_at"] - row["started_at"]).total_seconds()
        if per:
            if not row[per]:
                continue
            seconds /= row[per]
        values.append(seconds)
    return (statistics.median(values), len(values)) if values else (0.0, 0)


def _elapsed(obj, now: datetime) -> float | None:
    start = obj.started_at
    if start is None:
        return None
    end = obj.finished_at or now
    return max(0.0, (end - start).total_seconds())


def timing(
    obj,
    earlier: QuerySet,
    *,
    running: bool,
    scale: float = 1.0,
    per: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Elapsed time and, while ``running``, the estimated time left.

    ``earlier``: finished successful jobs of the same kind (``obj`` excluded);
    ``per``/``scale``: estimate per unit of work (e.g. seconds per epoch)
    times this job's units.
    """
    now = now or timezone.now()
    elapsed = _elapsed(obj, now)
    median, n = _median_seconds(earlier.exclude(pk=obj.pk), per)
    expected = median * scale if n else None
    remaining = None
    if running and expected is not None:
        remaining = max(0.0, expected - (elapsed or 0.0))
    if not running:
        remaining_text = ""
    elif expected is None:
        remaining_text = NO_ESTIMATE
    elif remaining and remaining >= 1:
        remaining_text = f"about {duration_words(remaining)} left"
    else:
        # Past the usual duration: say so rather than "0 s left" forever.
        remaining_text = "taking longer than usual; no estimate"
    return {
        "elapsed_s": elapsed,
        "elapsed": duration_words(elapsed)
        if elapsed is not None
        else "not started yet (waiting for a worker)",
        "expected_s": expected,
        "remaining_s": remaining,
        "remaining": remaining_text,
        "basis_n": n,
    }


def analysis_job_timing(job) -> dict[str, Any]:
    from clinic.models import AnalysisJob

    earlier = AnalysisJob.objects.filter(status=AnalysisJob.Status.SUCCEEDED)
    return timing(job, earlier, running=not job.is_finished)


def retraining_run_timing(run) -> dict[str, Any]:
    """Runs differ mostly in their number of epochs: seconds per epoch of
    earlier successful runs, times this run's epochs."""
    from clinic.models import RetrainingRun

    earlier = RetrainingRun.objects.filter(status=RetrainingRun.Status.SUCCEEDED)
    return timing(
        run, earlier, running=not run.is_finished, per="epochs", scale=run.epochs
    )


def gesture_session_timing(session) -> dict[str, Any]:
    """Sessions with the same k (adaptation trials per gesture) where there
    are any: more trials, longer training."""
    from clinic.gestures.models import GestureSession

    done = GestureSession.objects.filter(status=GestureSession.Status.SUCCEEDED)
    same_k = done.filter(k=session.k)
    earlier = same_k if same_k.exclude(pk=session.pk).exists() else done
    return timing(session, earlier, running=not session.is_finished)
