from __future__ import annotations

import pytest

from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ModelVersion
from clinic.selectors import model_version_class_metrics
from clinic.services import (
    model_version_promote,
    model_version_register,
    model_version_rollback,
)
from tests.clinic.factories import ModelVersionFactory, make_user

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
    assert "below the minimum 0.80" in refused.details["reason"]
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


def test_it_registers_a_real_checkpoint_with_its_metadata(tiny_checkpoint):
    mv = model_version_register(checkpoint_path=tiny_checkpoint, activate=True)
    assert mv.is_active and mv.name == "allconvnet"
    assert mv.checkpoint_path == "tiny-allconvnet.pt"  # relative to EMG_MODEL_DIR
    assert mv.metadata["class_names"] == ["healthy", "myopathy", "neuropathy"]
    assert (
        mv.sha256
        == tiny_checkpoint.with_name(tiny_checkpoint.name + ".sha256")
        .read_text()
        .split()[0]
    )
    assert "Intended use" in mv.model_card
    with pytest.raises(UserFacingError, match="already registered"):
        model_version_register(checkpoint_path=tiny_checkpoint)


def test_it_refuses_a_checkpoint_that_does_not_match_its_sidecar(tiny_checkpoint):
    with open(tiny_checkpoint, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(UserFacingError, match="corrupt or was changed"):
        model_version_register(checkpoint_path=tiny_checkpoint)
    assert not ModelVersion.objects.exists()
