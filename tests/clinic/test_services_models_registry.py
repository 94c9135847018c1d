from __future__ import annotations

import pytest

from clinic import provenance, services
from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ModelVersion
from clinic.selectors import model_version_class_metrics
from clinic.services import (
    model_version_promote,
    model_version_register,
    model_version_rollback,
)
from tests.clinic.factories import ModelVersionFactory, make_user
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db
Status = ModelVersion.Status


def _with_sensitivity(value: float) -> dict:
    meta = ModelVersionFactory.build().metadata
    meta["metrics"]["per_class"]["myopathy"]["sensitivity"] = value
    return meta


def test_promotion_replaces_the_active_version_and_is_audited():
    admin = make_user("admin")
    old = ModelVersionFactory(is_active=True, status=Status.ACTIVE)
    new = ModelVersionFactory()
    model_version_promote(actor=admin, model_version=new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_active, old.status) == (False, Status.RETIRED)
    assert (new.is_active, new.status, new.previous_active) == (
        True,
        Status.ACTIVE,
        old,
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.PROMOTED)
    assert event.actor == admin and event.object_id == str(new.pk)


def test_promotion_is_refused_below_the_minimum_sensitivity(settings):
    settings.EMG_MIN_SENSITIVITY = 0.8
    weak = ModelVersionFactory(metadata=_with_sensitivity(0.75))
    with pytest.raises(UserFacingError, match="myopathy: sensitivity 0.75 is below"):
        model_version_promote(actor=make_user("admin"), model_version=weak)
    weak.refresh_from_db()
    assert not weak.is_active
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PROMOTED).exists()
    refused = AuditEvent.objects.get(action=AuditEvent.Action.PROMOTION_REFUSED)
    assert "below the minimum 0.80" in refused.details["refused_because"]
    settings.EMG_MIN_SENSITIVITY = 0.7
    model_version_promote(actor=make_user("admin"), model_version=weak)


def test_an_operator_override_activates_below_thresholds_and_says_so(settings):
    settings.EMG_MIN_SENSITIVITY = 0.8
    weak = ModelVersionFactory(metadata=_with_sensitivity(0.75))
    model_version_promote(
        actor=None, model_version=weak, override_reason="Shipped default model."
    )
    weak.refresh_from_db()
    assert weak.is_active
    assert weak.activation_note.startswith("Shipped default model.")
    assert (
        "myopathy: sensitivity 0.75 is below the minimum 0.80" in weak.activation_note
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.PROMOTED)
    assert event.details["override_reason"] == "Shipped default model."
    assert event.details["below_thresholds"]


def test_an_override_is_not_recorded_when_the_thresholds_are_met():
    good = ModelVersionFactory()
    model_version_promote(actor=None, model_version=good, override_reason="unused")
    good.refresh_from_db()
    assert good.is_active and good.activation_note == ""


def test_promotion_is_refused_without_an_evaluation():
    unevaluated = ModelVersionFactory(metadata={"class_names": ["a", "b"]})
    with pytest.raises(UserFacingError, match="no per-class evaluation"):
        model_version_promote(actor=None, model_version=unevaluated)


def test_rollback_restores_the_version_that_was_replaced():
    admin = make_user("admin")
    old = ModelVersionFactory()
    model_version_promote(actor=admin, model_version=old)
    new = ModelVersionFactory()
    model_version_promote(actor=admin, model_version=new)
    active = model_version_rollback(actor=admin, model_version=new)
    new.refresh_from_db()
    assert active == old and active.is_active
    assert (new.is_active, new.status) == (False, Status.RETIRED)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROLLED_BACK).count() == 1
    with pytest.raises(UserFacingError, match="nothing to roll back to"):
        model_version_rollback(actor=admin, model_version=old)
    with pytest.raises(UserFacingError, match="not the active model"):
        model_version_rollback(actor=admin, model_version=new)


