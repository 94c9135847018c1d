"""Retraining runs on PostgreSQL with a tiny real CNN-TCN and real emgdb windows."""

from __future__ import annotations

import numpy as np
import pytest

from clinic import services
from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ModelVersion, RetrainingRun
from clinic.services.retraining import split_by_subject
from clinic.tasks import retraining_run_task
from tests.clinic.factories import make_user
from tests.conftest import make_tiny_disease_checkpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retraining(settings, data_dir, tmp_path_factory, monkeypatch):
    """A few windows and bootstrap resamples, so one run takes seconds."""
    settings.EMG_DATA_DIR = data_dir
    settings.EMG_RETRAIN_MAX_WINDOWS = 12
    settings.EMG_EVAL_N_BOOT = 20
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Preprocessed windows are cached across the tests of this session.
    monkeypatch.setenv("EMG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def base_model(model_dir):
    """A tiny CNN-TCN disease checkpoint, registered and active."""
    path = make_tiny_disease_checkpoint(model_dir / "tiny-cnn-tcn.pt")
    mv = services.model_version_register(checkpoint_path=path)
    mv.is_active, mv.status = True, ModelVersion.Status.ACTIVE
    mv.save()
    return mv


@pytest.fixture
def admin(db):
    return make_user("admin")


def _start(admin, base_model, **kwargs) -> RetrainingRun:
    params = {"use_emgdb": True, "epochs": 1, "method": "scratch", "seed": 0}
    params.update(kwargs)
    return services.retraining_start(user=admin, base_model=base_model, **params)


def test_it_starts_a_queued_audited_run_on_the_training_queue(
    admin, base_model, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        retraining_run_task, "delay", lambda run_id: sent.append(run_id) or _Id()
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = _start(admin, base_model, epochs=3, learning_rate=1e-3)
    assert run.status == RetrainingRun.Status.QUEUED
    assert sent == [run.pk]
    event = AuditEvent.objects.get(action=AuditEvent.Action.RETRAINING_STARTED)
    assert event.actor == admin and event.object_id == str(run.pk)
    assert event.details["epochs"] == 3
    # RETRAINED is kept for a run that finished with a candidate.
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETRAINED).exists()
    from django.conf import settings

    from clinic.celery import app

    route = app.amqp.router.route({}, retraining_run_task.name)
    assert route["queue"].name == "training"
    assert settings.CELERY_TASK_ROUTES


class _Id:
    id = "task-1"


def test_it_refuses_a_run_without_training_data(admin, base_model):
    with pytest.raises(UserFacingError, match="at least one source"):
        _start(admin, base_model, use_emgdb=False)


def test_a_tiny_run_on_emgdb_registers_an_evaluated_candidate(
    admin, base_model, fast_retraining, settings
):
    run = _start(admin, base_model, epochs=2, method="tl", learning_rate=1e-3)
    services.retraining_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.SUCCEEDED, run.error_message
    assert run.progress == 100
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert all(h["train_loss"] > 0 for h in run.history)
    assert run.data_summary["n_train"] <= 12
    cand = run.candidate
    assert cand.status == ModelVersion.Status.CANDIDATE and not cand.is_active
    assert cand.version == f"retrain-{run.pk}"
    metrics = cand.metadata["metrics"]
    for cls in ("healthy", "myopathy", "neuropathy"):
        pc = metrics["per_class"][cls]
        assert 0.0 <= pc["specificity"] <= 1.0
        assert "sensitivity_ci" in pc
    assert cand.metadata["parent"] == base_model.sha256
    assert "Intended use" in cand.model_card
    # The candidate is kept in file storage (analysis workers on other hosts
    # fetch it), under its content address.
    import hashlib

    from django.core.files.storage import default_storage

    name = f"models/disease/{cand.sha256[:2]}/{cand.sha256}.pt"
    assert cand.checkpoint_path == f"storage:{name}"
    with default_storage.open(name, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == cand.sha256
    # The candidate's metrics feed the promotion rules like any other version.
    from clinic.selectors import model_version_class_metrics

    assert set(model_version_class_metrics(cand)) == {
        "healthy",
        "myopathy",
        "neuropathy",
    }
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REGISTERED, object_id=str(cand.pk), actor=admin
    ).exists()
    finished = AuditEvent.objects.get(action=AuditEvent.Action.RETRAINED)
    assert finished.actor == admin and finished.object_id == str(run.pk)
    assert finished.details["candidate"] == str(cand)
    # emgdb has one person per class: validated on a later time block of the
    # same people, which the provenance records and the gate refuses.
    assert cand.evaluation["protocol"] == "time_block_same_people"
    assert cand.evaluation["people_per_class"] == {
        "healthy": 1,
        "myopathy": 1,
        "neuropathy": 1,
    }
    assert not cand.evaluation["subject_held_out"]
    assert len(cand.training_data["sha256s"]) == 3
    problems = services.model_version_promotion_problems(cand)
    assert "not on people it never saw" in problems[0]


def test_running_the_task_twice_changes_nothing_the_second_time(
    admin, base_model, fast_retraining
):
    run = _start(admin, base_model)
    retraining_run_task.run(run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.SUCCEEDED, run.error_message
    before = (run.candidate_id, run.history, run.finished_at)
    n_versions = ModelVersion.objects.count()
    retraining_run_task.run(run.pk)
    run.refresh_from_db()
    assert (run.candidate_id, run.history, run.finished_at) == before
    assert ModelVersion.objects.count() == n_versions


def test_cancel_before_the_worker_starts_ends_the_run_at_once(admin, base_model):
    run = _start(admin, base_model)
    run = services.retraining_cancel(user=admin, run=run)
    assert run.status == RetrainingRun.Status.CANCELLED and run.cancel_requested
    services.retraining_run(run_id=run.pk)  # the message still arrives
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.CANCELLED and run.candidate is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.RETRAINING_CANCELLED)
    assert event.actor == admin and event.object_id == str(run.pk)
    assert event.details["stops"] == "at once (it was queued)"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETRAINED).exists()


