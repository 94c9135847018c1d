"""Retraining pages/API and the auditor's per-class reports (PostgreSQL)."""

from __future__ import annotations

import csv
import io

import pytest

from clinic.models import AuditEvent, ConfirmedDiagnosis, ModelVersion, RetrainingRun
from clinic.services.reports import confirmed_cases, model_version_confirmed_report
from tests.clinic.factories import (
    ModelVersionFactory,
    ResultFactory,
    RetrainingRunFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

CLASSES = ("healthy", "myopathy", "neuropathy")


def _case(mv, diagnosis: str, probabilities: dict[str, float], clinician):
    result = ResultFactory(
        model_version=mv,
        probabilities=probabilities,
        label=max(probabilities, key=probabilities.get),
        job__upload__uploaded_by=clinician,
    )
    ConfirmedDiagnosis.objects.create(
        upload=result.job.upload, diagnosis=diagnosis, confirmed_by=clinician
    )
    return result


@pytest.fixture
def cases(settings):
    """Five confirmed results of one version with known right/wrong answers."""
    settings.EMG_EVAL_N_BOOT = 50
    settings.EMG_REPORT_MIN_CASES = 10
    clinician = make_user("clinician")
    mv = ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)
    h, m, n = (
        {"healthy": 0.8, "myopathy": 0.1, "neuropathy": 0.1},
        {"healthy": 0.1, "myopathy": 0.8, "neuropathy": 0.1},
        {"healthy": 0.1, "myopathy": 0.2, "neuropathy": 0.7},
    )
    _case(mv, "HEALTHY", h, clinician)
    _case(mv, "HEALTHY", m, clinician)  # wrong: called myopathy
    _case(mv, "MYOPATHY", m, clinician)
    _case(mv, "NEUROPATHY", n, clinician)
    _case(mv, "OTHER", n, clinician)  # outside the model's classes: left out
    ResultFactory(model_version=mv)  # never confirmed: left out
    # The latest confirmation counts: first said myopathy, then neuropathy.
    r = _case(mv, "MYOPATHY", n, clinician)
    ConfirmedDiagnosis.objects.create(
        upload=r.job.upload, diagnosis="NEUROPATHY", confirmed_by=clinician
    )
    ResultFactory(model_version=ModelVersionFactory())  # another version
    return mv