def test_it_reads_per_class_metrics_with_their_intervals():
    mv = ModelVersionFactory()
    metrics = model_version_class_metrics(mv)
    assert metrics["healthy"]["sensitivity"] == {
        "value": 0.9,
        "ci_low": 0.8,
        "ci_high": 0.95,
    }
    nested = ModelVersionFactory(
        metadata={
            "class_names": ["a"],
            "metrics": {
                "test": {"per_class": {"a": {"sensitivity": 0.7, "specificity": 0.6}}}
            },
        }
    )
    assert model_version_class_metrics(nested)["a"]["specificity"]["value"] == 0.6


def test_it_registers_a_real_checkpoint_with_its_metadata(tiny_clinic_checkpoint):
    mv = model_version_register(checkpoint_path=tiny_clinic_checkpoint, activate=True)
    assert mv.is_active and mv.name == "allconvnet"
    assert mv.checkpoint_path == "tiny-allconvnet.pt"  # relative to EMG_MODEL_DIR
    assert mv.metadata["class_names"] == ["healthy", "myopathy", "neuropathy"]
    assert (
        mv.sha256
        == tiny_clinic_checkpoint.with_name(tiny_clinic_checkpoint.name + ".sha256")
        .read_text()
        .split()[0]
    )
    assert "Intended use" in mv.model_card
    with pytest.raises(UserFacingError, match="already registered"):
        model_version_register(checkpoint_path=tiny_clinic_checkpoint)


