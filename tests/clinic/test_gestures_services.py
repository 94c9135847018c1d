"""Gesture adaptation services on PostgreSQL: registration, storage, a real
adaptation (tiny real checkpoint, one real person's session, 1 epoch), claim
before work and the two kinds of failure."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from clinic.errors import UserFacingError
from clinic.gestures import services
from clinic.gestures.models import GestureModel, GestureSession
from clinic.gestures.tasks import gesture_adaptation_run_task
from clinic.models import AuditEvent
from tests.clinic.factories import make_user

# Fixtures: tiny_gesture_checkpoint, gesture_model, person_file, person_path,
# fast_adaptation.
pytestmark = pytest.mark.django_db
Status = GestureSession.Status


def _session(gesture_model, files, **kwargs) -> GestureSession:
    params = {
        "user": make_user("clinician"),
        "base_model": gesture_model,
        "layout": "myo-readings",
        "files": files,
        "person_code": "G-44444",
        "k": 1,
    }
    params.update(kwargs)
    return services.gesture_session_create(**params)


@pytest.fixture
def adapt_calls(monkeypatch):
    """Count the real adaptation calls (``services._adapt``)."""
    calls = []
    real = services._adapt

    def spy(session, checkpoint, workdir):
        calls.append(session.pk)
        return real(session, checkpoint, workdir)

    monkeypatch.setattr(services, "_adapt", spy)
    return calls


def test_it_registers_a_gesture_checkpoint_once(tiny_gesture_checkpoint):
    gm, created = services.gesture_model_register(
        checkpoint_path=tiny_gesture_checkpoint
    )
    assert created and gm.layout == "myo-readings" and gm.dataset == "myo-readings"
    assert gm.class_names[:2] == ["rest", "flexion"] and gm.n_chans == 8
    again, created_again = services.gesture_model_register(
        checkpoint_path=tiny_gesture_checkpoint
    )
    assert again == gm and not created_again
    assert AuditEvent.objects.filter(action="REGISTERED").count() == 1


def test_the_import_command_is_idempotent_and_optional(tiny_gesture_checkpoint):
    out = io.StringIO()
    call_command("import_gesture_checkpoint", str(tiny_gesture_checkpoint), stdout=out)
    call_command("import_gesture_checkpoint", str(tiny_gesture_checkpoint), stdout=out)
    assert GestureModel.objects.count() == 1
    assert "already registered" in out.getvalue()
    call_command("import_gesture_checkpoint", "nope/missing.pt", "--if-present")
    assert GestureModel.objects.count() == 1


def test_it_refuses_a_checkpoint_that_is_not_a_gesture_model(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserFacingError, match="bad.pt"):
        services.gesture_model_register(checkpoint_path=bad)


def test_it_adapts_a_real_persons_session_and_keeps_the_adapted_model(
    gesture_model, person_file, fast_adaptation, tiny_gesture_checkpoint
):
    from emgcore.checkpoint import file_sha256, load_checkpoint

    session = _session(gesture_model, [person_file()])
    assert session.status == Status.QUEUED and session.files.count() == 1
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.SUCCEEDED, session.error_message
    assert session.progress == 100 and session.started_at and session.finished_at
    report = session.report
    assert report["class_names"] == gesture_model.class_names
    assert 0 <= report["accuracy_before"] <= 1 and 0 <= report["accuracy_after"] <= 1
    cm = np.asarray(report["confusion_after"])
    assert cm.shape == (8, 8)
    # One rest run per gesture is kept, so k=1 adapts 8 trials; the rest test.
    assert report["n_adapt_trials"] == 8 and report["n_test_trials"] > 8
    # the app adapts with emgcore's default gain augmentation
    assert report["train"]["augment"]["copies"] == 4
    assert cm.sum() == np.asarray(report["confusion_before"]).sum() > 0
    # early stopping's run, then the retraining on the whole trials
    assert [(h["phase"], h["epoch"]) for h in session.history] == [
        ("select", 1),
        ("refit", 1),
    ]
    assert report["train"]["refit"]["epochs"] == 1
    # The adapted model is kept under its content address, child of the base.
    assert session.adapted_checkpoint.name.endswith(f"{session.adapted_sha256}.pt")
    path = default_storage.path(session.adapted_checkpoint.name)
    assert file_sha256(path) == session.adapted_sha256
    _, meta = load_checkpoint(path)
    assert meta["parent"] == file_sha256(tiny_gesture_checkpoint)
    assert meta["metrics"]["accuracy_after"] == report["accuracy_after"]
    adapted = AuditEvent.objects.get(action=services.AUDIT_ADAPTED)
    assert adapted.object_id == str(session.pk)
    assert adapted.details["adapted_sha256"] == session.adapted_sha256
    assert adapted.details["person_code"] == "G-44444"
    assert AuditEvent.objects.filter(action="UPLOADED").count() == 1


def test_it_does_nothing_when_the_task_is_delivered_twice(
    gesture_model, person_file, fast_adaptation, adapt_calls
):
    session = _session(gesture_model, [person_file()])
    gesture_adaptation_run_task.apply(args=[session.pk])
    session.refresh_from_db()
    first = (session.status, session.finished_at, session.adapted_sha256)
    assert first[0] == Status.SUCCEEDED, session.error_message
    gesture_adaptation_run_task.apply(args=[session.pk])
    session.refresh_from_db()
    assert (session.status, session.finished_at, session.adapted_sha256) == first
    assert adapt_calls == [session.pk]
    assert AuditEvent.objects.filter(action=services.AUDIT_ADAPTED).count() == 1


def test_the_task_goes_to_the_training_queue():
    from clinic.celery import app

    # apply_async/delay route with the task's own options, as here.
    task = gesture_adaptation_run_task
    route = app.amqp.router.route(task._get_exec_options(), task.name)
    assert route["queue"].name == "training"


def test_it_enqueues_the_task_after_commit(
    gesture_model, person_file, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []

    class _Result:
        id = "task-1"

    monkeypatch.setattr(
        gesture_adaptation_run_task, "delay", lambda pk: sent.append(pk) or _Result()
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = _session(gesture_model, [person_file()])
    assert sent == []  # nothing before the commit
    callbacks[0]()
    session.refresh_from_db()
    assert sent == [session.pk] and session.task_id == "task-1"


def test_a_bad_file_ends_failed_with_the_emgcore_message(gesture_model, tmp_path):
    buf = io.BytesIO()
    np.savez(buf, something=np.zeros(3))
    bad = SimpleUploadedFile("not-a-session.npz", buf.getvalue())
    session = _session(gesture_model, [bad])
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert "not-a-session.npz" in session.error_message
    assert "no emg_k arrays" in session.error_message
    assert "myolens-gesture" not in session.error_message  # no server temp paths
    assert not session.adapted_sha256
    assert not AuditEvent.objects.filter(action=services.AUDIT_ADAPTED).exists()


def test_too_few_trials_for_k_end_failed_with_the_emgcore_message(
    gesture_model, person_file, fast_adaptation
):
    session = _session(gesture_model, [person_file()], k=10)
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert "k=10" in session.error_message


def test_an_unexpected_error_ends_failed_with_a_reference(
    gesture_model, person_file, monkeypatch, caplog
):
    def broken(*args):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services, "_adapt", broken)
    session = _session(gesture_model, [person_file()])
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert session.error_message == (
        "Adaptation failed because of a problem in the application. "
        f"Reference: gesture session {session.pk}."
    )
    assert "secret internal detail" in caplog.text  # logged for the operators


def test_a_changed_base_checkpoint_is_not_used(gesture_model, person_file):
    GestureModel.objects.filter(pk=gesture_model.pk).update(sha256="0" * 64)
    gesture_model.refresh_from_db()
    session = _session(gesture_model, [person_file()])
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert "does not match its registered checksum" in session.error_message


def test_an_altered_calibration_file_is_not_used(gesture_model, person_file):
    session = _session(gesture_model, [person_file()])
    stored = session.files.get()
    with open(default_storage.path(stored.file.name), "r+b") as fh:
        fh.seek(64)
        fh.write(b"\x00altered")
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert session.error_message.startswith(
        'The stored file "44444-1.npz" failed its integrity check'
    )


def test_it_refuses_a_layout_the_model_was_not_trained_on(gesture_model, person_file):
    with pytest.raises(UserFacingError, match="'myo-readings' file layout"):
        _session(gesture_model, [person_file()], layout="uci-semg")
    assert not GestureSession.objects.exists()


def test_calibration_files_are_content_addressed_and_never_overwritten(
    gesture_model, person_file
):
    a = _session(gesture_model, [person_file()]).files.get()
    b = _session(gesture_model, [person_file()]).files.get()
    assert a.file.name == b.file.name
    assert a.file.name == f"gestures/calibration/{a.sha256[:2]}/{a.sha256}.npz"
    assert a.original_name == "44444-1.npz"
    folder = default_storage.path(f"gestures/calibration/{a.sha256[:2]}")
    assert len(os.listdir(folder)) == 1


def test_it_adapts_from_a_csv_with_a_label_column(
    gesture_model, person_path, fast_adaptation
):
    from emgcore.io.gestures import read_myo_readings

    parts = read_myo_readings(person_path)[1:]
    rows = ["emg1,emg2,emg3,emg4,emg5,emg6,emg7,emg8,label"]
    for gf in parts:
        data = gf.recording.data.astype(int).T
        rows += [
            ",".join(map(str, r)) + f",{lab}"
            for r, lab in zip(data, gf.labels, strict=True)
        ]
    csv = SimpleUploadedFile("person.csv", ("\n".join(rows) + "\n").encode())
    session = _session(gesture_model, [csv], layout="csv", sfreq_hz=200.0)
    services.gesture_adaptation_run(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == Status.SUCCEEDED, session.error_message
    assert session.report["n_adapt_trials"] == 8


def test_a_queue_that_is_down_ends_the_session_failed_with_a_reference(
    gesture_model, person_file, django_capture_on_commit_callbacks, monkeypatch
):
    def down(pk):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(gesture_adaptation_run_task, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        session = _session(gesture_model, [person_file()])
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert "task queue is unavailable" in session.error_message
    assert f"gesture session {session.pk}" in session.error_message


def test_a_running_session_is_claimed_again_only_once_its_lease_ran_out(
    gesture_model, person_file, fast_adaptation, adapt_calls, settings
):
    from datetime import timedelta

    from django.utils import timezone

    session = _session(gesture_model, [person_file()])
    GestureSession.objects.filter(pk=session.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    assert services.gesture_adaptation_run(session_id=session.pk) == "busy"
    assert adapt_calls == []  # another worker is on it
    lost = timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S + 1)
    GestureSession.objects.filter(pk=session.pk).update(heartbeat_at=lost)
    assert services.gesture_adaptation_run(session_id=session.pk) == "claimed"
    session.refresh_from_db()
    assert adapt_calls == [session.pk] and session.attempts == 2
    assert session.status == Status.SUCCEEDED, session.error_message
