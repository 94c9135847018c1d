"""Errors the clinic shows to people, and the generic message for everything else."""

from __future__ import annotations

GENERIC_ANALYSIS_ERROR = (
    "Analysis failed because of a problem in the application. Reference: job {job_id}."
)


class UserFacingError(Exception):
    """A business rule was broken; the message is written for the user."""
