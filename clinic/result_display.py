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