def test_the_confirmed_cases_report_counts_and_scores_the_right_cases(cases):
    y, proba, names = confirmed_cases(cases)
    assert names == list(CLASSES)
    assert sorted(y.tolist()) == [0, 0, 1, 2, 2]
    report = model_version_confirmed_report(cases)
    assert report["n"] == 5 and report["too_few"]
    assert report["per_class_n"] == {"healthy": 2, "myopathy": 1, "neuropathy": 2}
    pc = report["report"]["per_class"]
    assert pc["healthy"]["sensitivity"] == pytest.approx(0.5)
    assert pc["myopathy"]["precision"] == pytest.approx(0.5)
    assert pc["neuropathy"]["sensitivity"] == pytest.approx(1.0)
    assert pc["neuropathy"]["specificity"] == pytest.approx(1.0)
    assert report["report"]["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 2]]
    assert set(report["roc"]) == set(CLASSES)


def test_an_auditor_reads_the_report_with_plots_and_a_too_few_warning(client, cases):
    auditor = make_user("auditor")
    client.force_login(auditor)
    response = client.get(f"/models/{cases.pk}/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Too few confirmed cases" in html and "n = 5" in html
    for key in ("confirmed-confusion", "confirmed-roc", "confirmed-reliability"):
        assert f'data-figure="{key}"' in html
    # The evaluation half comes from the version's metadata (sensitivity 0.90).
    assert "0.90" in html and "(0.80–0.95)" in html
    assert AuditEvent.objects.filter(
        actor=auditor, action=AuditEvent.Action.VIEWED, object_id=str(cases.pk)
    ).exists()


def test_the_csv_export_holds_both_halves_and_is_audited(client, cases):
    admin = make_user("admin")
    client.force_login(admin)
    response = client.get(f"/models/{cases.pk}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["source", "class", "metric", "value", "ci_low", "ci_high", "n"]
    body = {(r[0], r[1], r[2]): r for r in rows[2:]}
    assert float(body[("evaluation", "healthy", "sensitivity")][3]) == 0.9
    assert float(body[("evaluation", "healthy", "sensitivity")][4]) == 0.8
    assert float(body[("confirmed_cases", "healthy", "sensitivity")][3]) == 0.5
    assert body[("confirmed_cases", "all", "n_cases")][3] == "5"
    assert AuditEvent.objects.filter(
        actor=admin, action=AuditEvent.Action.EXPORTED, object_id=str(cases.pk)
    ).exists()


def test_curves_missing_from_the_metadata_are_computed_once_and_cached(
    client,
    settings,
    data_dir,
    model_dir,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from clinic.services import model_version_register, model_version_report_run
    from clinic.tasks import model_report_compute_training_task
    from tests.conftest import make_tiny_disease_checkpoint

    settings.EMG_DATA_DIR = data_dir
    settings.EMG_EVAL_N_BOOT = 20
    path = make_tiny_disease_checkpoint(model_dir / "tiny.pt")
    mv = model_version_register(checkpoint_path=path)
    auditor = make_user("auditor")
    client.force_login(auditor)
    html = client.get(f"/models/{mv.pk}/report/").content.decode()
    assert "Compute the curves" in html
    sent = []
    monkeypatch.setattr(
        model_report_compute_training_task, "delay", lambda *a: sent.append(a)
    )
    # The request only queues the job: the web process evaluates nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/models/{mv.pk}/report/compute/")
    assert response.status_code == 302 and sent == [(mv.pk, auditor.pk)]
    mv.refresh_from_db()
    assert "evaluation" not in mv.report_cache
    assert mv.report_cache["evaluation_job"]["state"] == "queued"
    html = client.get(f"/models/{mv.pk}/report/").content.decode()
    assert 'http-equiv="refresh"' in html and "Compute the curves" not in html
    assert "queued, asked by" in html
    # a second request while it waits is refused with a message
    response = client.post(f"/models/{mv.pk}/report/compute/", follow=True)
    assert "already being computed" in response.content.decode()
    assert len(sent) == 1
    # the worker runs it
    model_version_report_run(model_version_id=mv.pk, user_id=auditor.pk)
    mv.refresh_from_db()
    assert mv.report_cache["evaluation_job"]["state"] == "done"
    evaluation = mv.report_cache["evaluation"]
    assert evaluation["evaluation_set"] == "built-in hold-out"
    assert evaluation["n"] > 0 and set(evaluation["report"]["per_class"]) == set(
        CLASSES
    )
    html = client.get(f"/models/{mv.pk}/report/").content.decode()
    assert 'data-figure="evaluation-roc"' in html
    assert "Compute the curves" not in html and 'http-equiv="refresh"' not in html


def test_a_failed_curve_computation_is_a_message_and_keeps_the_stored_report(
    client, model_dir, django_capture_on_commit_callbacks, monkeypatch
):
    from clinic.services import model_version_register, model_version_report_run
    from clinic.tasks import model_report_compute_training_task
    from tests.conftest import make_tiny_disease_checkpoint

    mv = model_version_register(
        checkpoint_path=make_tiny_disease_checkpoint(model_dir / "tiny.pt")
    )
    before = dict(mv.report_cache or {})
    auditor = make_user("auditor")
    client.force_login(auditor)

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(model_report_compute_training_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/models/{mv.pk}/report/compute/")
    mv.refresh_from_db()
    job = mv.report_cache["evaluation_job"]
    assert job["state"] == "failed" and "task queue is unavailable" in job["message"]
    # the checkpoint file is gone by the time the worker runs: a clear message
    path = model_dir / "tiny.pt"
    path.unlink()
    model_version_report_run(model_version_id=mv.pk, user_id=auditor.pk)
    mv.refresh_from_db()
    job = mv.report_cache["evaluation_job"]
    assert job["state"] == "failed" and "is missing on the server" in job["message"]
    assert {k: v for k, v in mv.report_cache.items() if k != "evaluation_job"} == before
    html = client.get(f"/models/{mv.pk}/report/").content.decode()
    assert "The curves could not be computed:" in html
    assert "Compute the curves" in html  # it can be asked again


def test_an_admin_starts_a_run_from_the_form_and_polls_it(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from clinic.tasks import retraining_run_task

    admin = make_user("admin")
    base = ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)
    client.force_login(admin)
    form = client.get("/retraining/new/").content.decode()
    assert f'<option value="{base.pk}" selected>' in form
    sent = []
    monkeypatch.setattr(
        retraining_run_task,
        "delay",
        lambda run_id: sent.append(run_id) or type("R", (), {"id": "t1"})(),
    )
    data = {"base_model": base.pk, "use_emgdb": "on", "method": "tl"}
    data.update(epochs=3, learning_rate=0.001, seed=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/retraining/new/", data)
    run = RetrainingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/retraining/{run.pk}/"
    assert sent == [run.pk] and run.epochs == 3 and run.started_by == admin
    status = client.get(f"/retraining/{run.pk}/status/").json()
    assert status["status"] == "QUEUED" and status["history"] == []
    page = client.get(f"/retraining/{run.pk}/").content.decode()
    assert 'id="run-figure"' in page and "Cancel the run" in page


def test_the_form_shows_errors_beside_the_fields(client):
    client.force_login(make_user("admin"))
    base = ModelVersionFactory()
    response = client.post(
        "/retraining/new/",
        {"base_model": base.pk, "method": "tl", "epochs": 0, "learning_rate": 0.001},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose at least one source of training data." in html
    assert 'id="id_epochs_error"' in html
    assert not RetrainingRun.objects.exists()


def test_cancel_from_the_page_stops_a_queued_run(client):
    run = RetrainingRunFactory()
    client.force_login(run.started_by)
    # Without the confirmation tick the run goes on.
    response = client.post(f"/retraining/{run.pk}/cancel/")
    assert response.status_code == 400
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.QUEUED and not run.cancel_requested
    response = client.post(f"/retraining/{run.pk}/cancel/", {"confirm": "on"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RetrainingRun.Status.CANCELLED and run.cancel_requested


def test_the_api_starts_a_run_and_reports_its_progress(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from clinic.tasks import retraining_run_task

    monkeypatch.setattr(
        retraining_run_task, "delay", lambda run_id: type("R", (), {"id": "t"})()
    )
    client.force_login(make_user("admin"))
    base = ModelVersionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/retraining",
            {"base_model": base.pk, "use_n2001": True, "use_emgdb": False, "epochs": 2},
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    run = RetrainingRun.objects.get(pk=body["run_id"])
    assert run.use_n2001 and not run.use_emgdb and run.epochs == 2
    assert body["status_url"].endswith(f"/api/v1/retraining/{run.pk}")
    RetrainingRun.objects.filter(pk=run.pk).update(
        history=[{"epoch": 1, "train_loss": 1.0, "val_acc": 0.5}], progress=40
    )
    got = client.get(f"/api/v1/retraining/{run.pk}").json()
    assert got["progress"] == 40 and got["history"][0]["val_acc"] == 0.5
    bad = client.post(
        "/api/v1/retraining",
        {"base_model": 999999, "epochs": 0},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) >= {"base_model", "epochs"}


def test_the_openapi_schema_lists_the_retraining_endpoints(client):
    client.force_login(make_user("admin"))
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/retraining" in text and "/api/v1/retraining/{run_id}" in text


def test_the_default_models_report_shows_its_leave_one_subject_out_estimate(client):
    per_class = {
        c: {"sensitivity": 0.71, "sensitivity_ci": [0.4, 0.9], "specificity": 0.8}
        for c in CLASSES
    }
    loso = {
        "per_class": per_class,
        "balanced_accuracy": {"mean": 0.66, "sd": 0.05},
        "n_seeds": 5,
    }
    mv = ModelVersionFactory(
        metadata={
            "class_names": list(CLASSES),
            "metrics": {"temperature": 1.1, "n_val": 99, "n2001_loso": loso},
        }
    )
    client.force_login(make_user("auditor"))
    html = client.get(f"/models/{mv.pk}/report/").content.decode()
    assert "N2001 leave-one-subject-out" in html
    assert "0.71" in html and "balanced accuracy 0.66" in html
    assert "n = 99" not in html  # that count belongs to another split


def test_the_default_models_curves_use_its_own_validation_split(
    settings, data_dir, model_dir
):
    from clinic.services import model_version_register, model_version_report_compute
    from emgcore.checkpoint import save_checkpoint
    from emgcore.disease import Budget, disease_preprocess, new_model

    settings.EMG_DATA_DIR = data_dir
    settings.EMG_EVAL_N_BOOT = 20
    path = model_dir / "default-like.pt"
    save_checkpoint(
        path,
        new_model(seed=0),
        {
            "class_names": list(CLASSES),
            "preprocess": disease_preprocess().to_dict(),
            "train": {"stage": "disease", "budget": Budget.tiny().to_dict()},
            "dataset": {"name": "physionet_emgdb+emglab_n2001", "split_hash": None},
            "metrics": {"temperature": 1.0},
            "seed": 0,
        },
    )
    mv = model_version_register(checkpoint_path=path)
    auditor = make_user("auditor")
    mv = model_version_report_compute(user=auditor, model_version=mv)
    evaluation = mv.report_cache["evaluation"]
    assert evaluation["evaluation_set"] == "default-model validation split"
    # Whole N2001 recordings (several per class) are scored: recording level.
    assert evaluation["level"] == "recording"
    assert evaluation["report"]["n_samples"] == evaluation["n"] > 3
    assert AuditEvent.objects.filter(
        actor=auditor, details__report="evaluation computed"
    ).exists()
