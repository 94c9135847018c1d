"""Errors the clinic shows to people, and the generic message for everything else."""

from __future__ import annotations

#: What the user of a job reads when it failed for a reason in the application
#: (the log has the details); clinic.services.jobs fills in the kind's words.
GENERIC_JOB_ERROR = (
    "{work} failed because of a problem in the application. Reference: {reference}."
)
GENERIC_ANALYSIS_ERROR = GENERIC_JOB_ERROR.format(
    work="Analysis", reference="job {job_id}"
)


class UserFacingError(Exception):
    """A business rule was broken; the message is written for the user."""
