"""Gesture pages: status codes, every role (and another team), form errors."""

from __future__ import annotations

import hashlib
import html as htmllib
import json
from dataclasses import dataclass

import pytest

from clinic.gestures.models import GestureSession
from clinic.models import AuditEvent
from tests.clinic.factories import TeamFactory, make_user

# Fixtures: tiny_gesture_checkpoint, gesture_model, person_file, person_path,
# fast_adaptation, make_gesture_session.

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "clinician", "other_team_clinician", "auditor", "admin")


@dataclass
class World:
    users: dict
    done_id: int
    running_id: int


@pytest.fixture
def world(gesture_model, make_gesture_session) -> World:
    team_a, team_b = TeamFactory(name="team-a"), TeamFactory(name="team-b")
    users = {
        "anonymous": None,
        "clinician": make_user("clinician", team=team_a),
        "other_team_clinician": make_user("clinician", team=team_b),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }
    done = make_gesture_session(
        user=users["clinician"], gesture_model=gesture_model, status="SUCCEEDED"
    )
    running = make_gesture_session(
        user=users["clinician"],
        gesture_model=gesture_model,
        status="RUNNING",
        progress=40,
        person_code="G-2",
    )
    return World(users, done.pk, running.pk)


def _client(client, world: World, role: str):
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


# URL -> expected status per role (302 = to the login page).
PAGES = {
    "/gestures/": (302, 200, 200, 200, 200),
    "/gestures/new/": (302, 200, 200, 403, 200),
    "/gestures/models/": (302, 200, 200, 200, 200),
    "/gestures/{done}/": (302, 200, 404, 200, 404),
    "/gestures/{running}/status/": (302, 200, 404, 200, 404),
}


@pytest.mark.parametrize("url", list(PAGES))
@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
def test_every_page_answers_each_role_as_expected(client, world, url, role_index, role):
    path = url.format(done=world.done_id, running=world.running_id)
    response = _client(client, world, role).get(path)
    assert response.status_code == PAGES[url][role_index], (role, path)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


# Method, URL -> expected status per role; bodies are invalid so nothing is
# created (400 = the role may post, 403 = it may not).
ACTIONS = {
    ("post", "/gestures/new/"): (302, 400, 400, 403, 400),
    # This session row has no stored file; a real download is tested below.
    ("get", "/gestures/{done}/checkpoint.pt"): (302, 404, 404, 404, 404),
    ("get", "/api/v1/gestures/models"): (401, 200, 200, 200, 200),
    ("get", "/api/v1/gestures/sessions/{done}"): (401, 200, 404, 200, 404),
    ("post", "/api/v1/gestures/sessions"): (401, 400, 400, 403, 400),
    ("get", "/api/v1/gestures/sessions"): (401, 200, 200, 200, 200),
}


@pytest.mark.parametrize("method,url", list(ACTIONS))
def test_every_action_and_api_endpoint_answers_each_role(client, world, method, url):
    path = url.format(done=world.done_id)
    got = {}
    for role in ROLES:
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        got[role] = getattr(client, method)(path, {"person_code": "x y"}).status_code
    assert got == dict(zip(ROLES, ACTIONS[(method, url)], strict=True))


def test_the_nav_link_shows_for_the_roles_that_may_use_it(client, world):
    page = _client(client, world, "clinician").get("/")
    assert b'href="/gestures/"' in page.content
    nobody = make_user(None)
    client.force_login(nobody)
    assert b'href="/gestures/"' not in client.get("/").content
    assert client.get("/gestures/").status_code == 403


def test_the_list_shows_a_teams_sessions_with_accuracy(client, world):
    page = _client(client, world, "clinician").get("/gestures/")
    assert b"G-1" in page.content and b"G-2" in page.content
    assert "25 % → 75 %" in page.content.decode()
    other = client.get("/gestures/?person=G-2")
    assert b"G-1" not in other.content and b"G-2" in other.content


def test_another_team_sees_no_sessions_in_the_list(client, world):
    page = _client(client, world, "other_team_clinician").get("/gestures/")
    assert b"G-1" not in page.content and b"No gesture sessions" in page.content


def test_a_running_session_page_polls_its_status(client, world):
    page = _client(client, world, "clinician").get(f"/gestures/{world.running_id}/")
    html = page.content.decode()
    assert f'data-status-url="/gestures/{world.running_id}/status/"' in html
    assert "<progress" in html and "js/job.js" in html
    status = client.get(f"/gestures/{world.running_id}/status/").json()
    assert status["status"] == "RUNNING" and status["progress"] == 40
    assert status["finished"] is False and status["report"] is None


def test_a_finished_session_shows_accuracy_and_the_confusion_matrices(client, world):
    page = _client(client, world, "auditor").get(f"/gestures/{world.done_id}/")
    html = page.content.decode()
    assert 'id="accuracy-before">0.250<' in html
    assert 'id="accuracy-after">0.750<' in html
    assert (
        '<dd id="train-windows">650: the recorded windows and 4 copies of each with '
        "random electrode gains; whole trials, retrained for the 2 epochs early "
        "stopping chose</dd>" in html
    )
    assert "<td>early stopping</td><td>1</td>" in html
    assert "<td>whole trials</td><td>1</td>" in html
    assert "js/job.js" not in html  # finished: no polling
    figure_json = html.split('id="figure-data" type="application/json">')[1]
    figure = json.loads(figure_json.split("</script>")[0])
    assert [t["type"] for t in figure["data"]] == ["heatmap", "heatmap"]
    assert figure["data"][1]["z"][0][0] == 1.0  # after: all windows right
    viewed = AuditEvent.objects.get(action="VIEWED")
    assert (viewed.object_type, viewed.object_id) == (
        "gesturesession",
        str(world.done_id),
    )
    status = client.get(f"/gestures/{world.done_id}/status/").json()
    assert status["result_url"] == f"/gestures/{world.done_id}/"
    assert status["report"]["accuracy_after"] == 0.75


