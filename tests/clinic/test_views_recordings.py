"""The recordings list, a patient's page and the removal of failed uploads."""

from __future__ import annotations

import pytest

from clinic.models import AnalysisJob, AuditEvent, Result, Upload
from tests.clinic.factories import (
    AnalysisJobFactory,
    ResultFactory,
    TeamFactory,
    UploadFactory,
    UploadFileFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

FAILED = AnalysisJob.Status.FAILED


@pytest.fixture
def clinician_client(client):
    user = make_user("clinician", team=TeamFactory(name="neuro"))
    client.force_login(user)
    client.user = user
    return client


def _failed_upload(user, code="P-0099", message="The file has no EMG channel."):
    upload = UploadFactory(uploaded_by=user, patient_code=code)
    UploadFileFactory(upload=upload, original_name="rec.csv")
    AnalysisJobFactory(upload=upload, status=FAILED, error_message=message)
    return upload


def _not_analysable(user, code="P-0098"):
    return ResultFactory(
        job__upload=UploadFactory(uploaded_by=user, patient_code=code),
        label=Result.NOT_ANALYSABLE,
        probabilities=None,
        confidence=None,
    ).job.upload


# -- search and the outcome column ------------------------------------------


def test_search_finds_patient_codes_by_their_start_in_any_case(clinician_client):
    user = clinician_client.user
    UploadFactory(uploaded_by=user, patient_code="P-0012")
    UploadFactory(uploaded_by=user, patient_code="P-0345")
    UploadFactory(uploaded_by=user, patient_code="Q-0012")
    html = clinician_client.get("/", {"patient": "p-00"}).content.decode()
    assert "P-0012" in html
    assert "P-0345" not in html and "Q-0012" not in html
    # A match in the middle of a code is not a prefix.
    html = clinician_client.get("/", {"patient": "0012"}).content.decode()
    assert "No recordings of a patient whose code starts with" in html
    assert "P-0012" not in html.split('id="no-match"')[0].split("</form>")[-1]


def test_an_empty_search_says_so_unlike_an_empty_list(clinician_client):
    empty = clinician_client.get("/").content.decode()
    assert "No recordings to show yet" in empty
    assert "starts with" not in empty
    UploadFactory(uploaded_by=clinician_client.user, patient_code="P-1")
    miss = clinician_client.get("/", {"patient": "ZZ"}).content.decode()
    assert "No recordings of a patient whose code starts with “ZZ”" in miss
    assert "No recordings to show yet" not in miss


def test_the_list_shows_each_uploads_outcome(clinician_client):
    user = clinician_client.user
    ResultFactory(job__upload=UploadFactory(uploaded_by=user, patient_code="A-1"))
    ResultFactory(
        job__upload=UploadFactory(uploaded_by=user, patient_code="A-2"),
        label="inconclusive",
    )
    _not_analysable(user, code="A-3")
    _failed_upload(user, code="A-4")
    AnalysisJobFactory(
        upload=UploadFactory(uploaded_by=user, patient_code="A-5"),
        status=AnalysisJob.Status.RUNNING,
    )
    html = clinician_client.get("/").content.decode()
    cells = [c.split("</td>")[0] for c in html.split('<td class="outcome">')[1:]]
    texts = [c.split('">')[-1].split("<")[0] for c in cells]
    # Newest first: A-5 ... A-1.
    assert texts == ["Running", "Failed", "Not analysable", "Inconclusive", "Myopathy"]


def test_a_team_mate_sees_the_list_but_another_team_does_not(client):
    team = TeamFactory(name="neuro")
    owner = make_user("clinician", team=team)
    UploadFactory(uploaded_by=owner, patient_code="T-1")
    client.force_login(make_user("clinician", team=team))
    assert "T-1" in client.get("/").content.decode()
    client.force_login(make_user("clinician", team=TeamFactory(name="other")))
    assert "T-1" not in client.get("/", {"patient": "T"}).content.decode()


# -- the patient's page ------------------------------------------------------


def test_the_patient_page_lists_their_recordings_and_results_over_time(
    clinician_client,
):
    user = clinician_client.user
    first = ResultFactory(
        job__upload=UploadFactory(
            uploaded_by=user, patient_code="P-7", muscle="deltoid"
        ),
        label="healthy",
    )
    AnalysisJobFactory(upload=first.job.upload, status=FAILED)  # a later retry
    ResultFactory(
        job__upload=UploadFactory(uploaded_by=user, patient_code="P-7", muscle="biceps")
    )
    UploadFactory(uploaded_by=user, patient_code="P-70", muscle="quadriceps")
    listing = clinician_client.get("/").content.decode()
    assert 'href="/patients/P-7/"' in listing
    html = clinician_client.get("/patients/p-7/").content.decode()
    assert "Recordings of P-7" in html
    # Oldest recording first; only this patient's (not P-70's).
    assert html.index("deltoid") < html.index("biceps")
    assert "quadriceps" not in html
    assert f'href="/jobs/{first.job.pk}/result/"' in html
    assert "Healthy" in html and "Myopathy" in html and "Failed" in html


def test_the_patient_page_is_scoped_like_the_list(client):
    owner = make_user("clinician", team=TeamFactory(name="neuro"))
    UploadFactory(uploaded_by=owner, patient_code="S-1")
    client.force_login(make_user("clinician", team=TeamFactory(name="other")))
    assert client.get("/patients/S-1/").status_code == 404
    assert client.get("/patients/NOBODY/").status_code == 404
    client.force_login(owner)
    assert client.get("/patients/S-1/").status_code == 200


# -- removal -------------------------------------------------------------------


def test_the_owner_removes_a_failed_upload_after_confirming_with_a_reason(
    clinician_client,
):
    upload = _failed_upload(clinician_client.user)
    url = f"/uploads/{upload.pk}/remove/"
    listing = clinician_client.get("/").content.decode()
    assert f'href="{url}"' in listing
    page = clinician_client.get(url).content.decode()
    assert "The file has no EMG channel." in page and 'name="reason"' in page
    # Without the tick nothing happens.
    response = clinician_client.post(url, {"reason": "wrong file sent"})
    assert response.status_code == 400
    assert Upload.objects.get(pk=upload.pk).removed_at is None
    response = clinician_client.post(
        url, {"reason": "wrong file sent", "confirm": "on"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    upload.refresh_from_db()
    assert upload.removed_at is not None and upload.removed_by == clinician_client.user
    assert upload.removal_reason == "wrong file sent"
    # Kept, with its file, but hidden from the list, the patient page, the job.
    stored = upload.files.get()
    assert stored.file.storage.exists(stored.file.name)
    listing = clinician_client.get("/").content.decode()
    assert "was removed from the lists" in listing  # the message, once
    assert 'href="/patients/P-0099/"' not in listing
    assert clinician_client.get("/patients/P-0099/").status_code == 404
    job = upload.jobs.get()
    assert clinician_client.get(f"/jobs/{job.pk}/").status_code == 404
    assert clinician_client.get(f"/api/v1/jobs/{job.pk}").status_code == 404
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPLOAD_REMOVED)
    assert event.actor == clinician_client.user
    assert event.object_id == str(upload.pk)
    assert event.details["reason"] == "wrong file sent"
    # A second removal of the same upload finds nothing to remove.
    assert (
        clinician_client.post(url, {"reason": "again!", "confirm": "on"}).status_code
        == 404
    )


def test_a_not_analysable_upload_can_be_removed(clinician_client):
    upload = _not_analysable(clinician_client.user)
    job = upload.jobs.get()
    page = clinician_client.get(f"/jobs/{job.pk}/result/").content.decode()
    assert f'href="/uploads/{upload.pk}/remove/"' in page  # offered on its result
    response = clinician_client.post(
        f"/uploads/{upload.pk}/remove/",
        {"reason": "electrode came off", "confirm": "on"},
    )
    assert response.status_code == 302
    assert Upload.objects.get(pk=upload.pk).removed_at is not None


def test_an_upload_with_a_result_cannot_be_removed_and_the_page_says_why(
    clinician_client,
):
    upload = ResultFactory(
        job__upload=UploadFactory(uploaded_by=clinician_client.user)
    ).job.upload
    url = f"/uploads/{upload.pk}/remove/"
    assert f'href="{url}"' not in clinician_client.get("/").content.decode()
    result_page = clinician_client.get(f"/jobs/{upload.jobs.get().pk}/result/")
    assert f'href="{url}"' not in result_page.content.decode()
    page = clinician_client.get(url).content.decode()
    assert "cannot be removed" in page and "has a result" in page
    assert 'name="reason"' not in page
    response = clinician_client.post(url, {"reason": "try anyway", "confirm": "on"})
    assert response.status_code == 400
    assert Upload.objects.get(pk=upload.pk).removed_at is None
    assert not AuditEvent.objects.filter(action="UPLOAD_REMOVED").exists()


def test_a_failed_upload_being_reanalysed_or_confirmed_stays(clinician_client):
    from clinic.models import ConfirmedDiagnosis

    busy = _failed_upload(clinician_client.user, code="B-1")
    AnalysisJobFactory(upload=busy, status=AnalysisJob.Status.QUEUED)
    confirmed = _not_analysable(clinician_client.user, code="B-2")
    ConfirmedDiagnosis.objects.create(
        upload=confirmed, diagnosis="HEALTHY", confirmed_by=clinician_client.user
    )
    for upload, why in ((busy, "still being analysed"), (confirmed, "confirmed")):
        response = clinician_client.post(
            f"/uploads/{upload.pk}/remove/", {"reason": "no longer", "confirm": "on"}
        )
        assert response.status_code == 400
        assert why in response.content.decode()


def test_only_the_owner_or_an_admin_removes_an_upload(client):
    team = TeamFactory(name="neuro")
    owner = make_user("clinician", team=team)
    upload = _failed_upload(owner)
    url = f"/uploads/{upload.pk}/remove/"
    data = {"reason": "duplicate upload", "confirm": "on"}
    client.force_login(make_user("clinician", team=team))  # sees it, not theirs
    assert client.post(url, data).status_code == 403
    client.force_login(make_user("auditor"))  # read-only
    assert client.post(url, data).status_code == 403
    client.force_login(make_user("clinician", team=TeamFactory(name="other")))
    assert client.post(url, data).status_code == 404
    assert Upload.objects.get(pk=upload.pk).removed_at is None
    admin = make_user("admin")
    client.force_login(admin)
    assert client.post(url, data).status_code == 302
    assert Upload.objects.get(pk=upload.pk).removed_by == admin


def test_the_audit_trail_names_a_removed_upload_with_the_reason(client):
    from clinic.services import upload_remove

    owner = make_user("clinician")
    upload = _failed_upload(owner, code="R-1")
    upload_remove(user=owner, upload=upload, reason="sent the wrong muscle")
    client.force_login(make_user("auditor"))
    html = client.get("/audit/", {"action": "UPLOAD_REMOVED"}).content.decode()
    assert "Removed a failed upload" in html
    assert f"Recording {upload.pk} of patient R-1 (removed from the lists)" in html
    assert "sent the wrong muscle" in html


def test_the_django_admin_cannot_delete_an_upload(db, rf):
    from django.contrib import admin as django_admin

    from clinic.admin import UploadAdmin

    superuser = make_user(is_superuser=True, is_staff=True)
    request = rf.get("/admin/")
    request.user = superuser
    upload_admin = UploadAdmin(Upload, django_admin.site)
    assert not upload_admin.has_delete_permission(request, UploadFactory())
