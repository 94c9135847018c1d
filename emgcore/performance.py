"""A checkpoint's expected performance on new people, in plain words.

Read from the metadata that ``studies/shipped_model.py`` (or any trainer)
writes: ``metadata["evaluation"]`` says how the figures were measured, and
``metadata["metrics"]["evaluation"]`` holds them. Only a subject-held-out
evaluation says anything about a new patient; anything else is reported as
unknown rather than quoted.
"""

from __future__ import annotations

from typing import Any


def expected_performance(metadata: dict[str, Any]) -> dict[str, Any]:
    """``{"known": bool, "text": str, ...figures}`` for ``predict`` and cards."""
    provenance = metadata.get("evaluation") or {}
    figures = (metadata.get("metrics") or {}).get("evaluation") or {}
    per_class = figures.get("per_class") or {}
    if not provenance.get("subject_held_out") or not per_class:
        return {
            "known": False,
            "text": "This model has no recorded evaluation on people it never saw, "
            "so how often it is right for a new patient is unknown.",
        }
    # Figures measured per recording describe one upload, not a patient's
    # whole examination: say which, so a clinician reads them right.
    per_recording = figures.get("level") in ("record", "recording")
    unit = "recordings of people" if per_recording else "people"
    parts = []
    for cls, m in per_class.items():
        sens, spec = m.get("sensitivity"), m.get("specificity")
        if sens is None or spec is None:
            continue
        parts.append(
            f"{cls}: found in {round(100 * sens)} % of {unit} who have it, "
            f"wrongly suggested for {round(100 * (1 - spec))} % of those who do not"
        )
    ba = figures.get("balanced_accuracy")
    n = figures.get("n_people")
    head = "On people it never saw in training"
    if n:
        head += f" ({n} people"
        if per_recording:
            head += ", judged one recording at a time"
        head += f", balanced accuracy {ba:.2f})" if ba is not None else ")"
    text = head + ": " + "; ".join(parts) + "."
    cross = figures.get("cross_site") or {}
    if (metadata.get("model_kwargs") or {}).get("site_standardised") and cross:
        # Calibrated to a laboratory it was not fitted on, the cross-site test
        # is the closer guide than the pooled figures above.
        low, high = min(cross.values()), max(cross.values())
        text += (
            " At a laboratory other than the two it was fitted on, after its site "
            f"calibration, the cross-site test gave {low:.2f}-{high:.2f} balanced "
            "accuracy per person; validate it on your own patients."
        )
    return {
        "known": True,
        "text": text,
        "balanced_accuracy": ba,
        "n_people": n,
        "per_class": {
            c: {
                "sensitivity": m.get("sensitivity"),
                "specificity": m.get("specificity"),
            }
            for c, m in per_class.items()
        },
    }
