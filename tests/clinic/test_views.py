from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import AnalysisJob, AuditEvent, ConfirmedDiagnosis, Upload
from tests.clinic.factories import (
    AnalysisJobFactory,
    ModelVersionFactory,
    ResultFactory,
    UploadFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician_client(client):
    user = make_user("clinician")
    client.force_login(user)
    client.user = user
    return client


def _form(**files):
    data = {
        "patient_code": "P-12",
        "muscle": "deltoid",
        "side": "RIGHT",
        "electrode_type": "NEEDLE",
        "notes": "",
    }
    data.update(files)
    return data


def test_the_login_page_signs_people_in_and_audits_it(client):
    user = make_user("clinician")
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "a-long-test-password-1"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "LOGIN" in actions and "LOGIN_FAILED" in actions
    failed = AuditEvent.objects.get(action="LOGIN_FAILED")
    assert "wrong" not in json.dumps(failed.details)


def test_an_upload_redirects_to_its_job_page(clinician_client, uploaded_files):
    response = clinician_client.post(
        "/uploads/new/", _form(files=uploaded_files("emg_healthy"))
    )
    job = AnalysisJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.upload.files.count() == 2
    page = clinician_client.get(response["Location"])
    assert b'data-status-url="/jobs/%d/status/"' % job.pk in page.content
    assert b"<progress" in page.content


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"patient_code": "Jane Doe"}, "patient_code", "letters, digits"),
        ({"patient_code": ""}, "patient_code", "This field is required"),
        ({}, "files", "Choose the recording file"),
    ],
)
def test_form_errors_are_shown_beside_their_field(
    clinician_client, uploaded_files, data, field, message
):
    body = _form(files=uploaded_files("emg_healthy")) if field != "files" else _form()
    body.update(data)
    response = clinician_client.post("/uploads/new/", body)
    assert response.status_code == 400
    html = response.content.decode()
    error_block = html.split(f'id="id_{field}_error"')[1].split("</ul>")[0]
    assert message in error_block
    assert not Upload.objects.exists()


def test_a_header_without_its_data_file_is_a_field_error(
    clinician_client, uploaded_files
):
    response = clinician_client.post(
        "/uploads/new/", _form(files=uploaded_files("emg_healthy", (".hea",)))
    )
    assert response.status_code == 400
    assert "emg_healthy.hea needs its .dat data file" in response.content.decode()
    assert not Upload.objects.exists()


def test_it_rejects_unknown_extensions_and_oversized_uploads(
    clinician_client, settings
):
    exe = SimpleUploadedFile("virus.exe", b"MZ")
    response = clinician_client.post("/uploads/new/", _form(files=[exe]))
    assert "are not accepted" in response.content.decode()
    settings.EMG_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.csv", b"1\n" * 600_000)
    response = clinician_client.post("/uploads/new/", _form(files=[big]))
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.content.decode()


def test_the_status_endpoint_reports_progress_and_the_result_url(clinician_client):
    job = AnalysisJobFactory(
        upload=UploadFactory(uploaded_by=clinician_client.user),
        status=AnalysisJob.Status.RUNNING,
        progress=35,
    )
    body = clinician_client.get(f"/jobs/{job.pk}/status/").json()
    # The page's clock (tests/clinic/test_views_jobs.py checks its values).
    assert body.pop("timing")["remaining"] == "no estimate yet"
    assert body == {
        "id": job.pk,
        "status": "RUNNING",
        "progress": 35,
        "error": None,
        "finished": False,
        "result": None,
    }
    result = ResultFactory(job__upload=UploadFactory(uploaded_by=clinician_client.user))
    body = clinician_client.get(f"/jobs/{result.job.pk}/status/").json()
    assert body["finished"] and body["result_url"] == f"/jobs/{result.job.pk}/result/"
    assert body["result"]["label"] == "myopathy"


