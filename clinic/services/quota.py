"""Per-user upload quota over the last 24 hours (EMG_UPLOAD_QUOTA_*; 0 = none).

Checked before anything is stored. Recordings and gesture calibration
sessions share one budget: both are files a user sends for the workers to
process. Concurrent uploads of one user can pass the check together; the API's
upload throttle bounds how many that can be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Sum
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import Upload, UploadFile

_MB = 1024 * 1024


class UploadQuotaExceeded(UserFacingError):
    """The user's uploads of the last 24 hours already reach a daily limit."""


def upload_quota_check(*, user, sizes: Sequence[int]) -> None:
    """Raise UploadQuotaExceeded if one more upload of ``sizes`` bytes would
    take ``user`` past the number or the volume allowed per 24 hours."""
    since = timezone.now() - timedelta(hours=24)
    max_count = settings.EMG_UPLOAD_QUOTA_PER_DAY
    max_mb = settings.EMG_UPLOAD_QUOTA_MB_PER_DAY
    from clinic.gestures.models import GestureCalibrationFile, GestureSession

    recent = Upload.objects.filter(uploaded_by=user, created_at__gte=since)
    sessions = GestureSession.objects.filter(created_by=user, created_at__gte=since)
    if max_count and recent.count() + sessions.count() >= max_count:
        raise UploadQuotaExceeded(
            f"Upload refused: you have made {max_count} uploads in the last 24 "
            f"hours, the daily limit per user. Try again later, or ask an "
            f"administrator to raise the limit."
        )
    if max_mb:
        used = sum(
            files.aggregate(s=Sum("size_bytes"))["s"] or 0
            for files in (
                UploadFile.objects.filter(upload__in=recent),
                GestureCalibrationFile.objects.filter(session__in=sessions),
            )
        )
        total = used + sum(sizes)
        if total > max_mb * _MB:
            raise UploadQuotaExceeded(
                f"Upload refused: with this one ({sum(sizes) / _MB:.1f} MB) your "
                f"uploads of the last 24 hours would total {total / _MB:.1f} MB, "
                f"over the daily limit of {max_mb} MB per user. Try again later, "
                f"or ask an administrator to raise the limit."
            )


def upload_files_checked(*, user, files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """The files of one upload as a list, once the quota lets ``user`` send them."""
    files = list(files)
    upload_quota_check(user=user, sizes=[f.size or 0 for f in files])
    return files
