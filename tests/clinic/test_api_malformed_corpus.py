"""Every case of the malformed-recording corpus, through the JSON API (issue 14).

Each case is uploaded to ``POST /api/v1/recordings`` with a token, and an
accepted upload's job is run (``analysis_run``, as the worker does). Either the
upload is refused with a 4xx and a plain field error, or the job ends FAILED
with a plain message saying what is wrong, or it succeeds as not analysable;
never a 5xx, and no Python-internal text in any response body or on the job's
web page. The library side is tests/emgcore/test_malformed_corpus.py.

The corpus is built once per module; each case is one parametrized test.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.errors import GENERIC_ANALYSIS_ERROR
from clinic.models import AnalysisJob
from clinic.services import analysis_run
from clinic.services.users import api_token_create
from tests.clinic.factories import make_user
from tests.emgcore.malformed_corpus import PYTHON_INTERNALS, Case, all_cases

pytestmark = pytest.mark.django_db

CASES = all_cases()
IDS = [c.name for c in CASES]
# Cases the upload form refuses although the reader would take them: none since
# the form accepts the data file a header names (.bin included, clinic.forms).
REFUSED_AT_UPLOAD: set[str] = set()
GENERIC = GENERIC_ANALYSIS_ERROR.split("{")[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, list[tuple[str, bytes]]]:
    """Each case's files as (name, bytes), built once for the module."""
    root = tmp_path_factory.mktemp("corpus")
    built = {}
    for i, case in enumerate(CASES):
        folder = root / f"{i:03d}"
        folder.mkdir()
        built[case.name] = [(p.name, p.read_bytes()) for p in case.build(folder)]
    return built


def python_text(text: str) -> list[str]:
    return [t for t in PYTHON_INTERNALS if t.lower() in text.lower()]


def assert_plain(text: str, case: Case, where: str) -> None:
    leaked = python_text(text)
    assert not leaked, f"{case.name}: Python text {leaked} in the {where}: {text}"


@pytest.fixture
def clinician():
    cache.clear()  # the upload throttle counts per user; start each case afresh
    return make_user("clinician")


def _upload(user, files: list[tuple[str, bytes]], case: Case):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(username=user.username)}"
    )
    data = {
        "file": [SimpleUploadedFile(name, content) for name, content in files],
        "patient_code": "CORPUS-1",
    }
    if case.sfreq is not None:
        data["sfreq_hz"] = str(case.sfreq)
    return client, client.post("/api/v1/recordings", data, format="multipart")


def test_the_api_sees_the_whole_corpus(corpus):
    assert len([c for c in CASES if c.refuse]) >= 50
    assert set(corpus) == set(IDS)
    assert REFUSED_AT_UPLOAD <= set(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_api_refuses_or_fails_in_plain_language(
    case, corpus, clinician, active_model, client
):
    api, response = _upload(clinician, corpus[case.name], case)
    body = response.content.decode()
    assert response.status_code < 500, f"{case.name}: {response.status_code} {body}"
    assert_plain(body, case, "upload response")
    if response.status_code != 202:
        assert 400 <= response.status_code < 500
        assert case.refuse or case.name in REFUSED_AT_UPLOAD, (
            f"{case.name} is valid but the upload was refused: {body}"
        )
        errors = response.json()["errors"]
        messages = [m for field in errors.values() for m in field]
        assert messages and all(len(m) > 10 for m in messages), body
        assert AnalysisJob.objects.count() == 0
        return
    assert case.name not in REFUSED_AT_UPLOAD, f"{case.name} was accepted"

    job_id = response.json()["job_id"]
    analysis_run(job_id=job_id)
    status = api.get(f"/api/v1/jobs/{job_id}")
    assert status.status_code == 200, status.content
    status_body = status.content.decode()
    assert_plain(status_body, case, "job JSON")
    payload = json.loads(status_body)
    assert payload["finished"], payload
    if payload["status"] == "FAILED":
        message = payload["error"]
        assert message and not message.startswith(GENERIC), (
            f"{case.name}: an application error, not a plain refusal: {message}"
        )
        if case.refuse and case.says:
            assert re.search(case.says, message), (
                f"{case.name}: the message does not say {case.says!r}: {message}"
            )
        assert "myolens-job" not in message, "the server's temp folder is named"
    else:
        assert payload["status"] == "SUCCEEDED", payload
        result = payload["result"]
        if case.refuse:
            # Read, but judged not analysable: a reason and no diagnosis.
            assert result["label"] == "not_analysable", (
                f"{case.name} was analysed: {result['label']}"
            )
            assert result["message"] and result["probabilities"] is None

    # What a clinician sees on the web for the same job.
    client.force_login(clinician)
    pages = [reverse("job_detail", args=[job_id])]
    if payload["status"] == "SUCCEEDED":
        pages.append(reverse("job_result", args=[job_id]))
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert_plain(page.content.decode(), case, f"page {url}")
    if payload["status"] == "FAILED":
        html = client.get(pages[0]).content.decode()
        assert payload["error"].split("'")[0][:40] in html.replace("&#x27;", "'")