def test_the_result_page_shows_everything_a_clinician_needs(clinician_client):
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=clinician_client.user, notes="n1"),
        signal_preview={
            "sfreq": 1000.0,
            "decimated": False,
            "band_hz": [20, 450],
            "channels": [
                {
                    "name": "EMG",
                    "unit": "mV",
                    "t_s": [0, 0.001],
                    "raw": [0.1, -0.2],
                    "filtered": [0.05, -0.1],
                }
            ],
        },
    )
    response = clinician_client.get(f"/jobs/{result.job.pk}/result/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Decision support, not a diagnosis." in html
    assert "Most consistent with <strong>Myopathy</strong>" in html
    assert "0.800" in html  # the myopathy probability
    assert "0.90 (0.80–0.95)" in html  # sensitivity with its interval
    assert "js/vendor/plotly.min.js" in html and "cdn" not in html.lower()
    figure = json.loads(
        html.split('id="figure-data" type="application/json">')[1].split("</script>")[0]
    )
    names = [trace["name"] for trace in figure["data"]]
    assert names[:2] == ["raw", "filtered 20-450 Hz"]
    assert {"healthy", "myopathy", "neuropathy"} <= set(names)
    assert AuditEvent.objects.filter(action="VIEWED").count() == 1
    assert "n1" in html  # the clinician sees notes


def test_an_inconclusive_result_is_never_shown_as_a_class(clinician_client):
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=clinician_client.user),
        label="inconclusive",
        confidence=0.41,
        probabilities={"healthy": 0.3, "myopathy": 0.41, "neuropathy": 0.29},
    )
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "<strong>Inconclusive.</strong>" in html
    assert "Most consistent with" not in html


def test_auditors_see_pseudonyms_but_not_free_text_notes(client):
    result = ResultFactory(job__upload=UploadFactory(notes="seen by Dr Smith"))
    client.force_login(make_user("auditor"))
    html = client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert result.job.upload.patient_code in html
    assert "Dr Smith" not in html
    assert 'action="/jobs/' not in html  # no confirmation form


def test_exports_download_as_attachments(clinician_client):
    result = ResultFactory(job__upload=UploadFactory(uploaded_by=clinician_client.user))
    response = clinician_client.get(f"/jobs/{result.job.pk}/export.csv")
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert clinician_client.get(f"/jobs/{result.job.pk}/export.pdf").status_code == 404


def test_the_printable_report_has_a_print_stylesheet(clinician_client):
    result = ResultFactory(job__upload=UploadFactory(uploaded_by=clinician_client.user))
    html = clinician_client.get(f"/jobs/{result.job.pk}/report/").content.decode()
    assert "css/print.css" in html and "Reviewed by" in html


def test_a_clinician_records_the_confirmed_diagnosis(clinician_client):
    result = ResultFactory(job__upload=UploadFactory(uploaded_by=clinician_client.user))
    url = f"/jobs/{result.job.pk}/confirm/"
    response = clinician_client.post(url, {"diagnosis": "NOT-A-CLASS"})
    assert response.status_code == 400
    assert 'id="id_diagnosis_error"' in response.content.decode()
    response = clinician_client.post(
        url, {"diagnosis": "NEUROPATHY", "note": "NCS", "confirm": "on"}
    )
    assert response.status_code == 302
    row = ConfirmedDiagnosis.objects.get()
    assert (row.diagnosis, row.confirmed_by) == ("NEUROPATHY", clinician_client.user)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "Neuropathy, recorded by" in html


def test_admins_promote_from_the_registry_page_and_see_refusals(client, settings):
    client.force_login(make_user("admin"))
    settings.EMG_MIN_SPECIFICITY = 0.99
    mv = ModelVersionFactory()
    page = client.get("/models/").content.decode()
    assert "Cannot be promoted" in page and "specificity 0.85 is below" in page
    confirm_page = client.get(f"/models/{mv.pk}/promote/").content.decode()
    assert (
        "Cannot be promoted" in confirm_page
        and "<form" not in confirm_page.split("promotion-refused")[1]
    )
    why = {"reason": "better on new people", "confirm": "on"}
    response = client.post(f"/models/{mv.pk}/promote/", why, follow=True)
    assert "cannot be promoted" in response.content.decode()
    mv.refresh_from_db()
    assert not mv.is_active
    settings.EMG_MIN_SPECIFICITY = 0.5
    # A confirmation and a reason are required.
    unconfirmed = client.post(f"/models/{mv.pk}/promote/", {"reason": "because"})
    assert unconfirmed.status_code == 400
    assert (
        client.post(f"/models/{mv.pk}/promote/", {"confirm": "on"}).status_code == 400
    )
    response = client.post(f"/models/{mv.pk}/promote/", why, follow=True)
    assert "is now the active model" in response.content.decode()
    event = AuditEvent.objects.get(action="PROMOTED")
    assert event.details["reason"] == "better on new people"