def test_the_adapted_checkpoint_downloads_and_is_audited(
    client, gesture_model, person_file, fast_adaptation
):
    from clinic.gestures import services

    user = make_user("clinician")
    session = services.gesture_session_create(
        user=user,
        base_model=gesture_model,
        layout="myo-readings",
        files=[person_file()],
        person_code="G-DL",
        k=1,
    )
    services.gesture_adaptation_run(session_id=session.pk)
    client.force_login(user)
    response = client.get(f"/gestures/{session.pk}/checkpoint.pt")
    assert response.status_code == 200
    session.refresh_from_db()
    assert (
        f"gesture-G-DL-{session.adapted_sha256[:12]}.pt"
        in (response["Content-Disposition"])
    )
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == session.adapted_sha256
    assert AuditEvent.objects.filter(action="EXPORTED").count() == 1
    other = make_user("clinician", team=TeamFactory(name="team-x"))
    client.force_login(other)
    assert client.get(f"/gestures/{session.pk}/checkpoint.pt").status_code == 404
    # The adaptation itself is on the audit trail.
    client.force_login(make_user("auditor"))
    trail = client.get("/audit/").content.decode()
    assert "Adapted gesture model" in trail
    assert f"Gesture session {session.pk}" in trail


def test_an_unfinished_session_has_no_checkpoint_to_download(client, world):
    response = _client(client, world, "clinician").get(
        f"/gestures/{world.running_id}/checkpoint.pt"
    )
    assert response.status_code == 404


def _form(gesture_model, **extra):
    data = {
        "base_model": gesture_model.pk,
        "layout": "myo-readings",
        "person_code": "G-77",
        "k": 1,
    }
    data.update(extra)
    return data


def test_a_valid_form_creates_a_queued_session_and_redirects(
    client, gesture_model, person_file
):
    user = make_user("clinician")
    client.force_login(user)
    response = client.post(
        "/gestures/new/", _form(gesture_model, files=[person_file()])
    )
    session = GestureSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/gestures/{session.pk}/"
    assert session.status == "QUEUED" and session.created_by == user
    assert session.files.get().original_name == "44444-1.npz"


@pytest.mark.parametrize(
    "extra,field,message",
    [
        ({"person_code": "Jane Doe"}, "person_code", "letters, digits"),
        ({"k": 0}, "k", "greater than or equal to 1"),
        ({"k": 11}, "k", "less than or equal to 10"),
        ({"files": None}, "files", "Choose the calibration recording"),
        ({"layout": "csv"}, "sfreq_hz", "CSV files need their sampling rate"),
        ({"layout": "ninapro"}, "files", "takes .mat files"),
        ({"layout": "uci-emg-gestures"}, "layout", "'myo-readings' file layout"),
    ],
)
def test_form_errors_are_shown_beside_their_field(
    client, gesture_model, person_file, extra, field, message
):
    client.force_login(make_user("clinician"))
    data = _form(gesture_model, files=[person_file()])
    data.update(extra)
    if data["files"] is None:
        del data["files"]
    response = client.post("/gestures/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html, html[:3000]
    error_block = html.split(f'id="id_{field}_error"')[1].split("</ul>")[0]
    error_block = htmllib.unescape(error_block)
    assert message in error_block
    assert not GestureSession.objects.exists()


def test_the_models_page_shows_the_model_card_facts(client, gesture_model):
    client.force_login(make_user("auditor"))
    html = client.get("/gestures/models/").content.decode()
    assert gesture_model.sha256 in html and "rest, flexion" in html


def test_roles_sync_keeps_the_gesture_permissions(db):
    from django.contrib.auth.models import Group

    from clinic.roles import roles_sync

    Group.objects.get(name="clinician").permissions.clear()
    roles_sync()
    clinician, auditor = make_user("clinician"), make_user("auditor")
    assert clinician.has_perm("gestures.add_gesturesession")
    assert not clinician.has_perm("gestures.view_all_gesturesessions")
    assert auditor.has_perm("gestures.view_all_gesturesessions")
    assert not auditor.has_perm("gestures.add_gesturesession")


def test_a_failed_session_shows_the_message_and_a_way_to_start_again(
    client, gesture_model, make_gesture_session
):
    user = make_user("clinician")
    failed = make_gesture_session(
        user=user,
        gesture_model=gesture_model,
        status="FAILED",
        error_message="44444-1.npz: no emg_k arrays; not a session file.",
    )
    client.force_login(user)
    html = client.get(f"/gestures/{failed.pk}/").content.decode()
    assert "no emg_k arrays" in html and 'href="/gestures/new/"' in html
    assert "js/job.js" not in html and 'id="accuracy-after"' not in html