def test_cancel_during_the_first_epoch_stops_without_a_candidate(
    admin, base_model, fast_retraining, monkeypatch
):
    from clinic.services import retraining_candidate

    run = _start(admin, base_model, epochs=5)
    real = retraining_candidate._epoch_callback

    def cancelling_callback(run_id, epochs):
        inner = real(run_id, epochs)

        def on_epoch(record):
            if record["epoch"] == 1:
                # An admin presses "Cancel" while epoch 1 trains.
                RetrainingRun.objects.filter(pk=run_id).update(cancel_requested=True)
            return inner(record)

        return on_epoch

    monkeypatch.setattr(retraining_candidate, "_epoch_callback", cancelling_callback)
    n_versions = ModelVersion.objects.count()
    services.retraining_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.CANCELLED
    assert [h["epoch"] for h in run.history] == [1]
    assert run.candidate is None and ModelVersion.objects.count() == n_versions
    with pytest.raises(UserFacingError, match="already finished"):
        services.retraining_cancel(user=admin, run=run)


def test_a_base_model_with_a_changed_file_fails_with_a_message(
    admin, base_model, fast_retraining, model_dir
):
    (model_dir / "tiny-cnn-tcn.pt").write_bytes(b"not a checkpoint")
    run = _start(admin, base_model)
    services.retraining_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.FAILED
    assert "does not match its registered checksum" in run.error_message


def test_only_confirmed_uploads_without_data_fail_with_a_message(
    admin, base_model, fast_retraining
):
    run = _start(admin, base_model, use_emgdb=False, use_confirmed=True)
    services.retraining_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.FAILED
    assert "no usable recordings" in run.error_message


def test_the_split_keeps_every_person_on_one_side(rng):
    from emgcore.datasets.base import WindowSet

    # Class 0: four people; class 1: one person with one long recording.
    subjects = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 10 + ["d"] * 10 + ["e"] * 40)
    n = len(subjects)
    starts = np.concatenate([np.arange(10) * 100] * 4 + [np.arange(40) * 100])
    ws = WindowSet(
        X=rng.standard_normal((n, 1, 8)).astype(np.float32),
        y=np.array([0] * 40 + [1] * 40),
        class_names=("x", "y"),
        recording_ids=subjects,
        subjects=subjects,
        start_samples=starts,
        stop_samples=starts + 100,
        sfreq=1000.0,
        orig_sfreq=np.full(n, 1000.0),
    )
    train, val = split_by_subject(ws, seed=3)
    assert not set(ws.subjects[train][ws.y[train] == 0]) & set(
        ws.subjects[val][ws.y[val] == 0]
    )
    assert len(set(ws.subjects[val][ws.y[val] == 0])) == 1
    from emgcore.datasets.splits import overlapping_windows

    # The single-person class is split in time with no raw sample shared.
    one = np.flatnonzero(ws.y == 1)
    assert np.any(np.isin(one, train)) and np.any(np.isin(one, val))
    assert len(overlapping_windows(ws, train, val)) == 0


def test_confirmed_uploads_join_the_training_data_as_their_own_people(
    admin, base_model, fast_retraining, uploaded_files
):
    clinician = make_user("clinician")
    job = services.upload_create(
        user=clinician, files=uploaded_files("emg_healthy"), patient_code="P-77"
    )
    services.confirmed_diagnosis_create(
        user=clinician, upload=job.upload, diagnosis="HEALTHY"
    )
    other = services.upload_create(
        user=clinician, files=uploaded_files("emg_neuropathy"), patient_code="P-78"
    )
    # "Other" is no class of the model: this upload stays out.
    services.confirmed_diagnosis_create(
        user=clinician, upload=other.upload, diagnosis="OTHER"
    )
    run = _start(admin, base_model, use_confirmed=True)
    services.retraining_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.SUCCEEDED, run.error_message
    sources = run.data_summary["sources"]
    assert sources["confirmed_uploads"]["recordings"] == 1
    # emg_healthy gives 24 one-second windows with 50 % overlap at 1 kHz.
    assert sources["confirmed_uploads"]["windows"] == 24
    assert sources["physionet_emgdb"]["recordings"] == 3
    assert run.candidate.metadata["dataset"]["name"] == "emgdb+confirmed uploads"


def test_a_task_queue_that_is_down_ends_the_run_failed_with_a_reference(
    admin, base_model, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(run_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(retraining_run_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = _start(admin, base_model)
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.FAILED
    assert f"Reference: retraining {run.pk}" in run.error_message


def test_the_window_feature_model_is_refused_as_a_base_and_left_off_the_form(
    admin, base_model
):
    from clinic.forms import RetrainingForm
    from tests.clinic.factories import ModelVersionFactory

    feature = ModelVersionFactory(
        name="feature_linear",
        metadata={"model_name": "feature_linear", "class_names": ["healthy"]},
    )
    with pytest.raises(UserFacingError, match="refitted from the clinical study"):
        _start(admin, feature)
    assert not RetrainingRun.objects.exists()
    choices = list(RetrainingForm().fields["base_model"].queryset)
    assert base_model in choices and feature not in choices