def test_auditors_filter_the_audit_trail(client):
    from clinic.services import audit_record

    auditor = make_user("auditor")
    alice = make_user("clinician", username="alice")
    audit_record(actor=alice, action="EXPORTED", details={"format": "csv"})
    audit_record(actor=make_user("clinician", username="bob"), action="VIEWED")
    client.force_login(auditor)
    html = client.get("/audit/", {"actor": "alice"}).content.decode()
    assert "Exported" in html and "<dt>Format</dt><dd>csv</dd>" in html
    assert ">bob<" not in html
    html = client.get("/audit/", {"action": "VIEWED"}).content.decode()
    assert ">bob<" in html and "<dd>csv</dd>" not in html


def test_a_clinician_finds_a_patients_recordings_and_reanalyses_one(
    clinician_client, django_capture_on_commit_callbacks
):
    mine = UploadFactory(uploaded_by=clinician_client.user, patient_code="PX-1")
    UploadFactory(uploaded_by=clinician_client.user, patient_code="PX-2")
    html = clinician_client.get("/", {"patient": "px-1"}).content.decode()
    assert "PX-1" in html and "PX-2" not in html
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = clinician_client.post(f"/uploads/{mine.pk}/reanalyse/")
    job = AnalysisJob.objects.get(upload=mine)
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == AnalysisJob.Status.QUEUED and len(callbacks) == 1


def test_a_result_from_an_older_model_offers_a_new_analysis(clinician_client):
    from clinic.models import ModelVersion

    result = ResultFactory(job__upload=UploadFactory(uploaded_by=clinician_client.user))
    ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "A newer model" in html
    assert f'action="/uploads/{result.job.upload_id}/reanalyse/"' in html


def test_a_request_far_over_the_limit_is_413(clinician_client, settings):
    settings.EMG_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.csv", b"1\n" * 1_500_000)
    response = clinician_client.post("/uploads/new/", _form(files=[big]))
    assert response.status_code == 413
    assert "the limit is 1 MB" in response.content.decode()
    assert not Upload.objects.exists()


def test_the_upload_page_says_why_no_model_is_active(client, settings):
    settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS = 3
    ModelVersionFactory(
        evaluation={
            "protocol": "time_block_same_people",
            "people_per_class": {"healthy": 1},
        }
    )
    client.force_login(make_user("clinician"))
    page = client.get("/uploads/new/").content.decode()
    assert "No disease model is active" in page
    assert "time block of the same people" in page


def test_the_audit_trail_names_objects_and_exports_csv(client):
    from clinic.services import model_version_promote

    mv = ModelVersionFactory(version="v3")
    model_version_promote(actor=make_user("admin"), model_version=mv, reason="why not")
    client.force_login(make_user("auditor"))
    csv_text = client.get("/audit/export.csv").content.decode()
    assert "Model version cnn_tcn v3 (disease)" in csv_text
    assert "Reason: why not" in csv_text and "None" not in csv_text
    assert AuditEvent.objects.filter(action="EXPORTED").exists()


def test_the_audit_trail_names_each_retraining_action_in_words(client):
    from clinic.services import retraining_cancel, retraining_start

    admin = make_user("admin")
    base = ModelVersionFactory(version="v1")
    run = retraining_start(user=admin, base_model=base, epochs=2)
    retraining_cancel(user=admin, run=run)
    client.force_login(make_user("auditor"))
    html = client.get("/audit/").content.decode()
    assert "Started a retraining" in html and "Cancelled a retraining" in html
    # Only the action filter's option names it: no row is logged as "Retrained".
    assert html.count("Retrained model") == 1
    assert f"Retraining run {run.pk} of cnn_tcn v1" in html
    assert "<dt>Stops</dt><dd>at once (it was queued)</dd>" in html
    csv_text = client.get("/audit/export.csv", {"action": "RETRAINING_CANCELLED"})
    lines = csv_text.content.decode().strip().splitlines()
    assert len(lines) == 2 and "Cancelled a retraining" in lines[1]
    assert "None" not in csv_text.content.decode()
