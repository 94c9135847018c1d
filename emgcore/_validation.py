"""Small checks that build readable error messages (MNE style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emgcore.errors import InvalidRecordingError

# Limits every reader applies. They are generous for real EMG hardware and
# exist to catch corrupt headers and wrong arguments, not to restrict users.
MIN_SFREQ_HZ = 10.0
MAX_SFREQ_HZ = 100_000.0
MAX_CHANNELS = 512
# 2**28 float32 samples is 1 GiB in memory: about 3 h of 12-channel 2 kHz sEMG.
MAX_TOTAL_SAMPLES = 2**28


def _check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ValueError."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"Invalid value for the '{name}' parameter. Allowed values are "
            f"{choices}, but got {value!r} instead."
        )
    return value


def _check_sfreq(sfreq: float, *, what: str = "recording") -> float:
    """Check a sampling rate in Hz against the limits above."""
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError):
        raise InvalidRecordingError(
            f"The sampling rate of the {what} is not a number: {sfreq!r}."
        ) from None
    if not (MIN_SFREQ_HZ <= sfreq <= MAX_SFREQ_HZ):
        raise InvalidRecordingError(
            f"Sampling rate {sfreq:g} Hz of the {what} is outside the supported "
            f"range {MIN_SFREQ_HZ:g}-{MAX_SFREQ_HZ:g} Hz."
        )
    return sfreq
