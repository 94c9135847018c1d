"""What a result's headline says besides the estimate (issue 16).

The estimate alone ("most consistent with healthy, 0.98") overstates what a
model knows; the headline therefore carries the version's performance on new
people in plain words, and says so when the uploaded recording is one of the
model's own training recordings (its figures then mean nothing for it).
"""

from __future__ import annotations

from typing import Any

from clinic import provenance, selectors

#: Labels that are not a class: no class-specific sentence for them.
NOT_A_CLASS = {"inconclusive", "not_analysable"}


def result_headline(result) -> dict[str, Any]:
    """``performance``: one sentence or None; ``training_matches``: the
    upload's file hashes that are in the model's training data."""
    mv = result.model_version
    sentence = None
    if result.label not in NOT_A_CLASS:
        sentence = provenance.performance_sentence(
            mv, result.label, selectors.model_version_class_metrics(mv)
        )
    hashes = [f.sha256 for f in result.job.upload.files.all()]
    return {
        "performance": sentence,
        "training_matches": provenance.training_recording_matches(mv, hashes),
    }


def job_outcome(job) -> dict[str, str]:
    """What one analysis came to, in a word or two, for the recordings lists:
    ``text`` and ``css`` (a status-* class)."""
    from clinic.models import AnalysisJob, Result

    if job is None:
        return {"text": "Not analysed", "css": "status-none"}
    if job.status == AnalysisJob.Status.QUEUED:
        return {"text": "Queued", "css": "status-queued"}
    if job.status == AnalysisJob.Status.RUNNING:
        return {"text": "Running", "css": "status-running"}
    if job.status == AnalysisJob.Status.FAILED:
        return {"text": "Failed", "css": "status-failed"}
    result = getattr(job, "result", None)  # none: RelatedObjectDoesNotExist
    if result is None:
        return {"text": "Failed", "css": "status-failed"}
    if result.label == Result.NOT_ANALYSABLE:
        return {"text": "Not analysable", "css": "status-not-analysable"}
    if result.label == "inconclusive":
        return {"text": "Inconclusive", "css": "status-inconclusive"}
    # The class alone: its probability is read on the result page, beside the
    # model's performance on new people (a bare "0.98" in a list overstates it).
    return {
        "text": result.label.replace("_", " ").capitalize(),
        "css": "status-succeeded",
    }
