"""Every URL and API endpoint x every role (and a clinician of another team).

Objects a user may not see are 404; actions a role may not take are 403;
anonymous users are sent to the login page (web) or get 401 (API).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import ModelVersion
from tests.clinic.factories import (
    ModelVersionFactory,
    ResultFactory,
    RetrainingRunFactory,
    TeamFactory,
    UploadFactory,
    make_user,
)

ROLES = ("anonymous", "clinician", "other_team_clinician", "auditor", "admin")


@dataclass
class World:
    users: dict
    job_id: int
    upload_id: int
    candidate_id: int
    active_id: int
    run_id: int
    patient: str


@pytest.fixture
def world(db) -> World:
    team_a, team_b = TeamFactory(name="team-a"), TeamFactory(name="team-b")
    users = {
        "anonymous": None,
        "clinician": make_user("clinician", team=team_a),
        "other_team_clinician": make_user("clinician", team=team_b),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }
    old = ModelVersionFactory(status=ModelVersion.Status.RETIRED)
    active = ModelVersionFactory(
        is_active=True, status=ModelVersion.Status.ACTIVE, previous_active=old
    )
    candidate = ModelVersionFactory()
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=users["clinician"]),
        model_version=active,
    )
    run = RetrainingRunFactory(base_model=active, started_by=users["admin"])
    return World(
        users,
        result.job.pk,
        result.job.upload_id,
        candidate.pk,
        active.pk,
        run.pk,
        result.job.upload.patient_code,
    )


def _retraining_data(world: World) -> dict:
    return {
        "base_model": world.active_id,
        "use_emgdb": "on",
        "method": "tl",
        "epochs": 1,
        "learning_rate": 0.001,
        "seed": 0,
    }


def _upload_data(field: str) -> dict:
    return {
        "patient_code": "P-9",
        "muscle": "biceps",
        "side": "LEFT",
        "electrode_type": "SURFACE",
        field: SimpleUploadedFile("rec.csv", b"t,emg\n0,1\n"),
    }


# (name, method, url template, data factory, expected by role)
WEB = [
    ("dashboard", "get", "/", None, (302, 200, 200, 200, 200)),
    ("upload form", "get", "/uploads/new/", None, (302, 200, 200, 403, 403)),
    (
        "upload post",
        "post",
        "/uploads/new/",
        lambda w: _upload_data("files"),
        (302, 302, 302, 403, 403),
    ),
    (
        "reanalyse",
        "post",
        "/uploads/{upload}/reanalyse/",
        None,
        (302, 302, 404, 403, 403),
    ),
    # Clinicians of the team and auditors see a patient's recordings; admins
    # see no uploads (the page is 404 for them, as for another team).
    ("patient page", "get", "/patients/{patient}/", None, (302, 200, 404, 200, 404)),
    # The world's upload has a result: its owner and admins get the page that
    # says why it cannot be removed (400 on POST); auditors are read-only.
    (
        "remove form",
        "get",
        "/uploads/{upload}/remove/",
        None,
        (302, 200, 404, 403, 200),
    ),
    (
        "remove post",
        "post",
        "/uploads/{upload}/remove/",
        lambda w: {"reason": "a test reason", "confirm": "on"},
        (302, 400, 404, 403, 400),
    ),
    ("job page", "get", "/jobs/{job}/", None, (302, 200, 404, 200, 404)),
    ("job status", "get", "/jobs/{job}/status/", None, (302, 200, 404, 200, 404)),
    ("result", "get", "/jobs/{job}/result/", None, (302, 200, 404, 200, 404)),
    ("report", "get", "/jobs/{job}/report/", None, (302, 200, 404, 200, 404)),
    ("export json", "get", "/jobs/{job}/export.json", None, (302, 200, 404, 200, 403)),
    ("export csv", "get", "/jobs/{job}/export.csv", None, (302, 200, 404, 200, 403)),
    (
        "confirm",
        "post",
        "/jobs/{job}/confirm/",
        lambda w: {"diagnosis": "HEALTHY", "confirm": "on"},
        (302, 302, 404, 403, 403),
    ),
    ("models", "get", "/models/", None, (302, 200, 200, 200, 200)),
    (
        "promote",
        "post",
        "/models/{candidate}/promote/",
        lambda w: {"reason": "a test reason", "confirm": "on"},
        (302, 403, 403, 403, 302),
    ),
    (
        "rollback",
        "post",
        "/models/{active}/rollback/",
        lambda w: {"reason": "a test reason", "confirm": "on"},
        (302, 403, 403, 403, 302),
    ),
    ("audit trail", "get", "/audit/", None, (302, 403, 403, 200, 200)),
    ("audit csv", "get", "/audit/export.csv", None, (302, 403, 403, 200, 403)),
    (
        "model report",
        "get",
        "/models/{active}/report/",
        None,
        (302, 403, 403, 200, 200),
    ),
    (
        "model report csv",
        "get",
        "/models/{active}/report.csv",
        None,
        (302, 403, 403, 200, 200),
    ),
    (
        "model report compute",
        "post",
        "/models/{candidate}/report/compute/",
        None,
        (302, 403, 403, 302, 302),
    ),
    ("retraining list", "get", "/retraining/", None, (302, 403, 403, 403, 200)),
    ("retraining form", "get", "/retraining/new/", None, (302, 403, 403, 403, 200)),
    (
        "retraining start",
        "post",
        "/retraining/new/",
        _retraining_data,
        (302, 403, 403, 403, 302),
    ),
    ("retraining page", "get", "/retraining/{run}/", None, (302, 404, 404, 404, 200)),
    (
        "retraining status",
        "get",
        "/retraining/{run}/status/",
        None,
        (302, 404, 404, 404, 200),
    ),
    # GET: the confirmation page; POST needs its tick (tests/clinic/test_views_jobs.py).
    (
        "retraining cancel form",
        "get",
        "/retraining/{run}/cancel/",
        None,
        (302, 403, 403, 403, 200),
    ),
    (
        "retraining cancel",
        "post",
        "/retraining/{run}/cancel/",
        lambda w: {"confirm": "on"},
        (302, 403, 403, 403, 302),
    ),
    ("password", "get", "/accounts/password/", None, (302, 200, 200, 200, 200)),
]
API = [
    (
        "api upload",
        "post",
        "/api/v1/recordings",
        lambda w: _upload_data("file"),
        (401, 202, 202, 403, 403),
    ),
    ("api job", "get", "/api/v1/jobs/{job}", None, (401, 200, 404, 200, 404)),
    ("api models", "get", "/api/v1/models", None, (401, 200, 200, 200, 200)),
    (
        "api promote",
        "post",
        "/api/v1/models/{candidate}/promote",
        lambda w: {"reason": "a test reason"},
        (401, 403, 403, 403, 200),
    ),
    (
        "api rollback",
        "post",
        "/api/v1/models/{active}/rollback",
        lambda w: {"reason": "a test reason"},
        (401, 403, 403, 403, 200),
    ),
    ("api schema", "get", "/api/v1/schema", None, (401, 200, 200, 200, 200)),
    (
        "api retraining start",
        "post",
        "/api/v1/retraining",
        _retraining_data,
        (401, 403, 403, 403, 202),
    ),
    (
        "api retraining",
        "get",
        "/api/v1/retraining/{run}",
        None,
        (401, 403, 403, 403, 200),
    ),
]
CASES = [
    pytest.param(name, method, url, data, expected, id=name)
    for name, method, url, data, expected in WEB + API
]


@pytest.mark.parametrize("name,method,url,data,expected", CASES)
def test_permission_matrix(client, world, name, method, url, data, expected):
    # Roles run in ROLES order; only the last (admin) may change models, so
    # earlier requests see the same state.
    path = url.format(
        job=world.job_id,
        upload=world.upload_id,
        candidate=world.candidate_id,
        active=world.active_id,
        run=world.run_id,
        patient=world.patient,
    )
    got = {}
    for role in ROLES:
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        response = getattr(client, method)(path, data(world) if data else {})
        got[role] = response.status_code
        if role == "anonymous" and response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
    assert got == dict(zip(ROLES, expected, strict=True))


def test_the_health_endpoint_is_public_for_load_balancers(client, db):
    assert client.get("/health/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/999999/",
        "/jobs/999999/result/",
        "/api/v1/jobs/999999",
        "/jobs/999999/export.json",
    ],
)
def test_unknown_objects_are_404(client, world, path):
    client.force_login(world.users["clinician"])
    assert client.get(path).status_code == 404


def test_every_url_is_in_the_matrix():
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    routes = {
        r for r in walk(get_resolver().url_patterns) if not r.startswith("admin/")
    }
    covered = {
        url.strip("/")
        .replace("{job}", "<int:job_id>")
        .replace("{upload}", "<int:upload_id>")
        .replace("{candidate}", "<int:model_version_id>")
        .replace("{active}", "<int:model_version_id>")
        .replace("{run}", "<int:run_id>")
        .replace("{patient}", "<str:patient_code>")
        for _n, _m, url, _d, _e in WEB + API
    }
    exempt = {
        "health/",
        "accounts/login/",
        "accounts/logout/",
        "accounts/password/done/",
        # Need a real analysed recording; their role and team rules (200 / 404 for
        # another team / 403 without export rights) are in tests/clinic/test_fhir.py.
        "api/v1/results/<int:result_id>/fhir",
        "api/v1/recordings/<int:upload_id>/files/<int:file_id>",
        # For scrapers, not roles: allowed addresses or a bearer token
        # (tests/clinic/test_metrics.py).
        "metrics",
    }
    # The gesture app's pages and API have their own matrix
    # (tests/clinic/test_gestures_views.py, test_gestures_api.py).
    gestures = ("gestures/", "api/v1/gestures/")
    missing = {
        r
        for r in routes
        if r.strip("/") not in covered
        and r not in exempt
        and not r.startswith(gestures)
    }
    assert missing == set()


def test_auditors_see_every_teams_uploads_and_team_less_ones_read_only(client, db):
    """The decision of docs/SECURITY.md ("Who sees what"): an auditor's scope is
    every upload, of every team and of users in no team (whose uploads no other
    clinician sees, so only an auditor can review them), and nothing changes."""
    loner = make_user("clinician")  # in no team
    UploadFactory(
        uploaded_by=make_user("clinician", team=TeamFactory(name="team-c")),
        patient_code="AUD-TEAM",
    )
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=loner, patient_code="AUD-LONE")
    )
    lone_upload = result.job.upload
    assert lone_upload.team is None
    client.force_login(make_user("auditor"))
    listing = client.get("/", {"patient": "AUD-"}).content.decode()
    assert "AUD-TEAM" in listing and "AUD-LONE" in listing
    assert client.get("/patients/AUD-LONE/").status_code == 200
    assert client.get(f"/jobs/{result.job.pk}/result/").status_code == 200
    # Read-only: no re-analysis, removal or confirmed diagnosis.
    assert client.post(f"/uploads/{lone_upload.pk}/reanalyse/").status_code == 403
    removal = {"reason": "audit test", "confirm": "on"}
    remove_url = f"/uploads/{lone_upload.pk}/remove/"
    assert client.post(remove_url, removal).status_code == 403
    confirm = {"diagnosis": "HEALTHY", "confirm": "on"}
    confirm_url = f"/jobs/{result.job.pk}/confirm/"
    assert client.post(confirm_url, confirm).status_code == 403
    # A clinician of a team sees neither the loner's upload nor another team's.
    client.force_login(make_user("clinician", team=TeamFactory(name="team-d")))
    listing = client.get("/", {"patient": "AUD-"}).content.decode()
    assert "AUD-TEAM" not in listing and "AUD-LONE" not in listing
    assert client.get(f"/jobs/{result.job.pk}/").status_code == 404