def test_it_refuses_a_checkpoint_that_does_not_match_its_sidecar(
    tiny_clinic_checkpoint,
):
    with open(tiny_clinic_checkpoint, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(UserFacingError, match="corrupt or was changed"):
        model_version_register(checkpoint_path=tiny_clinic_checkpoint)
    assert not ModelVersion.objects.exists()


# --------------------------------------------------------------------------
# The promotion gate: subject-held-out evaluations of enough people only
# --------------------------------------------------------------------------


def _evaluated(protocol: str, people: int, **extra) -> ModelVersion:
    return ModelVersionFactory(
        evaluation={
            "protocol": protocol,
            "people_per_class": {
                c: people for c in ("healthy", "myopathy", "neuropathy")
            },
            "subject_held_out": protocol == "subject_held_out",
            **extra,
        }
    )


def test_it_refuses_a_time_block_evaluation_of_the_same_people():
    # The memorising fine-tune of issue 16: high figures on the same 3 people.
    mv = _evaluated("time_block_same_people", 1, subject_held_out=False)
    with pytest.raises(UserFacingError, match="not on people it never saw"):
        model_version_promote(actor=make_user("admin"), model_version=mv, reason="r")
    mv.refresh_from_db()
    assert not mv.is_active
    refused = AuditEvent.objects.get(action=AuditEvent.Action.PROMOTION_REFUSED)
    assert "time block of the same people" in refused.details["refused_because"]
    assert refused.details["reason_given"] == "r"


def test_it_refuses_too_few_held_out_people_per_class(settings):
    settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS = 3
    mv = _evaluated("subject_held_out", 2)
    problems = services.model_version_promotion_problems(mv)
    assert any("at least 3 per class" in p for p in problems)
    settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS = 2
    assert services.model_version_promotion_problems(mv) == []


def test_it_refuses_an_evaluation_whose_people_were_in_training():
    mv = _evaluated("subject_held_out", 3, subjects=["A01", "C01", "M01"])
    mv.training_data = {"subjects": ["A01", "X"]}
    mv.save()
    problems = services.model_version_promotion_problems(mv)
    assert any("not on people it never saw" in p for p in problems)


def test_it_refuses_a_version_without_recorded_provenance():
    mv = ModelVersionFactory(evaluation={})
    problems = services.model_version_promotion_problems(mv)
    assert any("does not record how it was made" in p for p in problems)


def test_it_refuses_a_site_model_not_yet_calibrated_to_the_laboratory():
    mv = ModelVersionFactory()
    mv.metadata.setdefault("model_kwargs", {})["site_standardised"] = True
    mv.save()
    problems = services.model_version_promotion_problems(mv)
    assert any("must first be calibrated" in p for p in problems)
    mv.metadata["site_calibration"] = {"site": "Lab A", "n_recordings": 20}
    mv.save()
    assert services.model_version_promotion_problems(mv) == []


def test_promotion_and_rollback_record_their_reasons():
    admin = make_user("admin")
    old, new = ModelVersionFactory(), ModelVersionFactory()
    model_version_promote(actor=admin, model_version=old, reason="first")
    model_version_promote(actor=admin, model_version=new, reason="better on new people")
    model_version_rollback(actor=admin, model_version=new, reason="site complaint")
    promoted = AuditEvent.objects.filter(action=AuditEvent.Action.PROMOTED).first()
    assert promoted.details["reason"] == "better on new people"
    assert (
        "None" not in str(promoted.details)
        and "override_reason" not in promoted.details
    )
    rolled = AuditEvent.objects.get(action=AuditEvent.Action.ROLLED_BACK)
    assert rolled.details["reason"] == "site complaint"


def test_it_reads_the_evaluation_from_the_checkpoint_metadata(tiny_clinic_checkpoint):
    mv = model_version_register(checkpoint_path=tiny_clinic_checkpoint)
    assert mv.evaluation["protocol"] == "subject_held_out"
    assert mv.evaluation["people_per_class"]["myopathy"] == 3
    assert mv.training_data["sha256s"] == ["ab" * 32]


def test_the_shipped_models_loso_figures_are_derived_and_do_not_qualify(
    settings, data_dir
):
    """N2001 leave-one-subject-out: subject-held-out, but 2/3/2 people per class
    and healthy specificity 0.44, so it stays a candidate (make run still starts)."""
    import json

    settings.EMG_DATA_DIR = data_dir
    settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS = 3
    card = json.loads(
        (
            REPO_ROOT / "models" / "disease" / "retired" / "cnn_tcn_2026-11-22.json"
        ).read_text()
    )
    metadata = {
        "class_names": card["class_names"],
        "metrics": card["metrics"],
        "dataset": {"name": "physionet_emgdb+emglab_n2001"},
    }
    evaluation = provenance.derive_evaluation(metadata)
    assert evaluation["protocol"] == "subject_held_out"
    assert evaluation["cross_validated"]
    assert evaluation["people_per_class"] == {
        "healthy": 2,
        "myopathy": 3,
        "neuropathy": 2,
    }
    assert len(evaluation["recordings"]) == 67 == len(evaluation["sha256s"])
    training = provenance.derive_training_data(metadata)
    assert len(training["sha256s"]) == 70  # 3 emgdb + 67 N2001 data files
    mv = ModelVersionFactory(
        metadata=metadata, evaluation=evaluation, training_data=training
    )
    problems = services.model_version_promotion_problems(mv)
    assert any("2 healthy, 3 myopathy, 2 neuropathy" in p for p in problems)
    assert any("healthy: specificity 0.44 is below" in p for p in problems)


def test_the_shipped_model_passes_the_gate_on_its_people_held_out_evaluation(settings):
    """models/disease/default.pt: person-grouped CV on 208 people; make run
    activates it without an override (issue 15)."""
    settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS = 3
    path = REPO_ROOT / "models" / "disease" / "default.pt"
    mv = model_version_register(checkpoint_path=path, activate=True)
    mv.refresh_from_db()
    assert mv.is_active and not mv.activation_note
    assert services.model_version_promotion_problems(mv) == []
    evaluation = provenance.evaluation_of(mv)
    assert provenance.evaluated_on_new_people(evaluation)
    assert min(evaluation["people_per_class"].values()) >= 40
    # The figures quoted beside a result are those of one recording.
    metrics = mv.metadata["metrics"]["evaluation"]
    assert metrics["level"] == "record" and metrics["person_level"]["level"] == "person"
